-- CreateTable
CREATE TABLE "channel" (
    "id" VARCHAR(64) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "configuration" JSONB NOT NULL DEFAULT '{}',
    "default" BOOLEAN NOT NULL DEFAULT false,
    "concurrency_limit" INTEGER NOT NULL DEFAULT 0,
    "rate_limit" INTEGER NOT NULL DEFAULT 0,
    "fallback" VARCHAR(64),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "channel_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "early_report" (
    "channel" VARCHAR(64) NOT NULL,
    "provider_id" TEXT NOT NULL,
    "status" "outbound_status" NOT NULL,
    "reason" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "early_report_pkey" PRIMARY KEY ("channel","provider_id")
);

-- At most one default channel (the service moves the flag in one transaction, so there is always one).
CREATE UNIQUE INDEX "channel_one_default" ON "channel" ((true)) WHERE "default";

-- The built-in log channel, the default until another channel is made default.
INSERT INTO "channel" ("id", "type", "configuration", "default") VALUES ('LOG', 'log', '{}', true)
ON CONFLICT ("id") DO NOTHING;
