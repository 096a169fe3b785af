-- CreateTable
CREATE TABLE "played_call" (
    "channel" VARCHAR(64) NOT NULL,
    "provider_id" TEXT NOT NULL,
    "outbound_id" VARCHAR(64) NOT NULL,
    "played_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "played_call_pkey" PRIMARY KEY ("channel","provider_id")
);
