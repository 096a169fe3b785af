-- AlterTable
ALTER TABLE "address_book_entry" ADD COLUMN     "voice_days" VARCHAR(64),
ADD COLUMN     "voice_times" VARCHAR(64);
