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
CREATE TABLE "subscription" (
    "id" UUID NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "identity" UUID NOT NULL,
    "messageset" INTEGER NOT NULL,
    "next_sequence_number" INTEGER NOT NULL DEFAULT 1,
    "initial_sequence_number" INTEGER NOT NULL DEFAULT 1,
    "lang" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "completed" BOOLEAN NOT NULL DEFAULT false,
    "schedule" INTEGER NOT NULL,
    "process_status" INTEGER NOT NULL DEFAULT 0,
    "metadata" JSONB DEFAULT '{}',
    "last_slot" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" INTEGER,

    CONSTRAINT "subscription_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schedule_copy" (
    "id" INTEGER NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "version" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "schedule_copy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messageset_copy" (
    "id" INTEGER NOT NULL,
    "short_name" TEXT NOT NULL,
    "next_set" INTEGER,
    "default_schedule" INTEGER NOT NULL,
    "content_type" TEXT NOT NULL,
    "channel" TEXT,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "version" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "messageset_copy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_copy" (
    "id" INTEGER NOT NULL,
    "messageset" INTEGER NOT NULL,
    "sequence_number" INTEGER NOT NULL,
    "lang" TEXT NOT NULL,
    "text_content" TEXT,
    "binary_content" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "version" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "message_copy_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "subscription_schedule_id_idx" ON "subscription"("schedule", "id");

-- CreateIndex
CREATE INDEX "subscription_identity_idx" ON "subscription"("identity");

-- CreateIndex
CREATE INDEX "subscription_created_at_idx" ON "subscription"("created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "message_copy_messageset_sequence_number_lang_key" ON "message_copy"("messageset", "sequence_number", "lang");

-- AddForeignKey
ALTER TABLE "tidings_api_token" ADD CONSTRAINT "tidings_api_token_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "tidings_api_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The fan-out's keyset scan reads only ready subscriptions of one schedule (not expressible in Prisma).
CREATE INDEX "subscription_ready_idx" ON "subscription"("schedule", "id")
  WHERE "active" AND NOT "completed" AND "process_status" = 0;
