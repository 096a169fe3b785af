-- The early reports kept for these (channel, provider id) pairs (src/outbound/status.ts, recordSends), read in the
-- statement that records the sends, after it took their report locks.
-- A VOLATILE function: its query takes a fresh snapshot, so it sees an early report that outbound_keep_early_report
-- committed while the statement waited for the lock. The statement took its own snapshot before the lock: the same
-- read there would miss that report, which found no outbound and so was kept for recordSends to apply (lost).
-- Hand-written. The migration runner splits statements at every semicolon, so the function body writes its
-- semicolons as \073 (octal, in an E'' string).
CREATE FUNCTION outbound_early_reports(report_keys jsonb)
RETURNS TABLE (report_channel text, report_provider_id text, report_status text, report_reason text, report_kind text)
LANGUAGE plpgsql VOLATILE AS E'
BEGIN
  RETURN QUERY
    SELECT e.channel::text, e.provider_id::text, e.status::text, e.reason::text, e.kind::text
    FROM jsonb_to_recordset(report_keys) AS k(channel text, provider_id text)
    JOIN early_report e ON e.channel = k.channel AND e.provider_id = k.provider_id\073
END';
