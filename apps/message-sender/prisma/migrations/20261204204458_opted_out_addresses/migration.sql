-- CreateTable
CREATE TABLE "opted_out_address" (
    "address_hash" BYTEA NOT NULL,
    "opted_out" BOOLEAN NOT NULL,
    "kind" VARCHAR(32) NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "opted_out_address_pkey" PRIMARY KEY ("address_hash")
);
