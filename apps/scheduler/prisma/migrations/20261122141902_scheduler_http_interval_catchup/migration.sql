-- AlterTable
ALTER TABLE "schedule" ADD COLUMN     "auth_token" TEXT,
ADD COLUMN     "catch_up" TEXT NOT NULL DEFAULT 'latest',
ADD COLUMN     "endpoint" TEXT,
ADD COLUMN     "interval_anchor" TIMESTAMPTZ(3),
ADD COLUMN     "interval_definition" TEXT,
ADD COLUMN     "next_cron_at" TIMESTAMPTZ(3),
ADD COLUMN     "next_interval_at" TIMESTAMPTZ(3),
ADD COLUMN     "timeout_seconds" INTEGER NOT NULL DEFAULT 30,
ALTER COLUMN "cron_definition" DROP NOT NULL;

-- AlterTable
ALTER TABLE "schedule_run" ADD COLUMN     "delivered_at" TIMESTAMPTZ(3),
ADD COLUMN     "trigger" TEXT NOT NULL DEFAULT 'cron';

-- CreateTable
CREATE TABLE "schedule_failure" (
    "id" UUID NOT NULL,
    "schedule_id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "initiated_at" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_failure_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "schedule_failure_created_at_idx" ON "schedule_failure"("created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "schedule_failure_task_id_key" ON "schedule_failure"("task_id");

-- CreateIndex
CREATE INDEX "schedule_run_schedule_id_fired_at_idx" ON "schedule_run"("schedule_id", "fired_at" DESC);

-- AddForeignKey
ALTER TABLE "schedule_failure" ADD CONSTRAINT "schedule_failure_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing cron schedules: their pending slot is the cron trigger's.
UPDATE "schedule" SET "next_cron_at" = "next_send_at" WHERE "cron_definition" IS NOT NULL;
UPDATE "schedule_run" SET "trigger" = 'manual' WHERE "manual";
-- Disabled schedules keep no pending slot.
UPDATE "schedule" SET "next_send_at" = NULL, "next_cron_at" = NULL WHERE NOT "enabled";
