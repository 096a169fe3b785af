-- Which subscription sent an outbound, and which message of its set it is (outbound.send's created_by_subscription
-- and sequence_number, set by the subscription service on its stage-based sends and resends): null for any other.
-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "created_by_subscription" UUID,
ADD COLUMN     "sequence_number" INTEGER;

-- Hand-edited: partial, as the other optional columns' (migration outbound_hot_updates), so a send with no
-- subscription (a hub's, a topic's, a code) adds no entry to it. A stage-based send adds one at its insert and at
-- each write that is not a HOT update. It serves `GET /api/v1/outbound/?created_by_subscription=`, whose `= $1`
-- implies IS NOT NULL. Same name as Prisma's, so the schema's @@index line still names it.
-- CreateIndex
CREATE INDEX "outbound_created_by_subscription_idx" ON "outbound"("created_by_subscription") WHERE "created_by_subscription" IS NOT NULL;
