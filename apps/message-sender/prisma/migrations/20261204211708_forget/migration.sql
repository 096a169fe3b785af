-- AlterTable
ALTER TABLE "address_book_entry" ADD COLUMN     "forgotten_at" TIMESTAMPTZ(3);
