-- CreateTable
CREATE TABLE "outbound_send_failure" (
    "id" BIGSERIAL NOT NULL,
    "outbound_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "initiated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbound_send_failure_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "outbound_send_failure_outbound_id_idx" ON "outbound_send_failure"("outbound_id");

-- AddForeignKey
ALTER TABLE "outbound_send_failure" ADD CONSTRAINT "outbound_send_failure_outbound_id_fkey" FOREIGN KEY ("outbound_id") REFERENCES "outbound"("id") ON DELETE CASCADE ON UPDATE CASCADE;
