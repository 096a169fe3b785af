import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { isPublicAddress, type Lookup, postGuarded, UrlNotAllowedError, UrlPolicy } from "./url-guard.ts";

interface ListenerFixtures {
  /** The path of every request the listener got, in order. */
  received: string[];
  /** The port of a local listener answering 204, for the whole file. */
  port: number;
}

/** Its tests take `{ port, received }` (the listener starts when a test first asks for it). */
const it = test.extend<ListenerFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  received: [async ({}, use) => use([]), { scope: "file" }],
  port: [
    async ({ received }, use) => {
      const server = createServer((req, res) => {
        received.push(req.url ?? "");
        res.statusCode = 204;
        res.end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        await use((server.address() as AddressInfo).port);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
    { scope: "file" },
  ],
});

/** Addresses a webhook must not reach: loopback, private, link-local, reserved, and what is no address at all. */
const NOT_PUBLIC = [
  "127.0.0.1",
  "127.255.0.9",
  "0.0.0.0",
  "10.1.2.3",
  "172.16.0.1",
  "172.31.255.255",
  "192.168.1.1",
  "100.64.0.1",
  "100.127.255.254",
  "169.254.169.254",
  "198.18.0.1",
  "224.0.0.1",
  "255.255.255.255",
  "::",
  "::1",
  "[::1]",
  "fd00::1",
  "fc00::1",
  "fe80::1",
  "ff02::1",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "0:0:0:0:0:ffff:a00:1",
  "::ffff:169.254.169.254",
  "::127.0.0.1",
  "64:ff9b::7f00:1",
  "2002:7f00:1::",
  "2001:db8::1",
  "not-an-ip",
];
const PUBLIC = [
  "93.184.216.34",
  "8.8.8.8",
  "172.32.0.1",
  "100.128.0.1",
  "2606:4700:4700::1111",
  "::ffff:8.8.8.8",
];

describe("isPublicAddress", () => {
  it.for([
    ...NOT_PUBLIC.map((ip) => ({ ip, verdict: "not public", expected: false })),
    ...PUBLIC.map((ip) => ({ ip, verdict: "public", expected: true })),
  ])("$ip is $verdict", ({ ip, expected }) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });
});

describe("UrlPolicy", () => {
  const noDns: Lookup = ((_h: string, _o: object, cb: (e: Error) => void) =>
    cb(new Error("no DNS in this test"))) as unknown as Lookup;
  const resolvingTo = (ip: string): Lookup =>
    ((_h: string, _o: object, cb: (e: null, a: { address: string; family: number }[]) => void) =>
      cb(null, [{ address: ip, family: ip.includes(":") ? 6 : 4 }])) as unknown as Lookup;

  it("allows only listed hosts, and private addresses only when listed", async () => {
    const policy = new UrlPolicy(" api.example.org, *.hooks.example.net ,10.20.0.0/16, fd00::5 ");
    expect(policy.hostProblem("https://api.example.org/x")).toBeUndefined();
    expect(policy.hostProblem("https://API.Example.org./x")).toBeUndefined();
    expect(policy.hostProblem("https://a.hooks.example.net/x")).toBeUndefined();
    expect(policy.hostProblem("https://hooks.example.net/x")).toContain("not in the allow-list");
    expect(policy.hostProblem("https://evil.example.org/x")).toContain("not in the allow-list");
    expect(policy.hostProblem("http://10.20.3.4/x")).toBeUndefined();
    expect(policy.hostProblem("http://[fd00::5]/x")).toBeUndefined();
    expect(policy.hostProblem("http://10.21.0.1/x")).toContain("not a public address");
    expect(policy.hostProblem("http://8.8.8.8/x")).toContain("not in the allow-list");
    expect(policy.hostProblem("ftp://api.example.org/x")).toContain("not allowed");
    expect(await policy.problem("https://api.example.org/", resolvingTo("93.184.216.34"))).toBeUndefined();
    expect(await policy.problem("https://api.example.org/", resolvingTo("10.20.0.9"))).toBeUndefined();
    expect(await policy.problem("https://api.example.org/", resolvingTo("127.0.0.1"))).toContain(
      "resolves to 127.0.0.1 is not a public address",
    );
    expect(await policy.problem("https://api.example.org/", noDns)).toContain("does not resolve");
  });

  it("with *, allows any public host and refuses every non-public literal form", async () => {
    const policy = new UrlPolicy("*");
    expect(policy.hostProblem("https://anything.example/")).toBeUndefined();
    expect(policy.hostProblem("http://8.8.8.8/")).toBeUndefined();
    for (const url of [
      "http://127.0.0.1/",
      "http://0x7f.1/",
      "http://2130706433/",
      "http://0/",
      "http://0.0.0.0/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://100.64.0.1/",
      "http://[fd12::1]/",
      "http://[fe80::1]/",
    ]) {
      expect(policy.hostProblem(url), url).toMatch(/not a public address/);
    }
    expect(await policy.problem("http://localhost/", resolvingTo("127.0.0.1"))).toContain("not a public");
  });

  it("allows nothing when unset", () => {
    expect(new UrlPolicy(undefined).hostProblem("https://api.example.org/")).toContain(
      "not in the allow-list",
    );
  });
});

describe("postGuarded", () => {
  /** Resolves every name to 127.0.0.1, where the listener is, as a rebinding DNS server would. */
  const rebound: Lookup = ((_h: string, options: { all?: boolean }, cb: (...a: unknown[]) => void) =>
    options.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as Lookup;
  const post = (url: string, policy?: UrlPolicy) =>
    postGuarded(url, "{}", {
      headers: { "content-type": "application/json" },
      timeoutMs: 5000,
      policy,
      lookup: rebound,
    });

  it("refuses at connect time a listed name that resolves to a private address: the listener sees nothing", async ({
    port,
    received,
  }) => {
    const before = received.length;
    await expect(
      post(`http://public.example.org:${port}/rebind`, new UrlPolicy("public.example.org")),
    ).rejects.toThrow(UrlNotAllowedError);
    await expect(post(`http://localhost:${port}/localhost`, new UrlPolicy("localhost"))).rejects.toThrow(
      /localhost resolves to 127\.0\.0\.1 is not a public address/,
    );
    await expect(post(`http://127.0.0.1:${port}/literal`, new UrlPolicy("*"))).rejects.toThrow(
      UrlNotAllowedError,
    );
    expect(received.length).toBe(before);
  });

  it("connects when the address is explicitly allowed, or without a policy", async ({ port, received }) => {
    expect(
      await post(`http://public.example.org:${port}/allowed`, new UrlPolicy("public.example.org,127.0.0.1")),
    ).toEqual({
      status: 204,
      statusText: "No Content",
    });
    expect(await post(`http://public.example.org:${port}/admin`)).toMatchObject({ status: 204 });
    expect(received.slice(-2)).toEqual(["/allowed", "/admin"]);
  });
});
