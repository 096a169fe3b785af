-- CreateEnum
CREATE TYPE "outbound_priority" AS ENUM ('high', 'normal', 'bulk');

-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "not_before" TIMESTAMPTZ(3),
ADD COLUMN     "priority" "outbound_priority" NOT NULL DEFAULT 'normal',
ADD COLUMN     "sending_window" JSONB;

-- AlterTable
ALTER TABLE "address_book_entry" ADD COLUMN     "timezone" VARCHAR(64);

-- AlterTable
ALTER TABLE "channel" ADD COLUMN     "sending_window" JSONB;

-- CreateIndex
CREATE INDEX "outbound_not_before_idx" ON "outbound"("not_before");

-- CreateIndex
CREATE INDEX "outbound_expires_at_idx" ON "outbound"("expires_at");
