-- CreateEnum
CREATE TYPE "template_type" AS ENUM ('sms', 'email');

-- CreateTable
CREATE TABLE "binary_content" (
    "id" SERIAL NOT NULL,
    "storage_key" VARCHAR(255) NOT NULL,
    "filename" VARCHAR(255) NOT NULL,
    "mime_type" VARCHAR(255) NOT NULL,
    "size" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "binary_content_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template" (
    "id" SERIAL NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "type" "template_type" NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "template_version" (
    "template" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "type" "template_type" NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "template_version_pkey" PRIMARY KEY ("template","version")
);

-- CreateIndex
CREATE UNIQUE INDEX "binary_content_storage_key_key" ON "binary_content"("storage_key");

-- CreateIndex
CREATE INDEX "message_binary_content_idx" ON "message"("binary_content");

-- Until now binary_content was a plain id with no table behind it: clear ids that cannot refer to a row.
UPDATE "message" SET "binary_content" = NULL WHERE "binary_content" IS NOT NULL;

-- AddForeignKey
ALTER TABLE "message" ADD CONSTRAINT "message_binary_content_fkey" FOREIGN KEY ("binary_content") REFERENCES "binary_content"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "template_version" ADD CONSTRAINT "template_version_template_fkey" FOREIGN KEY ("template") REFERENCES "template"("id") ON DELETE CASCADE ON UPDATE CASCADE;
