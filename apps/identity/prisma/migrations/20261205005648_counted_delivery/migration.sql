-- CreateTable
CREATE TABLE "counted_delivery" (
    "outbound_id" UUID NOT NULL,
    "counted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "counted_delivery_pkey" PRIMARY KEY ("outbound_id")
);
