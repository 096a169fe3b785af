-- The hook tables (hooks.prisma), applied to the database of every service whose prisma/schema/ links hooks.prisma,
-- after the platform migrations and before the app's own. Written to change nothing where they exist already:
-- databases migrated before this migration moved here made them through the app's own migrations (identity's
-- rest_hooks, scheduler's amqp_message_targets_rest_hooks, subscription's topics, message-sender's
-- message_sender_hooks, then the hook_secret_rotation ones), which now leave them to this one. (The engine splits a
-- script at semicolons: no DO blocks, so the foreign key is dropped if it exists and added again.)

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_hook" (
    "id" SERIAL NOT NULL,
    "event" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "owner_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tidings_hook_pkey" PRIMARY KEY ("id")
);

-- A hook table made before its secrets could be rotated
ALTER TABLE "tidings_hook" ADD COLUMN IF NOT EXISTS "previous_secret" TEXT,
ADD COLUMN IF NOT EXISTS "previous_secret_expires_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE IF NOT EXISTS "tidings_hook_delivery" (
    "id" UUID NOT NULL,
    "hook_id" INTEGER NOT NULL,
    "event" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "last_status_code" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "tidings_hook_delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_hook_event_idx" ON "tidings_hook"("event");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_hook_delivery_status_next_attempt_at_idx" ON "tidings_hook_delivery"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "tidings_hook_delivery_hook_id_created_at_idx" ON "tidings_hook_delivery"("hook_id", "created_at");

-- AddForeignKey
ALTER TABLE "tidings_hook_delivery" DROP CONSTRAINT IF EXISTS "tidings_hook_delivery_hook_id_fkey";
ALTER TABLE "tidings_hook_delivery" ADD CONSTRAINT "tidings_hook_delivery_hook_id_fkey" FOREIGN KEY ("hook_id") REFERENCES "tidings_hook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
