import type { MultipartFile } from "@fastify/multipart";
import { binaryMissing, binaryTooLarge, notMultipart } from "../errors.ts";
import type { Upload } from "../services/binarycontent.ts";

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
  return { filename: file.filename, mimeType: file.mimetype, data };
}
