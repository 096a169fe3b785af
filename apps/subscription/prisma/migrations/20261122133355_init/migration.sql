-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

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
CREATE INDEX "subscription_schedule_id_idx" ON "subscription"("schedule", "id");

-- CreateIndex
CREATE INDEX "subscription_identity_idx" ON "subscription"("identity");

-- CreateIndex
CREATE INDEX "subscription_created_at_idx" ON "subscription"("created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "message_copy_messageset_sequence_number_lang_key" ON "message_copy"("messageset", "sequence_number", "lang");

-- The fan-out's keyset scan reads only ready subscriptions of one schedule (not expressible in Prisma).
CREATE INDEX "subscription_ready_idx" ON "subscription"("schedule", "id")
  WHERE "active" AND NOT "completed" AND "process_status" = 0;
