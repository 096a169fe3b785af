-- AlterTable
ALTER TABLE "template" ADD COLUMN     "whatsapp" JSONB;

-- AlterTable
ALTER TABLE "template_version" ADD COLUMN     "whatsapp" JSONB;
