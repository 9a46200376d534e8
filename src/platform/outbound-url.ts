/**
 * Where the service may send requests a client configured (webhooks, the authorization hook): http or
 * https only, and, unless private targets are allowed, never a host that resolves to a loopback,
 * private, link-local or unspecified address (server-side request forgery). Checked when the URL is
 * set and again before every call, since what a name resolves to can change.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

const MAX_URL_LENGTH = 2048;

/** IPv4 ranges no outgoing call may reach: [first octets, prefix length]. */
const BLOCKED_V4: readonly [number[], number][] = [
  [[0], 8], // "this network", unspecified
  [[10], 8], // private
  [[100, 64], 10], // carrier-grade NAT (shared address space)
  [[127], 8], // loopback
  [[169, 254], 16], // link-local (cloud metadata services live here)
  [[172, 16], 12], // private
  [[192, 168], 16], // private
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

function v4Blocked(address: string): boolean {
  const octets = address.split(".").map(Number);
  const value = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return BLOCKED_V4.some(([prefix, bits]) => {
    const base = [...prefix, 0, 0, 0, 0].slice(0, 4).reduce((sum, octet) => sum * 256 + octet, 0);
    const size = 2 ** (32 - bits);
    return value >= base && value < base + size;
  });
}

function v6Blocked(address: string): boolean {
  const lower = address.toLowerCase();
  // An IPv4-mapped address, dotted (::ffff:10.0.0.1) or as the URL parser writes it (::ffff:a00:1).
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted?.[1] !== undefined) return v4Blocked(dotted[1]);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const high = Number.parseInt(hex[1], 16);
    const low = Number.parseInt(hex[2], 16);
    return v4Blocked(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
  }
  if (lower === "::" || lower === "::1") return true;
  // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast.
  return /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith("ff");
}

/** True when `address` (an IP literal) is loopback, private, link-local, unspecified or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  return isIP(address) === 6 ? v6Blocked(address) : v4Blocked(address);
}

/** Why the service may not call `url`, or undefined when it may. */
export async function outboundUrlProblem(url: string, allowPrivate: boolean): Promise<string | undefined> {
  if (url.length > MAX_URL_LENGTH) return `The URL is longer than ${MAX_URL_LENGTH} characters.`;
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    return "The URL must be an absolute http or https URL.";
  }
  if (parsed.username !== "" || parsed.password !== "") return "The URL must not carry credentials.";
  if (allowPrivate) return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const addresses =
    isIP(host) === 0
      ? await lookup(host, { all: true, verbatim: true }).catch(() => undefined)
      : [{ address: host }];
  if (addresses === undefined || addresses.length === 0) return `The host ${host} does not resolve.`;
  const blocked = addresses.find((entry) => isPrivateAddress(entry.address));
  return blocked === undefined
    ? undefined
    : `The host ${host} resolves to ${blocked.address}, a loopback, private, link-local or unspecified address.`;
}
