-- AlterTable
ALTER TABLE "outbound" ADD COLUMN     "batch_id" UUID,
ADD COLUMN     "template" INTEGER,
ADD COLUMN     "template_version" INTEGER,
ADD COLUMN     "test" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "outbound_batch" (
    "id" UUID NOT NULL,
    "total" INTEGER NOT NULL,
    "channel" VARCHAR(64) NOT NULL,
    "template" INTEGER,
    "template_version" INTEGER,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" INTEGER,

    CONSTRAINT "outbound_batch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_copy" (
    "id" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "type" VARCHAR(10) NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_copy_pkey" PRIMARY KEY ("id","version")
);

-- CreateTable
CREATE TABLE "aggregate_outbound" (
    "date" DATE NOT NULL,
    "delivered" BOOLEAN NOT NULL,
    "channel" VARCHAR(64) NOT NULL,
    "attempts" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,

    CONSTRAINT "aggregate_outbound_pkey" PRIMARY KEY ("date","delivered","channel")
);

-- CreateTable
CREATE TABLE "archived_outbounds" (
    "date" DATE NOT NULL,
    "archive" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "archived_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "archived_outbounds_pkey" PRIMARY KEY ("date")
);

-- CreateIndex
CREATE INDEX "outbound_batch_id_status_idx" ON "outbound"("batch_id", "status");
