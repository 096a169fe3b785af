-- A no-op where the columns exist already (see 00000000000000_platform_init).

-- AlterTable
ALTER TABLE "tidings_api_token" ADD COLUMN IF NOT EXISTS "expires_at" TIMESTAMPTZ(3),
ADD COLUMN IF NOT EXISTS "id" SERIAL NOT NULL,
ADD COLUMN IF NOT EXISTS "prefix" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "tidings_api_token_id_key" ON "tidings_api_token"("id");
