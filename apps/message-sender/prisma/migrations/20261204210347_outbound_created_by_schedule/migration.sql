-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "created_by_schedule" UUID;
