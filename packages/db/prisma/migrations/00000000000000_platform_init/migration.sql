-- The platform tables (platform.prisma), applied to every service's database before its own migrations. Written
-- to change nothing where they exist already: databases migrated before these migrations moved here made them
-- through each app's own init migration. (The engine runs a script statement by statement, split at semicolons:
-- no DO blocks, so a foreign key is dropped if it exists and added again.)

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_outbox" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "correlation_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_outbox_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_processed_message" (
    "queue" TEXT NOT NULL,
    "message_id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_processed_message_pkey" PRIMARY KEY ("queue","message_id")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_api_user" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "is_admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_api_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_api_token" (
    "digest" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "tidings_api_token_pkey" PRIMARY KEY ("digest")
);

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "tidings_outbox_id_key" ON "tidings_outbox"("id");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_processed_message_processed_at_idx" ON "tidings_processed_message"("processed_at");

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "tidings_api_user_email_key" ON "tidings_api_user"("email");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_api_token_user_id_idx" ON "tidings_api_token"("user_id");

-- AddForeignKey
ALTER TABLE "tidings_api_token" DROP CONSTRAINT IF EXISTS "tidings_api_token_user_id_fkey";
ALTER TABLE "tidings_api_token" ADD CONSTRAINT "tidings_api_token_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "tidings_api_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;
