-- The reconciler's read (delivery-reports/reconcile.ts): outbounds `submitted`, oldest first, a batch at a time.
-- Without it every pass of every worker read the whole outbound table, with it only the submitted ones.
CREATE INDEX "outbound_submitted_idx" ON "outbound"("updated_at", "id") WHERE "status" = 'submitted';
