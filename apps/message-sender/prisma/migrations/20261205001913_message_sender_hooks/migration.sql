-- CreateTable
CREATE TABLE "tidings_hook" (
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

-- CreateTable
CREATE TABLE "tidings_hook_delivery" (
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
CREATE INDEX "tidings_hook_event_idx" ON "tidings_hook"("event");

-- CreateIndex
CREATE INDEX "tidings_hook_delivery_status_next_attempt_at_idx" ON "tidings_hook_delivery"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "tidings_hook_delivery_hook_id_created_at_idx" ON "tidings_hook_delivery"("hook_id", "created_at");

-- AddForeignKey
ALTER TABLE "tidings_hook_delivery" ADD CONSTRAINT "tidings_hook_delivery_hook_id_fkey" FOREIGN KEY ("hook_id") REFERENCES "tidings_hook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
