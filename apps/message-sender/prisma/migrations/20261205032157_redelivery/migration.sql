-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "attempt_base" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "channel" ADD COLUMN     "redelivery" JSONB;

-- AlterTable
ALTER TABLE "early_report" ADD COLUMN     "kind" VARCHAR(32);

-- CreateTable
CREATE TABLE "outbound_past_attempt" (
    "channel" VARCHAR(64) NOT NULL,
    "provider_id" TEXT NOT NULL,
    "outbound_id" UUID NOT NULL,
    "reason" TEXT,
    "ended_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbound_past_attempt_pkey" PRIMARY KEY ("channel","provider_id")
);

-- CreateIndex
CREATE INDEX "outbound_past_attempt_outbound_id_idx" ON "outbound_past_attempt"("outbound_id");

-- AddForeignKey
ALTER TABLE "outbound_past_attempt" ADD CONSTRAINT "outbound_past_attempt_outbound_id_fkey" FOREIGN KEY ("outbound_id") REFERENCES "outbound"("id") ON DELETE CASCADE ON UPDATE CASCADE;
