import multipart from "@fastify/multipart";
import { BinaryContent, BinaryContentListQuery, ErrorResponse, IntIdParams } from "@tidings/contracts";
import { type Api, errorResponses, pageRoute, routeError } from "@tidings/service-kit";
import Type from "typebox";
import { readUpload } from "../media/upload.ts";
import {
  createBinaryContent,
  deleteBinaryContent,
  getBinaryContent,
  listBinaryContent,
  openMedia,
} from "../services/binarycontent.ts";
import { contextOf, type RouteDeps } from "./deps.ts";

const PATH = "/api/v1/binarycontent/";
const tags = ["binary content"];

/** Seed's `/binarycontent/` (multipart upload of `content`) and the public media files at `/media/<key>`. */
export async function mediaRoutes(app: Api, deps: RouteDeps): Promise<void> {
  await app.register(multipart, {
    // One file; one byte over the limit is enough to know it is too large.
    limits: { fileSize: deps.maxBytes + 1, files: 1, fields: 10, parts: 11 },
  });

  app.post(
    PATH,
    {
      schema: {
        tags,
        summary: "Upload a file: multipart/form-data with the file in the field `content`",
        description:
          "`multipart/form-data` with the file in the field `content` (a part without a Content-Type is typed by its file name's extension); 201 `{id, content, filename, mime_type, size, created_at, updated_at}` where `content` is the file's public URL.",
        consumes: ["multipart/form-data"],
        response: { 201: BinaryContent, 413: ErrorResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const upload = await readUpload(request, deps.maxBytes);
      const created = await createBinaryContent(deps, upload, contextOf(request));
      return reply.code(201).header("location", `${PATH}${created.id}/`).send(created);
    },
  );

  pageRoute(app, PATH, {
    tags,
    summary: "List binary content in id order",
    description: "A page of uploaded files with their public URLs, MIME types and sizes.",
    query: BinaryContentListQuery,
    item: BinaryContent,
    run: (_request, page) => listBinaryContent(deps, page),
  });

  app.get(
    `${PATH}:id/`,
    {
      schema: {
        tags,
        summary: "Get one binary content",
        description: "One uploaded file's record: its public URL, file name, MIME type and size.",
        params: IntIdParams,
        response: { 200: BinaryContent, ...errorResponses },
      },
    },
    async (request) => getBinaryContent(deps, request.params.id),
  );

  app.delete(
    `${PATH}:id/`,
    {
      schema: {
        tags,
        summary: "Delete binary content and its file; refused (409) while a message uses it",
        description: "204, and the stored file is removed; 409 while a message uses it.",
        params: IntIdParams,
        response: {
          204: Type.Null({ description: "Deleted" }),
          ...errorResponses,
          409: routeError("CONTENT_BINARY_IN_USE: a message uses it; `details.messages` names them."),
        },
      },
    },
    async (request, reply) => {
      await deleteBinaryContent(deps, request.params.id, contextOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/media/:key",
    {
      // Public, like Seed's MEDIA_URL: providers fetch these (image_url, voice_speech_url) without a token.
      // The key is unguessable (random), and files never change, so they may be cached for good.
      config: { public: true },
      schema: {
        tags,
        summary: "A stored file (public; the URL is the binary content's `content`)",
        description:
          "Public (no token): the file's bytes with its MIME type, `Cache-Control: immutable` and `X-Content-Type-Options: nosniff`.",
        params: Type.Object({ key: Type.String({ maxLength: 255 }) }),
      },
    },
    async (request, reply) => {
      const found = await openMedia(deps, request.params.key);
      return reply
        .header("content-type", found.mimeType)
        .header("content-length", String(found.size))
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .send(found.stream);
    },
  );
}
