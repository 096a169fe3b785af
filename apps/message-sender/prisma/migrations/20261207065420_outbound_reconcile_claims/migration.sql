-- When a reconciliation pass last asked the provider about an outbound (delivery-reports/reconcile.ts). A pass
-- claims the outbounds it asks about by setting it, so the passes of several workers share the waiting outbounds
-- instead of each asking about all of them, and the ones asked longest ago go first.
ALTER TABLE "outbound" ADD COLUMN "asked_at" TIMESTAMPTZ(3);

-- The claim's read: the submitted outbounds, never asked first, then asked longest ago, the oldest first.
DROP INDEX "outbound_submitted_idx";
CREATE INDEX "outbound_reconcile_idx" ON "outbound"("asked_at" ASC NULLS FIRST, "updated_at", "id") WHERE "status" = 'submitted';
