import { DEFAULT_DATABASE_SERVER } from "@tidings/db";

export const AMQP_URL = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
export const DATABASE_SERVER = process.env.TEST_DATABASE_SERVER ?? DEFAULT_DATABASE_SERVER;
