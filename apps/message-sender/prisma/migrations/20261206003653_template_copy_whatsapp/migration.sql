-- AlterTable
ALTER TABLE "template_copy" ADD COLUMN     "whatsapp" JSONB;
