-- CreateTable
CREATE TABLE "optout" (
    "id" UUID NOT NULL,
    "identity_id" UUID,
    "optout_type" TEXT NOT NULL DEFAULT 'stop',
    "address_type" TEXT NOT NULL DEFAULT '',
    "address" TEXT NOT NULL DEFAULT '',
    "request_source" TEXT NOT NULL,
    "requestor_source_id" TEXT,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "optout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "optin" (
    "id" UUID NOT NULL,
    "identity_id" UUID,
    "address_type" TEXT NOT NULL DEFAULT '',
    "address" TEXT NOT NULL DEFAULT '',
    "request_source" TEXT NOT NULL,
    "requestor_source_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "optin_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent_event" (
    "id" BIGSERIAL NOT NULL,
    "identity_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "channel" TEXT,
    "address" TEXT,
    "topic" TEXT,
    "source" TEXT NOT NULL,
    "source_id" TEXT,
    "reason" TEXT,
    "record_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "consent_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detail_key" (
    "key_name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "detail_key_pkey" PRIMARY KEY ("key_name")
);

-- CreateTable
CREATE TABLE "verification_code" (
    "id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "address_type" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "code_hash" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "verification_code_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "optout_identity_id_idx" ON "optout"("identity_id");

-- CreateIndex
CREATE INDEX "optout_created_at_idx" ON "optout"("created_at" DESC);

-- CreateIndex
CREATE INDEX "optin_identity_id_idx" ON "optin"("identity_id");

-- CreateIndex
CREATE INDEX "optin_created_at_idx" ON "optin"("created_at" DESC);

-- CreateIndex
CREATE INDEX "consent_event_identity_id_id_idx" ON "consent_event"("identity_id", "id");

-- CreateIndex
CREATE INDEX "verification_code_identity_id_address_type_address_idx" ON "verification_code"("identity_id", "address_type", "address");

-- CreateIndex
CREATE INDEX "identity_updated_at_idx" ON "identity"("updated_at" DESC);

-- CreateIndex
CREATE INDEX "identity_details_idx" ON "identity" USING GIN ("details" jsonb_path_ops);

-- AddForeignKey
ALTER TABLE "optout" ADD CONSTRAINT "optout_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "optin" ADD CONSTRAINT "optin_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "verification_code" ADD CONSTRAINT "verification_code_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;
