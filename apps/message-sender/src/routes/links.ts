import { externalUrl, type LinkRequest } from "@tidings/service-kit";

/** A record with Seed's `url`: the absolute link to it, under `collection` (`/api/v1/outbound/`). */
export const linked = <T extends { id: string }>(
  request: Pick<LinkRequest, "protocol" | "host" | "server">,
  collection: string,
  record: T,
): T & { url: string } => ({ url: externalUrl(request, `${collection}${record.id}/`), ...record });
