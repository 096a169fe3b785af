import { isDeepStrictEqual } from "node:util";
import {
  type ChannelResponse,
  createAjv,
  type PatchChannelBody,
  type RedeliveryPolicy,
  SECRET_MASK,
  toSeedTime,
} from "@tidings/contracts";
import { isUniqueViolation, type PageParams, pageSlice } from "@tidings/service-kit";
import type { Db, Tx } from "../db.ts";
import { senderError } from "../errors.ts";
import { type Channel as ChannelRow, Prisma } from "../generated/prisma/client.ts";
import { DEFAULT_CHANNEL } from "../outbound/channel.ts";
import { effectivePolicy } from "../outbound/redelivery.ts";
import { validateWindow } from "../outbound/timing.ts";
import {
  CHANNEL_CONFIGS,
  CHANNEL_ENDPOINTS,
  CHANNEL_SECRETS,
  type ChannelType,
  type CreateChannelBody,
} from "./channel-types.ts";

const ajv = createAjv();
const validators = Object.fromEntries(
  Object.entries(CHANNEL_CONFIGS).map(([type, schema]) => [type, ajv.compile(schema)]),
) as Record<ChannelType, ReturnType<typeof ajv.compile>>;

/**
 * A channel as the API shows it: each secret that is set shows as SECRET_MASK; its redelivery policy as it is in
 * force (`defaults` for the fields it does not set).
 */
export function toChannel(row: ChannelRow, defaults: RedeliveryPolicy): ChannelResponse {
  const configuration = { ...(row.configuration as Record<string, unknown>) };
  for (const secret of CHANNEL_SECRETS[row.type as ChannelType] ?? []) {
    if (configuration[secret] !== undefined) {
      configuration[secret] = SECRET_MASK;
    }
  }
  return {
    channel_id: row.id,
    channel_type: row.type as ChannelType,
    configuration,
    default: row.default,
    concurrency_limit: row.concurrencyLimit,
    rate_limit: row.rateLimit,
    fallback: row.fallback,
    sending_window: row.sendingWindow as ChannelResponse["sending_window"],
    daily_cap: row.dailyCap,
    redelivery: effectivePolicy(row.redelivery, defaults),
    created_at: toSeedTime(row.createdAt),
    updated_at: toSeedTime(row.updatedAt),
  };
}

/** Checks a configuration against its type's schema and the rules a schema can't say. */
function validateConfiguration(type: ChannelType, configuration: Record<string, unknown>): void {
  const validate = validators[type];
  if (!validate(configuration)) {
    throw senderError(
      "MESSAGE_SENDER_INVALID_CHANNEL_CONFIGURATION",
      `Invalid ${type} channel configuration`,
      (validate.errors ?? []).map((e) => ({
        field: `body.configuration${e.instancePath.replaceAll("/", ".")}`,
        message: e.message ?? "invalid",
      })),
    );
  }
  if (type === "twilio" && !configuration.from === !configuration.messaging_service_sid) {
    throw senderError(
      "MESSAGE_SENDER_INVALID_CHANNEL_CONFIGURATION",
      "A twilio channel needs exactly one of from and messaging_service_sid",
      [{ field: "body.configuration.from", message: "exactly one of from and messaging_service_sid" }],
    );
  }
}

/**
 * A patch that changes where the channel's requests or callbacks go (a field of CHANNEL_ENDPOINTS: api_url,
 * rest_url, status_callback, the SMTP host, port, ...) must give every secret the channel keeps again, in the
 * same request: otherwise whoever may edit a channel could point it at their own listener and have the next send
 * carry the stored auth token there. 400 naming the secrets missing.
 */
function checkRedirect(
  type: ChannelType,
  stored: Record<string, unknown>,
  patch: Record<string, unknown>,
): void {
  const moved = CHANNEL_ENDPOINTS[type].filter(
    (field) => field in patch && !isDeepStrictEqual(patch[field] ?? undefined, stored[field]),
  );
  if (moved.length === 0) {
    return;
  }
  const missing = CHANNEL_SECRETS[type].filter(
    (secret) =>
      stored[secret] !== undefined && (patch[secret] === undefined || patch[secret] === SECRET_MASK),
  );
  if (missing.length > 0) {
    throw senderError(
      "MESSAGE_SENDER_SECRETS_REQUIRED",
      `Changing ${moved.join(", ")} needs the channel's secrets again: ${missing.join(", ")}`,
      missing.map((secret) => ({
        field: `body.configuration.${secret}`,
        message: `required when ${moved.join(", ")} changes`,
      })),
    );
  }
}

async function checkFallback(tx: Tx, id: string, fallback: string | null | undefined): Promise<void> {
  if (!fallback) {
    return;
  }
  if (fallback === id || !(await tx.channel.findUnique({ where: { id: fallback } }))) {
    throw senderError("MESSAGE_SENDER_INVALID_FALLBACK", `No other channel ${fallback} to fall back to`, [
      { field: "body.fallback", message: "no such other channel" },
    ]);
  }
}

