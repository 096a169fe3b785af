-- AlterTable
ALTER TABLE "inbound" ADD COLUMN     "reply_to" UUID;
