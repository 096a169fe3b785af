-- The hook tables this migration made (tidings_hook, tidings_hook_delivery, their indexes and foreign key) are
-- made by packages/hooks/prisma/migrations, applied before this app's migrations, where they do not exist yet.

-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "anchor_at" TIMESTAMPTZ(3),
ADD COLUMN     "day_sends" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "send_day" DATE;

-- AlterTable
ALTER TABLE "message_copy" ADD COLUMN     "binary_content_url" TEXT;

-- CreateTable
CREATE TABLE "messageset_policy" (
    "messageset" INTEGER NOT NULL,
    "catch_up" TEXT NOT NULL DEFAULT 'send_all',
    "max_per_day" INTEGER NOT NULL DEFAULT 2,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messageset_policy_pkey" PRIMARY KEY ("messageset")
);

-- CreateTable
CREATE TABLE "identity_copy" (
    "id" UUID NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    "addresses" JSONB NOT NULL DEFAULT '[]',
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "identity_updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "identity_copy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_copy" (
    "id" INTEGER NOT NULL,
    "type" TEXT NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "deleted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "template_copy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topic_subscription" (
    "topic" TEXT NOT NULL,
    "identity" UUID NOT NULL,
    "channels" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "topic_subscription_pkey" PRIMARY KEY ("topic","identity")
);

-- CreateTable
CREATE TABLE "topic_publish" (
    "publish_id" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "content" TEXT,
    "template" INTEGER,
    "personalisation" JSONB NOT NULL DEFAULT '{}',
    "subject" TEXT,
    "channels" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "recipients" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "topic_publish_pkey" PRIMARY KEY ("publish_id")
);

-- CreateTable
CREATE TABLE "topic_recipient" (
    "publish_id" TEXT NOT NULL,
    "identity" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "outbound_id" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topic_recipient_pkey" PRIMARY KEY ("publish_id","identity","channel")
);

-- CreateIndex
CREATE INDEX "topic_subscription_identity_idx" ON "topic_subscription"("identity");

-- CreateIndex
CREATE UNIQUE INDEX "topic_recipient_outbound_id_key" ON "topic_recipient"("outbound_id");

-- AddForeignKey
ALTER TABLE "topic_recipient" ADD CONSTRAINT "topic_recipient_publish_id_fkey" FOREIGN KEY ("publish_id") REFERENCES "topic_publish"("publish_id") ON DELETE CASCADE ON UPDATE CASCADE;
