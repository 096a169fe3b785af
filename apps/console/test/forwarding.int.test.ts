/**
 * What the console's server forwards, against the real server in front of the real services: only the paths the
 * console's pages use (`/api/<service>/api/v1/...`, and content's `/media/...`). A service's `/metrics`, `/docs`,
 * health and Seed's `/api/metrics/` stay internal: the console answers 404 in the services' error shape, however
 * the path is spelt (dot segments). No browser: requests are sent as written, unnormalised.
 */
import { sendRaw, TEST_ADMIN_TOKEN } from "@tidings/testing";
import { describe, expect } from "vitest";
import { consoleTest as it } from "./support.ts";

/** GET `path` as the admin, exactly as written (fetch would resolve its dot segments first). */
const get = (origin: string, path: string) =>
  sendRaw(origin, {
    path,
    headers: { authorization: `Token ${TEST_ADMIN_TOKEN}`, accept: "application/json" },
  });

describe("the console's forwarding", () => {
  it("answers 404 in the error shape for every path of a service its pages do not use", async ({ stack }) => {
    for (const path of [
      "/api/identity/metrics",
      "/api/message-sender/metrics",
      "/api/identity/docs",
      "/api/identity/docs/json",
      "/api/scheduler/api/health/",
      "/api/subscription/api/metrics/",
      "/api/content/api/v1/../../metrics",
      "/api/identity/api/v1/%2e%2e/%2E%2E/metrics",
      "/api/identity/api/v1/..\\..\\metrics",
      "/api/identity/media/anything",
      "/api/identity/api/v10/identities/",
      "/api/nobody/api/v1/identities/",
      "/api/identity",
    ]) {
      const res = await get(stack.url, path);
      expect({ path, status: res.status, type: res.headers["content-type"] }).toEqual({
        path,
        status: 404,
        type: "application/json",
      });
      expect(JSON.parse(res.body), path).toEqual({
        error: { code: "NOT_FOUND", message: expect.any(String), requestId: "console" },
      });
    }
  });

  it("forwards an encoded slash as part of its segment: it never reaches the service's metrics", async ({
    stack,
  }) => {
    for (const path of ["/api/identity/api/v1/..%2F..%2Fmetrics", "/api/identity/api/v1/..%5C..%5Cmetrics"]) {
      const res = await get(stack.url, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain("# HELP");
    }
  });

  it("forwards the API paths and content's media files", async ({ stack }) => {
    const identities = await get(stack.url, "/api/identity/api/v1/identities/?limit=1");
    expect(identities.status).toBe(200);
    expect(JSON.parse(identities.body)).toHaveProperty("results");
    const schedules = await get(stack.url, "/api/scheduler/api/v1/schedule/?limit=1");
    expect(schedules.status).toBe(200);
    // Content's own answer for a file it does not have (not the console's refusal).
    const media = await get(stack.url, "/api/content/media/no-such-file.wav");
    expect(media.status).toBe(404);
    expect(media.body).not.toContain('"requestId":"console"');
    // What is forwarded is never run as a page of this origin (an uploaded SVG or HTML file): sandboxed, not sniffed.
    for (const answer of [identities, media]) {
      expect(answer.headers["content-security-policy"]).toBe(
        "sandbox; default-src 'none'; frame-ancestors 'none'",
      );
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    }
  });

  it("serves the app's pages under a policy that runs only its own scripts and lets no site frame them", async ({
    stack,
  }) => {
    const page = await get(stack.url, "/");
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
  });
});
