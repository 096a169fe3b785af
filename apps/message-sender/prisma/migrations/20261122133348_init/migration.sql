-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "outbound_status" AS ENUM ('queued', 'submitted', 'delivered', 'failed', 'expired', 'cancelled');

-- CreateTable
CREATE TABLE "outbound" (
    "id" UUID NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "to_addr" VARCHAR(500) NOT NULL DEFAULT '',
    "to_identity" UUID,
    "content" TEXT,
    "channel" VARCHAR(64) NOT NULL DEFAULT 'LOG',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "status" "outbound_status" NOT NULL DEFAULT 'queued',
    "provider_id" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "delivered" BOOLEAN NOT NULL DEFAULT false,
    "resend" BOOLEAN,
    "last_error" TEXT,
    "claimed_by" TEXT,
    "claimed_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" INTEGER,

    CONSTRAINT "outbound_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbound_event" (
    "id" BIGSERIAL NOT NULL,
    "outbound_id" UUID NOT NULL,
    "status" "outbound_status" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "detail" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "outbound_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "address_book_entry" (
    "identity" UUID NOT NULL,
    "addresses" JSONB NOT NULL DEFAULT '[]',
    "communicate_through" UUID,
    "default_addr_type" TEXT,
    "identity_updated_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "address_book_entry_pkey" PRIMARY KEY ("identity")
);

-- CreateIndex
CREATE INDEX "outbound_created_at_idx" ON "outbound"("created_at" DESC);

-- CreateIndex
CREATE INDEX "outbound_to_identity_idx" ON "outbound"("to_identity");

-- CreateIndex
CREATE INDEX "outbound_to_addr_idx" ON "outbound"("to_addr");

-- CreateIndex
CREATE UNIQUE INDEX "outbound_channel_provider_id_key" ON "outbound"("channel", "provider_id");

-- CreateIndex
CREATE INDEX "outbound_event_outbound_id_at_idx" ON "outbound_event"("outbound_id", "at");

-- AddForeignKey
ALTER TABLE "outbound_event" ADD CONSTRAINT "outbound_event_outbound_id_fkey" FOREIGN KEY ("outbound_id") REFERENCES "outbound"("id") ON DELETE CASCADE ON UPDATE CASCADE;
