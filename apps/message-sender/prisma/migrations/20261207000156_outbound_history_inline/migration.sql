-- The status history moves into the outbound row: each change appends its entry in the statement that makes it,
-- instead of inserting an outbound_event row (two rows and their index entries per delivered message). A late
-- report of an earlier attempt is kept on that attempt's outbound_past_attempt row (the history shows it): the
-- report's statement may change the outbound's current attempt too, and one statement cannot write a row twice.
-- Hand-written around Prisma's diff (tidings-db diff): the data moves and the function.

-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "history" JSONB NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "outbound_past_attempt" ADD COLUMN     "late_at" TIMESTAMPTZ(3),
ADD COLUMN     "late_reason" TEXT,
ADD COLUMN     "late_status" "outbound_status";

-- The late reports kept so far, onto their attempts (the first of each).
UPDATE "outbound_past_attempt" p SET "late_status" = e."status", "late_at" = e."at",
  "late_reason" = NULLIF(regexp_replace(e."detail"->>'reason', '^late report of an earlier attempt(: )?', ''), '')
FROM (
  SELECT DISTINCT ON ("outbound_id", "detail"->>'provider_id') "outbound_id", "detail", "status", "at"
  FROM "outbound_event" WHERE "detail"->>'reason' LIKE 'late report%'
  ORDER BY "outbound_id", "detail"->>'provider_id', "at", "id"
) e
WHERE p."outbound_id" = e."outbound_id" AND p."provider_id" = e."detail"->>'provider_id';

-- The other rows, oldest first, in the entry's shape (detail's channel, provider_id, worker and reason).
UPDATE "outbound" o SET "history" = e.history
FROM (
  SELECT "outbound_id",
    jsonb_agg(jsonb_build_object('at', "at", 'status', "status") || "detail" ORDER BY "at", "id") AS history
  FROM "outbound_event" WHERE "detail"->>'reason' IS NULL OR "detail"->>'reason' NOT LIKE 'late report%'
  GROUP BY "outbound_id"
) e
WHERE o."id" = e."outbound_id";

-- DropForeignKey
ALTER TABLE "outbound_event" DROP CONSTRAINT "outbound_event_outbound_id_fkey";

-- DropTable
DROP TABLE "outbound_event";

-- outbound_keep_early_report (20261206041500_keep_early_report) as it was, but for a late report of an earlier
-- attempt, kept on that attempt (the first one) instead of an outbound_event row.
CREATE OR REPLACE FUNCTION outbound_keep_early_report(
  report_channel text, report_provider_id text, report_status outbound_status, report_reason text, report_kind text
) RETURNS text LANGUAGE plpgsql VOLATILE AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(report_channel || '':'' || report_provider_id))\073
  IF EXISTS (SELECT 1 FROM outbound WHERE channel = report_channel AND provider_id = report_provider_id) THEN
    RETURN ''found''\073
  END IF\073
  IF EXISTS (SELECT 1 FROM outbound_past_attempt WHERE channel = report_channel AND provider_id = report_provider_id) THEN
    UPDATE outbound_past_attempt SET late_status = report_status, late_reason = report_reason, late_at = now()
    WHERE channel = report_channel AND provider_id = report_provider_id AND late_at IS NULL\073
    RETURN ''past''\073
  END IF\073
  INSERT INTO early_report (channel, provider_id, status, reason, kind)
  VALUES (report_channel, report_provider_id, report_status, report_reason, report_kind)
  ON CONFLICT (channel, provider_id) DO NOTHING\073
  RETURN ''early''\073
END';
