import type { MultipartFile } from "@fastify/multipart";
import { binaryMissing, binaryTooLarge, notMultipart } from "../errors.ts";
import type { Upload } from "../services/binarycontent.ts";

/** What urllib3 (under Seed's Python client) would guess from a file name, for a part sent without a type. */
const BY_EXTENSION: Record<string, string> = {
  mp3: "audio/mpeg",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  wav: "audio/wav",
  m4a: "audio/mp4",
  mp4: "audio/mp4",
  aac: "audio/aac",
  amr: "audio/amr",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
};

/**
 * The part's type. A part without a Content-Type header reaches us as busboy's default, `text/plain`: that is how
 * `seed-services-client`'s `create_binarycontent` sends a file (`files={"content": f}`), so its type is read from
 * its file name's extension instead (an unknown extension stays `text/plain`, and is refused).
 */
const typeOf = (file: MultipartFile) =>
  file.mimetype === "text/plain"
    ? (BY_EXTENSION[file.filename.split(".").pop()?.toLowerCase() ?? ""] ?? file.mimetype)
    : file.mimetype;

/** The file of a multipart upload (field `content`), read whole; 400 without one, 413 over `maxBytes`. */
export async function readUpload(
  request: { isMultipart(): boolean; file(): Promise<MultipartFile | undefined> },
  maxBytes: number,
): Promise<Upload> {
  if (!request.isMultipart()) {
    throw notMultipart();
  }
  const file = await request.file();
  if (file?.fieldname !== "content") {
    file?.file.resume();
    throw binaryMissing();
  }
  let data: Buffer;
  try {
    data = await file.toBuffer();
  } catch (err) {
    if ((err as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE") {
      throw binaryTooLarge(maxBytes);
    }
    throw err;
  }
  if (data.length > maxBytes || file.file.truncated) {
    throw binaryTooLarge(maxBytes);
  }
  return { filename: file.filename, mimeType: typeOf(file), data };
}
