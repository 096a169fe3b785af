-- The consent ledger is append-only: a DELETE does nothing, and an UPDATE does nothing unless its only change
-- is `forget` redacting the address. Hand-written: the Prisma schema language has no rules, and its migration
-- runner splits statements at every semicolon, which rules out a trigger function body.
CREATE RULE consent_event_no_delete AS ON DELETE TO consent_event DO INSTEAD NOTHING;

CREATE RULE consent_event_redact_only AS ON UPDATE TO consent_event
  WHERE NEW.id IS DISTINCT FROM OLD.id
     OR NEW.identity_id IS DISTINCT FROM OLD.identity_id
     OR NEW.action IS DISTINCT FROM OLD.action
     OR NEW.kind IS DISTINCT FROM OLD.kind
     OR NEW.scope IS DISTINCT FROM OLD.scope
     OR NEW.channel IS DISTINCT FROM OLD.channel
     OR NEW.topic IS DISTINCT FROM OLD.topic
     OR NEW.source IS DISTINCT FROM OLD.source
     OR NEW.source_id IS DISTINCT FROM OLD.source_id
     OR NEW.reason IS DISTINCT FROM OLD.reason
     OR NEW.record_id IS DISTINCT FROM OLD.record_id
     OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.created_by IS DISTINCT FROM OLD.created_by
     OR NEW.address IS DISTINCT FROM 'redacted'
  DO INSTEAD NOTHING;
