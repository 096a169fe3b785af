import { randomBytes } from "node:crypto";
import { extname } from "node:path";
import type { BinaryContent } from "@tidings/contracts";
import { found, type PageParams } from "@tidings/service-kit";
import {
  binaryContentNotFound,
  binaryEmpty,
  binaryInUse,
  binaryTooLarge,
  binaryTypeNotAllowed,
  mediaNotFound,
} from "../errors.ts";
import type { BinaryContent as BinaryContentRow } from "../generated/prisma/client.ts";
import { isStorageKey, type MediaStorage } from "../media/storage.ts";
import {
  type ContentDeps,
  type Listed,
  listInIdOrder,
  type RequestContext,
  referringIds,
  timestamps,
  write,
} from "./support.ts";

export interface MediaDeps extends ContentDeps {
  storage: MediaStorage;
  /** Upload limits: the largest file in bytes, and the MIME types allowed (`type/*` for a whole type). */
  maxBytes: number;
  mimeTypes: string[];
}

/** An upload as the route received it. */
export interface Upload {
  filename: string;
  mimeType: string;
  data: Buffer;
}

export function toBinaryContent(row: BinaryContentRow, deps: Pick<ContentDeps, "mediaUrl">): BinaryContent {
  return {
    id: row.id,
    content: deps.mediaUrl(row.storageKey),
    filename: row.filename,
    mime_type: row.mimeType,
    size: row.size,
    ...timestamps(row),
  };
}

export const mimeTypeAllowed = (mimeType: string, allowed: string[]) => {
  const type = mimeType.toLowerCase();
  return allowed.some((a) => a === type || (a.endsWith("/*") && type.startsWith(a.slice(0, -1))));
};

/**
 * Seed's stored name (a timestamp, `%Y%m%d%H%M%S%f`) plus random hex, so that public URLs cannot be guessed,
 * and the original extension.
 */
function storageKeyFor(filename: string): string {
  const now = new Date();
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}${pad(now.getUTCMilliseconds(), 3)}000`;
  const ext = extname(filename).toLowerCase();
  return `${stamp}${randomBytes(8).toString("hex")}${/^\.[a-z0-9]{1,10}$/.test(ext) ? ext : ""}`;
}

/** Checks an upload, stores its file, then records it; a failed insert removes the file again. */
export async function createBinaryContent(
  deps: MediaDeps,
  upload: Upload,
  context: RequestContext,
): Promise<BinaryContent> {
  if (!mimeTypeAllowed(upload.mimeType, deps.mimeTypes)) {
    throw binaryTypeNotAllowed(upload.mimeType, deps.mimeTypes);
  }
  if (upload.data.length === 0) {
    throw binaryEmpty();
  }
  if (upload.data.length > deps.maxBytes) {
    throw binaryTooLarge(deps.maxBytes);
  }
  const key = storageKeyFor(upload.filename);
  await deps.storage.put(key, upload.data);
  try {
    return await write(deps.db, context, async (tx) => {
      const row = await tx.binaryContent.create({
        data: {
          storageKey: key,
          filename: upload.filename.slice(0, 255),
          mimeType: upload.mimeType.toLowerCase(),
          size: upload.data.length,
        },
      });
      return { result: toBinaryContent(row, deps), events: [] };
    });
  } catch (err) {
    await deps.storage.delete(key);
    throw err;
  }
}

/** Deletes binary content no message uses (409 naming the messages otherwise), then its file. */
export async function deleteBinaryContent(
  deps: MediaDeps,
  id: number,
  context: RequestContext,
): Promise<void> {
  const key = await write(
    deps.db,
    context,
    async (tx) => {
      const row = await tx.binaryContent.delete({ where: { id } });
      return { result: row.storageKey, events: [] };
    },
    {
      notFound: () => binaryContentNotFound(id),
      violations: {
        message_binary_content_fkey: async () =>
          binaryInUse(id, await referringIds(deps.db.message, { binaryContentId: id })),
      },
    },
  );
  // After the commit: a file left behind by a crash here is harmless, a row without its file is not.
  await deps.storage.delete(key);
}

export async function getBinaryContent(deps: ContentDeps, id: number): Promise<BinaryContent> {
  return toBinaryContent(
    found(await deps.db.binaryContent.findUnique({ where: { id } }), () => binaryContentNotFound(id)),
    deps,
  );
}

export async function listBinaryContent(deps: ContentDeps, page: PageParams): Promise<Listed<BinaryContent>> {
  return listInIdOrder(deps.db, deps.db.binaryContent, {}, page, (row) => toBinaryContent(row, deps));
}

/** A stored file by key, with its MIME type, for the public media route; 404 when unknown. */
export async function openMedia(deps: MediaDeps, key: string) {
  const row = isStorageKey(key)
    ? await deps.db.binaryContent.findUnique({ where: { storageKey: key } })
    : null;
  const stream = row ? await deps.storage.get(key) : undefined;
  if (!row || !stream) {
    throw mediaNotFound();
  }
  return { stream, mimeType: row.mimeType, size: row.size };
}
