-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "content_type" AS ENUM ('text', 'audio');

-- CreateTable
CREATE TABLE "schedule" (
    "id" SERIAL NOT NULL,
    "minute" VARCHAR(64) NOT NULL DEFAULT '*',
    "hour" VARCHAR(64) NOT NULL DEFAULT '*',
    "day_of_week" VARCHAR(64) NOT NULL DEFAULT '*',
    "day_of_month" VARCHAR(64) NOT NULL DEFAULT '*',
    "month_of_year" VARCHAR(64) NOT NULL DEFAULT '*',
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messageset" (
    "id" SERIAL NOT NULL,
    "short_name" VARCHAR(100) NOT NULL,
    "label" VARCHAR(100) NOT NULL DEFAULT '',
    "notes" TEXT,
    "channel" VARCHAR(64),
    "next_set" INTEGER,
    "default_schedule" INTEGER NOT NULL,
    "content_type" "content_type" NOT NULL DEFAULT 'text',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messageset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message" (
    "id" SERIAL NOT NULL,
    "messageset" INTEGER NOT NULL,
    "sequence_number" INTEGER NOT NULL,
    "lang" VARCHAR(6) NOT NULL,
    "text_content" TEXT,
    "binary_content" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "messageset_short_name_key" ON "messageset"("short_name");

-- CreateIndex
CREATE INDEX "messageset_next_set_idx" ON "messageset"("next_set");

-- CreateIndex
CREATE INDEX "messageset_default_schedule_idx" ON "messageset"("default_schedule");

-- CreateIndex
CREATE UNIQUE INDEX "message_messageset_sequence_number_lang_key" ON "message"("messageset", "sequence_number", "lang");

-- AddForeignKey
ALTER TABLE "messageset" ADD CONSTRAINT "messageset_next_set_fkey" FOREIGN KEY ("next_set") REFERENCES "messageset"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messageset" ADD CONSTRAINT "messageset_default_schedule_fkey" FOREIGN KEY ("default_schedule") REFERENCES "schedule"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "message" ADD CONSTRAINT "message_messageset_fkey" FOREIGN KEY ("messageset") REFERENCES "messageset"("id") ON DELETE CASCADE ON UPDATE CASCADE;
