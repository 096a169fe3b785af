import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, isIPv6 } from "node:net";

/** `dns.lookup`'s shape, as `net.connect`'s `lookup` option calls it (with `all: true` or without). */
export type Lookup = typeof dnsLookup;

/** A URL, or the address it resolved to, that the policy does not allow. */
export class UrlNotAllowedError extends Error {
  override name = "UrlNotAllowedError";
}

/** Loopback, private, shared, link-local, documentation, multicast and reserved IPv4 ranges. */
const NON_PUBLIC_V4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];
/** Inside global unicast (2000::/3), the ranges that are not public or embed another address. */
const NON_PUBLIC_V6: [string, number][] = [
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["3fff::", 20],
];

const nonPublicV4 = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V4) {
  nonPublicV4.addSubnet(net, prefix, "ipv4");
}
const globalV6 = new BlockList();
globalV6.addSubnet("2000::", 3, "ipv6");
const nonPublicV6 = new BlockList();
for (const [net, prefix] of NON_PUBLIC_V6) {
  nonPublicV6.addSubnet(net, prefix, "ipv6");
}
const mappedV4 = new BlockList();
mappedV4.addSubnet("::ffff:0:0", 96, "ipv6");

const family = (ip: string) => (isIPv6(ip) ? "ipv6" : "ipv4");
const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, "$1");

/**
 * Whether an IP address is public: IPv4 outside the special ranges above; IPv6 in global unicast (so not
 * `::`, `::1`, ULA fc00::/7, link-local fe80::/10, multicast, NAT64 or IPv4-compatible forms) outside the
 * special ranges, and an IPv4-mapped `::ffff:a.b.c.d` judged as the IPv4 address it maps.
 */
export function isPublicAddress(ip: string): boolean {
  const address = unbracket(ip);
  if (!isIP(address)) {
    return false;
  }
  if (!isIPv6(address)) {
    return !nonPublicV4.check(address, "ipv4");
  }
  if (mappedV4.check(address, "ipv6")) {
    return !nonPublicV4.check(address, "ipv6");
  }
  return globalV6.check(address, "ipv6") && !nonPublicV6.check(address, "ipv6");
}

/**
 * Which URLs an untrusted caller may make the platform call, from a comma-separated allow-list: `*` (any host
 * name), `api.example.org` (that host), `*.example.org` (its subdomains), and IP addresses or CIDR ranges
 * (`203.0.113.7`, `10.20.0.0/16`, `fd00::/8`). A URL's host must be listed; every address it connects to
 * must be public or inside a listed address or range, so a private address is used only when it is
 * explicitly allowed, whatever a name resolves to.
 */
export class UrlPolicy {
  private readonly anyName: boolean;
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly addresses = new BlockList();

  constructor(allowList: string | undefined) {
    const entries = (allowList ?? "")
      .split(",")
      .map((e) => e.trim().toLowerCase().replace(/\.$/, ""))
      .filter(Boolean);
    this.anyName = entries.includes("*");
    for (const entry of entries) {
      const [ip, prefix] = entry.split("/") as [string, string | undefined];
      if (isIP(unbracket(ip))) {
        const address = unbracket(ip);
        const bits = prefix === undefined ? (isIPv6(address) ? 128 : 32) : Number(prefix);
        this.addresses.addSubnet(address, bits, family(address));
      } else if (entry.startsWith("*.")) {
        this.suffixes.push(entry.slice(1));
      } else if (entry !== "*") {
        this.names.add(entry);
      }
    }
  }

  /** Whether the policy allows an address: public, or inside a listed address or range. */
  addressProblem(ip: string): string | undefined {
    if (isPublicAddress(ip) || this.addresses.check(unbracket(ip), family(unbracket(ip)))) {
      return undefined;
    }
    return `${ip} is not a public address and is not in the allow-list`;
  }

  /** Why the policy refuses a URL's host (not resolved), or undefined when the host is allowed. */
  hostProblem(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `"${url}" is not a URL`;
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return `${parsed.protocol} URLs are not allowed`;
    }
    const host = unbracket(parsed.hostname).replace(/\.$/, "");
    if (isIP(host)) {
      return (
        this.addressProblem(host) ??
        (this.anyName || this.addresses.check(host, family(host))
          ? undefined
          : `${host} is not in the allow-list`)
      );
    }
    if (this.anyName || this.names.has(host) || this.suffixes.some((s) => host.endsWith(s))) {
      return undefined;
    }
    return `${host} is not in the allow-list`;
  }

  /**
   * The host check, then every address the host resolves to now (at save time; `guardedLookup` checks again
   * at connect time, since a name's addresses can change). Undefined when the URL is allowed.
   */
  async problem(url: string, lookup: Lookup = dnsLookup): Promise<string | undefined> {
    const hostProblem = this.hostProblem(url);
    if (hostProblem) {
      return hostProblem;
    }
    const host = unbracket(new URL(url).hostname);
    if (isIP(host)) {
      return undefined;
    }
    let addresses: LookupAddress[];
    try {
      addresses = await new Promise((resolve, reject) =>
        lookup(host, { all: true }, (err, all) => (err ? reject(err) : resolve(all))),
      );
    } catch (err) {
      return `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    for (const { address } of addresses) {
      const problem = this.addressProblem(address);
      if (problem) {
        return `${host} resolves to ${problem}`;
      }
    }
    return undefined;
  }

  /**
   * A `lookup` for `net.connect` (an HTTP agent's or a request's option) that resolves with `lookup` and
   * fails with UrlNotAllowedError if any address is not allowed: the addresses checked are the ones the
   * socket then connects to, so a name that resolved to a public address when a URL was saved and to a
   * private one now (DNS rebinding) is refused.
   */
  guardedLookup(lookup: Lookup = dnsLookup): Lookup {
    return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
      lookup(hostname, { ...options, all: true }, (err, all) => {
        if (err) {
          callback(err);
          return;
        }
        const problem = all.map((a) => this.addressProblem(a.address)).find(Boolean);
        if (problem) {
          callback(new UrlNotAllowedError(`${hostname} resolves to ${problem}`));
          return;
        }
        if ((options as { all?: boolean }).all) {
          callback(null, all);
          return;
        }
        const [first] = all as [LookupAddress];
        callback(null, first.address, first.family);
      });
    }) as Lookup;
  }
}

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** When set, the URL and every address connected to must be allowed by it (else UrlNotAllowedError). */
  policy?: UrlPolicy;
  /** Name resolution (default `dns.lookup`); tests replace it. */
  lookup?: Lookup;
}

/** A POST's outcome; `timeout` when no answer came within the time allowed. */
export type PostResult = { status: number; statusText: string } | { timeout: true };

/**
 * POSTs `body` to `url` (no redirects followed) and resolves with the answer's status once its body is
 * read. With a `policy`, the host is checked first and the addresses at connect time (see guardedLookup):
 * a refused URL rejects with UrlNotAllowedError before any byte is sent. Connection errors reject.
 */
export function postGuarded(url: string, body: string, options: PostOptions): Promise<PostResult> {
  const { policy, headers, timeoutMs } = options;
  const refused = policy?.hostProblem(url);
  if (refused) {
    return Promise.reject(new UrlNotAllowedError(refused));
  }
  const lookup = policy ? policy.guardedLookup(options.lookup) : options.lookup;
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { method: "POST", headers, lookup, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "" }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ timeout: true });
    });
    req.on("error", reject);
    req.end(body);
  });
}
