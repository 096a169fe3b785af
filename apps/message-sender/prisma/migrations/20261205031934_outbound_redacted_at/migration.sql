-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "redacted_at" TIMESTAMPTZ(3);
