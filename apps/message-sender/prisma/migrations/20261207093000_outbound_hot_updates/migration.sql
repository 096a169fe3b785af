-- Hand-written: what the send path's writes cost Postgres. An outbound is written four times (stored, claimed,
-- recorded, reported), and every write whose new row version cannot stay on its page (a HOT update) adds an entry
-- to each of the table's ten indexes: 40 index entries a delivered message.

-- Room on each page for the next version of its rows: the claim (claimed_by and claimed_until, in no index)
-- becomes a HOT update, with no index entry at all, when its page has room for the new version. It applies to the
-- pages written from now on (new outbounds): the pages already full stay so until the table is rewritten.
ALTER TABLE "outbound" SET (fillfactor = 70);

-- Only the rows that have the column: a send without a batch, a not_before, an expiry or an identity (most
-- one-off sends) adds no entry to these. Every query of them compares the column (strict operators), which
-- implies IS NOT NULL, so the planner uses them as before (checked with generic plans of `= ANY($1)`,
-- `IN ($1, $2)`, `= $1` and `<= $1`). Same names, so the schema's @@index lines still name them.
DROP INDEX "outbound_batch_id_status_idx";
CREATE INDEX "outbound_batch_id_status_idx" ON "outbound"("batch_id", "status") WHERE "batch_id" IS NOT NULL;
DROP INDEX "outbound_expires_at_idx";
CREATE INDEX "outbound_expires_at_idx" ON "outbound"("expires_at") WHERE "expires_at" IS NOT NULL;
DROP INDEX "outbound_not_before_idx";
CREATE INDEX "outbound_not_before_idx" ON "outbound"("not_before") WHERE "not_before" IS NOT NULL;
DROP INDEX "outbound_to_identity_idx";
CREATE INDEX "outbound_to_identity_idx" ON "outbound"("to_identity") WHERE "to_identity" IS NOT NULL;
DROP INDEX "outbound_provider_id_idx";
CREATE INDEX "outbound_provider_id_idx" ON "outbound"("provider_id") WHERE "provider_id" IS NOT NULL;

-- The sensitive-content trigger runs its function only for the rows it can change (sensitive, or an identity
-- verification code), not at every write of every outbound.
DROP TRIGGER "outbound_clear_sensitive" ON "outbound";
CREATE TRIGGER "outbound_clear_sensitive" BEFORE INSERT OR UPDATE ON "outbound" FOR EACH ROW
  WHEN (NEW.sensitive OR NEW.metadata ->> 'purpose' = 'verification')
  EXECUTE FUNCTION outbound_clear_sensitive();
