-- A final report that found no outbound with its provider id (src/outbound/report-batch.ts), under the report lock
-- of that provider id (which recordSends takes in its statement): the outbound recorded meanwhile ('found': the
-- caller applies the report to it), a late report of an earlier attempt ('past': kept in its history, once), or
-- else kept as an early report for recordSends to apply ('early': the first one wins).
-- A VOLATILE function: each query in it takes a fresh snapshot, so these reads, made after the lock, see what
-- recordSends committed while the report waited for it. The statement that calls it took its snapshot before the
-- lock: the same reads in that statement would miss a send recorded in between, and recordSends, which read the
-- early reports after its commit, would have missed this one (the report lost).
-- Hand-written. The migration runner splits statements at every semicolon, so the function body writes its
-- semicolons as \073 (octal, in an E'' string).
CREATE FUNCTION outbound_keep_early_report(
  report_channel text, report_provider_id text, report_status outbound_status, report_reason text, report_kind text
) RETURNS text LANGUAGE plpgsql VOLATILE AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(report_channel || '':'' || report_provider_id))\073
  IF EXISTS (SELECT 1 FROM outbound WHERE channel = report_channel AND provider_id = report_provider_id) THEN
    RETURN ''found''\073
  END IF\073
  IF EXISTS (SELECT 1 FROM outbound_past_attempt WHERE channel = report_channel AND provider_id = report_provider_id) THEN
    INSERT INTO outbound_event (outbound_id, status, detail)
    SELECT p.outbound_id, report_status, jsonb_build_object(''channel'', p.channel, ''provider_id'', p.provider_id,
      ''reason'', ''late report of an earlier attempt'' || COALESCE('': '' || report_reason, ''''))
    FROM outbound_past_attempt p WHERE p.channel = report_channel AND p.provider_id = report_provider_id
      AND NOT EXISTS (SELECT 1 FROM outbound_event e WHERE e.outbound_id = p.outbound_id
        AND e.detail->>''provider_id'' = p.provider_id AND e.detail->>''reason'' LIKE ''late report%'')\073
    RETURN ''past''\073
  END IF\073
  INSERT INTO early_report (channel, provider_id, status, reason, kind)
  VALUES (report_channel, report_provider_id, report_status, report_reason, report_kind)
  ON CONFLICT (channel, provider_id) DO NOTHING\073
  RETURN ''early''\073
END';
