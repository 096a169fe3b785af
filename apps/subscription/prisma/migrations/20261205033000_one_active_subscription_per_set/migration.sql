-- One active subscription per identity and message set (issue #20): a hub retrying a registration without an id
-- made a second active subscription, and the person received every message twice. Written by hand: Prisma cannot
-- express a partial unique index (a comment in the Subscription model notes it, pnpm db:diff stays clean).
--
-- Existing duplicates: of the active subscriptions of one identity to one set, the oldest (created_at, then id)
-- stays active, every later one is deactivated (active = false, completed, position and process_status kept) and
-- gets metadata.duplicate_of = the id of the kept subscription, so they can be found and audited. The oldest is kept
-- because it is the one the person has been receiving since she registered, the later ones only sent her the
-- same messages again. No events or hooks are published for this clean-up (a migration has no outbox relay),
-- GET /api/v1/subscriptions/?metadata_has_key=duplicate_of lists what it changed.
UPDATE "subscription" AS s
SET "active" = false,
    "metadata" = COALESCE(s."metadata", '{}'::jsonb) || jsonb_build_object('duplicate_of', d."kept"),
    "updated_at" = now()
FROM (
  SELECT "id",
         first_value("id") OVER w AS "kept",
         row_number() OVER w AS "n"
  FROM "subscription"
  WHERE "active"
  WINDOW w AS (PARTITION BY "identity", "messageset" ORDER BY "created_at", "id")
) AS d
WHERE s."id" = d."id" AND d."n" > 1;

-- At most one active subscription per (identity, message set), inactive and completed ones do not count.
CREATE UNIQUE INDEX "subscription_one_active_per_set_key" ON "subscription"("identity", "messageset")
  WHERE "active";
