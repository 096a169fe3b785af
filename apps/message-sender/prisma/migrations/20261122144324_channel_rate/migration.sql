-- CreateTable
CREATE TABLE "channel_rate_window" (
    "channel" VARCHAR(64) NOT NULL,
    "second" BIGINT NOT NULL,
    "used" INTEGER NOT NULL,

    CONSTRAINT "channel_rate_window_pkey" PRIMARY KEY ("channel","second")
);