/** Makes `id` the only default: the others are unset in the same transaction, serialised by a lock. */
async function makeDefault(tx: Tx, id: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('message-sender.channel.default'))`;
  await tx.channel.updateMany({ where: { default: true, NOT: { id } }, data: { default: false } });
}

export async function createChannel(
  db: Db,
  input: CreateChannelBody,
  defaults: RedeliveryPolicy,
): Promise<ChannelResponse> {
  const configuration = (input.configuration ?? {}) as Record<string, unknown>;
  validateConfiguration(input.channel_type, configuration);
  validateWindow(input.sending_window, "body.sending_window");
  try {
    return await db.$transaction(async (tx) => {
      await checkFallback(tx, input.channel_id, input.fallback);
      if (input.default) {
        await makeDefault(tx, input.channel_id);
      }
      const row = await tx.channel.create({
        data: {
          id: input.channel_id,
          type: input.channel_type,
          configuration: configuration as Prisma.InputJsonObject,
          default: input.default ?? false,
          concurrencyLimit: input.concurrency_limit ?? 0,
          rateLimit: input.rate_limit ?? 0,
          fallback: input.fallback ?? null,
          sendingWindow: input.sending_window ?? Prisma.DbNull,
          dailyCap: input.daily_cap ?? null,
          redelivery: input.redelivery ?? Prisma.DbNull,
        },
      });
      return toChannel(row, defaults);
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw senderError("MESSAGE_SENDER_CHANNEL_EXISTS", `Channel ${input.channel_id} already exists`);
    }
    throw err;
  }
}

export async function listChannels(db: Db, page: PageParams, defaults: RedeliveryPolicy) {
  const [count, rows] = await db.$transaction([
    db.channel.count(),
    db.channel.findMany({ orderBy: { id: "asc" }, ...pageSlice(page) }),
  ]);
  return { count, results: rows.map((row) => toChannel(row, defaults)) };
}

export async function getChannel(db: Db, id: string, defaults: RedeliveryPolicy): Promise<ChannelResponse> {
  const row = await db.channel.findUnique({ where: { id } });
  if (!row) {
    throw senderError("MESSAGE_SENDER_CHANNEL_NOT_FOUND", `Channel ${id} not found`);
  }
  return toChannel(row, defaults);
}

/**
 * Changes a channel. `configuration` is merged into the stored one: a secret left out, or sent as
 * SECRET_MASK, keeps its value; a field sent as null is removed. The result is validated by type. A change of
 * an endpoint needs the secrets again (checkRedirect).
 */
export async function patchChannel(
  db: Db,
  id: string,
  input: PatchChannelBody,
  defaults: RedeliveryPolicy,
): Promise<ChannelResponse> {
  validateWindow(input.sending_window, "body.sending_window");
  return db.$transaction(async (tx) => {
    const row = await tx.channel.findUnique({ where: { id } });
    if (!row) {
      throw senderError("MESSAGE_SENDER_CHANNEL_NOT_FOUND", `Channel ${id} not found`);
    }
    let configuration = row.configuration as Record<string, unknown>;
    if (input.configuration) {
      checkRedirect(row.type as ChannelType, configuration, input.configuration as Record<string, unknown>);
      configuration = { ...configuration };
      for (const [key, value] of Object.entries(input.configuration)) {
        if (value === null) {
          delete configuration[key];
        } else if (value !== SECRET_MASK) {
          configuration[key] = value;
        }
      }
      validateConfiguration(row.type as ChannelType, configuration);
    }
    await checkFallback(tx, id, input.fallback);
    if (input.default) {
      await makeDefault(tx, id);
    }
    const updated = await tx.channel.update({
      where: { id },
      data: {
        configuration: configuration as Prisma.InputJsonObject,
        default: input.default,
        concurrencyLimit: input.concurrency_limit,
        rateLimit: input.rate_limit,
        fallback: input.fallback,
        sendingWindow: input.sending_window === null ? Prisma.DbNull : input.sending_window,
        dailyCap: input.daily_cap,
        redelivery: input.redelivery === null ? Prisma.DbNull : input.redelivery,
      },
    });
    return toChannel(updated, defaults);
  });
}

/** Deletes a channel. The built-in LOG channel and the default channel can't be deleted. */
export async function deleteChannel(db: Db, id: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const row = await tx.channel.findUnique({ where: { id } });
    if (!row) {
      throw senderError("MESSAGE_SENDER_CHANNEL_NOT_FOUND", `Channel ${id} not found`);
    }
    if (id === DEFAULT_CHANNEL) {
      throw senderError("MESSAGE_SENDER_CHANNEL_BUILT_IN", "The built-in LOG channel can't be deleted");
    }
    if (row.default) {
      throw senderError(
        "MESSAGE_SENDER_CHANNEL_IS_DEFAULT",
        `Channel ${id} is the default: make another channel the default first`,
      );
    }
    await tx.channel.updateMany({ where: { fallback: id }, data: { fallback: null } });
    await tx.channel.delete({ where: { id } });
  });
}
