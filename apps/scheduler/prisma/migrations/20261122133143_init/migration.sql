-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

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
CREATE INDEX "schedule_enabled_next_send_at_idx" ON "schedule"("enabled", "next_send_at");

-- CreateIndex
CREATE INDEX "schedule_created_at_idx" ON "schedule"("created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "schedule_source_service_source_ref_key" ON "schedule"("source_service", "source_ref");

-- CreateIndex
CREATE UNIQUE INDEX "schedule_run_schedule_id_slot_key" ON "schedule_run"("schedule_id", "slot");

-- AddForeignKey
ALTER TABLE "schedule_run" ADD CONSTRAINT "schedule_run_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
