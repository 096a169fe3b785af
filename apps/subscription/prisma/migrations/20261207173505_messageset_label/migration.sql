-- AlterTable
ALTER TABLE "messageset_copy" ADD COLUMN     "label" TEXT NOT NULL DEFAULT '';
