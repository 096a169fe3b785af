-- CreateTable
CREATE TABLE "whatsapp_session" (
    "channel" VARCHAR(64) NOT NULL,
    "address" TEXT NOT NULL,
    "last_inbound_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "whatsapp_session_pkey" PRIMARY KEY ("channel","address")
);
