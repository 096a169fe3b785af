-- CreateTable
CREATE TABLE "channel_slot" (
    "channel" VARCHAR(64) NOT NULL,
    "slot" INTEGER NOT NULL,
    "holder" TEXT,
    "until" TIMESTAMPTZ(3),

    CONSTRAINT "channel_slot_pkey" PRIMARY KEY ("channel","slot")
);
