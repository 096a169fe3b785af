-- CreateTable
CREATE TABLE "stopped_identity" (
    "identity" UUID NOT NULL,
    "stopped" BOOLEAN NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stopped_identity_pkey" PRIMARY KEY ("identity")
);
