-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "identity" (
    "id" UUID NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "details" JSONB NOT NULL,
    "communicate_through" UUID,
    "operator" UUID,
    "failed_message_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" INTEGER,

    CONSTRAINT "identity_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "identity_created_at_idx" ON "identity"("created_at" DESC);

-- CreateIndex
CREATE INDEX "identity_communicate_through_idx" ON "identity"("communicate_through");

-- CreateIndex
CREATE INDEX "identity_operator_idx" ON "identity"("operator");

-- AddForeignKey
ALTER TABLE "identity" ADD CONSTRAINT "identity_communicate_through_fkey" FOREIGN KEY ("communicate_through") REFERENCES "identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity" ADD CONSTRAINT "identity_operator_fkey" FOREIGN KEY ("operator") REFERENCES "identity"("id") ON DELETE SET NULL ON UPDATE CASCADE;
