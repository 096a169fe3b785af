-- AlterTable
ALTER TABLE "channel" ADD COLUMN     "daily_cap" INTEGER;

-- CreateTable
CREATE TABLE "daily_cap_count" (
    "identity" UUID NOT NULL,
    "day" DATE NOT NULL,
    "sent" INTEGER NOT NULL,

    CONSTRAINT "daily_cap_count_pkey" PRIMARY KEY ("identity","day")
);

-- CreateTable
CREATE TABLE "daily_cap_send" (
    "outbound_id" UUID NOT NULL,
    "identity" UUID NOT NULL,
    "day" DATE NOT NULL,

    CONSTRAINT "daily_cap_send_pkey" PRIMARY KEY ("outbound_id")
);

-- CreateTable
CREATE TABLE "outbound_part" (
    "channel" VARCHAR(64) NOT NULL,
    "provider_id" TEXT NOT NULL,
    "main_provider_id" TEXT,
    "outbound_id" UUID,
    "part" INTEGER,
    "status" "outbound_status" NOT NULL DEFAULT 'submitted',
    "reason" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbound_part_pkey" PRIMARY KEY ("channel","provider_id")
);

-- CreateIndex
CREATE INDEX "daily_cap_count_day_idx" ON "daily_cap_count"("day");

-- CreateIndex
CREATE INDEX "daily_cap_send_day_idx" ON "daily_cap_send"("day");

-- CreateIndex
CREATE INDEX "outbound_part_channel_main_provider_id_idx" ON "outbound_part"("channel", "main_provider_id");

-- CreateIndex
CREATE INDEX "outbound_part_outbound_id_idx" ON "outbound_part"("outbound_id");

-- AddForeignKey
ALTER TABLE "outbound_part" ADD CONSTRAINT "outbound_part_outbound_id_fkey" FOREIGN KEY ("outbound_id") REFERENCES "outbound"("id") ON DELETE CASCADE ON UPDATE CASCADE;
