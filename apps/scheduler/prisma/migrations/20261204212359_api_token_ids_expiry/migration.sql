-- AlterTable
ALTER TABLE "tidings_api_token" ADD COLUMN     "expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "id" SERIAL NOT NULL,
ADD COLUMN     "prefix" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "tidings_api_token_id_key" ON "tidings_api_token"("id");
