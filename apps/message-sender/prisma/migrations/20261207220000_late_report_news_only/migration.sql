-- outbound_keep_early_report (20261207000156_outbound_history_inline) as it was, but for which late report of an
-- earlier attempt is kept on it: not a repeat of the failure that ended the attempt (the same reason: a provider's
-- replayed callback, or a callback that came after the reconciler had read the same failure), which is no news, and
-- a delivery replaces a kept failure, so the news that matters (the person got the attempt that was sent again) is
-- never hidden by an earlier repeat. Hand-written: the migration runner splits statements at every semicolon, so the
-- body writes its semicolons as \073 (octal, in an E'' string).
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
    WHERE channel = report_channel AND provider_id = report_provider_id
      AND NOT (report_status = ''failed'' AND reason IS NOT DISTINCT FROM report_reason)
      AND (late_at IS NULL OR (report_status = ''delivered'' AND late_status IS DISTINCT FROM ''delivered''))\073
    RETURN ''past''\073
  END IF\073
  INSERT INTO early_report (channel, provider_id, status, reason, kind)
  VALUES (report_channel, report_provider_id, report_status, report_reason, report_kind)
  ON CONFLICT (channel, provider_id) DO NOTHING\073
  RETURN ''early''\073
END';
