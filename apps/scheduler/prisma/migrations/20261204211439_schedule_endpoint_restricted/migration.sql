-- AlterTable
ALTER TABLE "schedule" ADD COLUMN     "endpoint_restricted" BOOLEAN NOT NULL DEFAULT false;

-- Schedules last saved by a non-admin API user (the bootstrap admin token is a null updated_by) keep their
-- endpoint only if SCHEDULER_HTTP_ALLOWED_HOSTS allows it.
UPDATE "schedule" SET "endpoint_restricted" = true
WHERE "updated_by" IN (SELECT "id" FROM "tidings_api_user" WHERE NOT "is_admin");
