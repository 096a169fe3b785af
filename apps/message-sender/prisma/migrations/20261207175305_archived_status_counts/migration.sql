-- CreateTable
CREATE TABLE "archived_status_count" (
    "date" DATE NOT NULL,
    "channel" VARCHAR(64) NOT NULL,
    "status" "outbound_status" NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "archived_status_count_pkey" PRIMARY KEY ("date","channel","status")
);
