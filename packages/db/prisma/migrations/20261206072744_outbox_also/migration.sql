-- AlterTable
ALTER TABLE "tidings_outbox" ADD COLUMN     "also" JSONB;
