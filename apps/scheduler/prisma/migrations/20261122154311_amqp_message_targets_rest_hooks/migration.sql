-- The hook tables this migration made (tidings_hook, tidings_hook_delivery, their indexes and foreign key) are
-- made by packages/hooks/prisma/migrations, applied before this app's migrations, where they do not exist yet.

-- AlterTable
ALTER TABLE "schedule" ADD COLUMN     "message" TEXT;
