-- AlterTable
ALTER TABLE "messageset_policy" ADD COLUMN     "sending_window" JSONB;
