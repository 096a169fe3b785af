-- AlterTable
ALTER TABLE "schedule" ADD COLUMN     "forgotten_at" TIMESTAMPTZ(3);
-- Set by a forget (when it last took a person out of the schedule): HTTP deliveries of slots fired before it
-- are dropped.
