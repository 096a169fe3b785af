-- AlterTable
ALTER TABLE "tidings_outbox" ADD COLUMN     "trace_context" JSONB;
