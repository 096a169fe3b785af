-- AlterTable
ALTER TABLE "topic_publish" ADD COLUMN     "handed_on" INTEGER;
