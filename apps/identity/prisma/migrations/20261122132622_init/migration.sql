-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "tidings_outbox" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "correlation_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_outbox_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "tidings_processed_message" (
    "queue" TEXT NOT NULL,
    "message_id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_processed_message_pkey" PRIMARY KEY ("queue","message_id")
);

-- CreateTable
CREATE TABLE "tidings_api_user" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "is_admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_api_user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tidings_api_token" (
    "digest" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "tidings_api_token_pkey" PRIMARY KEY ("digest")
);

-- CreateTable
CREATE TABLE "identity" (
    "id" UUID NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "details" JSONB NOT NULL,
    "communicate_through" UUID,
    "operator" UUID,
    "failed_message_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" INTEGER,

    CONSTRAINT "identity_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tidings_outbox_id_key" ON "tidings_outbox"("id");

-- CreateIndex
CREATE INDEX "tidings_processed_message_processed_at_idx" ON "tidings_processed_message"("processed_at");

-- CreateIndex
CREATE UNIQUE INDEX "tidings_api_user_email_key" ON "tidings_api_user"("email");

-- CreateIndex
CREATE INDEX "tidings_api_token_user_id_idx" ON "tidings_api_token"("user_id");

-- CreateIndex
CREATE INDEX "identity_created_at_idx" ON "identity"("created_at" DESC);

-- CreateIndex
CREATE INDEX "identity_communicate_through_idx" ON "identity"("communicate_through");

-- CreateIndex
CREATE INDEX "identity_operator_idx" ON "identity"("operator");

-- AddForeignKey
ALTER TABLE "tidings_api_token" ADD CONSTRAINT "tidings_api_token_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "tidings_api_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity" ADD CONSTRAINT "identity_communicate_through_fkey" FOREIGN KEY ("communicate_through") REFERENCES "identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity" ADD CONSTRAINT "identity_operator_fkey" FOREIGN KEY ("operator") REFERENCES "identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;
