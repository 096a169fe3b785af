-- CreateTable
CREATE TABLE "resend_request" (
    "outbound" UUID NOT NULL,
    "subscription" UUID NOT NULL,
    "message" INTEGER NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "resend_request_pkey" PRIMARY KEY ("outbound")
);

-- CreateIndex
CREATE INDEX "resend_request_subscription_idx" ON "resend_request"("subscription");
