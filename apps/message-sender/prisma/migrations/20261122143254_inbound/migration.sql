-- CreateTable
CREATE TABLE "inbound" (
    "id" UUID NOT NULL,
    "channel" VARCHAR(64) NOT NULL,
    "message_id" TEXT,
    "in_reply_to" TEXT,
    "to_addr" VARCHAR(255) NOT NULL DEFAULT '',
    "from_addr" VARCHAR(255) NOT NULL DEFAULT '',
    "from_identity" UUID,
    "content" TEXT,
    "keyword" VARCHAR(10),
    "helper_metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "inbound_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "inbound_from_identity_idx" ON "inbound"("from_identity");

-- CreateIndex
CREATE INDEX "inbound_created_at_idx" ON "inbound"("created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "inbound_channel_message_id_key" ON "inbound"("channel", "message_id");
