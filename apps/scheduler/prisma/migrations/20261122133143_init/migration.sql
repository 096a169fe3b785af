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
CREATE TABLE "schedule" (
    "id" UUID NOT NULL,
    "cron_definition" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "source_service" TEXT,
    "source_ref" TEXT,
    "source_version" TIMESTAMPTZ(3),
    "next_send_at" TIMESTAMPTZ(3),
    "last_run" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" INTEGER,

    CONSTRAINT "schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schedule_run" (
    "id" UUID NOT NULL,
    "schedule_id" UUID NOT NULL,
    "slot" TIMESTAMPTZ(3) NOT NULL,
    "manual" BOOLEAN NOT NULL DEFAULT false,
    "fired_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_run_pkey" PRIMARY KEY ("id")
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
CREATE INDEX "schedule_enabled_next_send_at_idx" ON "schedule"("enabled", "next_send_at");

-- CreateIndex
CREATE INDEX "schedule_created_at_idx" ON "schedule"("created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "schedule_source_service_source_ref_key" ON "schedule"("source_service", "source_ref");

-- CreateIndex
CREATE UNIQUE INDEX "schedule_run_schedule_id_slot_key" ON "schedule_run"("schedule_id", "slot");

-- AddForeignKey
ALTER TABLE "tidings_api_token" ADD CONSTRAINT "tidings_api_token_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "tidings_api_user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schedule_run" ADD CONSTRAINT "schedule_run_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
