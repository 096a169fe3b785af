-- AlterTable: Seed's transport_name (for the rows stored before: their channel), transport_type and updated_at
ALTER TABLE "inbound" ADD COLUMN     "transport_name" VARCHAR(200),
ADD COLUMN     "transport_type" VARCHAR(200),
ADD COLUMN     "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
UPDATE "inbound" SET "transport_name" = "channel", "transport_type" = left("helper_metadata"->>'transport_type', 200), "updated_at" = "created_at";

-- CreateIndex
CREATE INDEX "outbound_provider_id_idx" ON "outbound"("provider_id");
