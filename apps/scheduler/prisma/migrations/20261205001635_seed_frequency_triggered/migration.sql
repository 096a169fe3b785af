-- AlterTable
ALTER TABLE "schedule" ADD COLUMN     "frequency" INTEGER,
ADD COLUMN     "triggered" INTEGER NOT NULL DEFAULT 0;
