-- CreateTable
CREATE TABLE "archive_purge" (
    "identity" UUID NOT NULL,
    "address_digests" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "archive_purge_pkey" PRIMARY KEY ("identity")
);
