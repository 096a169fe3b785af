-- A no-op where the tables exist already (see 00000000000000_platform_init).

-- AlterTable
ALTER TABLE "tidings_api_token" ADD COLUMN IF NOT EXISTS "allow_list" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN IF NOT EXISTS "daily_limit" INTEGER,
ADD COLUMN IF NOT EXISTS "kind" TEXT NOT NULL DEFAULT 'live',
ADD COLUMN IF NOT EXISTS "rate_limit" INTEGER;

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_api_token_usage" (
    "digest" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "tidings_api_token_usage_pkey" PRIMARY KEY ("digest","day")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_idempotency_key" (
    "principal" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "status_code" INTEGER,
    "content_type" TEXT,
    "response_body" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "tidings_idempotency_key_pkey" PRIMARY KEY ("principal","method","path","key")
);

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_api_token_usage_day_idx" ON "tidings_api_token_usage"("day");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_idempotency_key_created_at_idx" ON "tidings_idempotency_key"("created_at");

-- AddForeignKey
ALTER TABLE "tidings_api_token_usage" DROP CONSTRAINT IF EXISTS "tidings_api_token_usage_digest_fkey";
ALTER TABLE "tidings_api_token_usage" ADD CONSTRAINT "tidings_api_token_usage_digest_fkey" FOREIGN KEY ("digest") REFERENCES "tidings_api_token"("digest") ON DELETE CASCADE ON UPDATE CASCADE;
