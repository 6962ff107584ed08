/**
 * The SSRF guard: webhooks may not reach loopback, private, link-local, multicast or cloud
 * metadata addresses unless the allowlist (hosts and CIDR ranges) permits them. URLs are
 * checked when a run is created (IP literals and localhost), and every resolved address is
 * checked again when the delivery connects — a public name that resolves to 127.0.0.1 is
 * refused too.
 */
import { BlockList, isIP } from "node:net";
import { InvalidArgumentError } from "../core/errors.js";

const FORBIDDEN_V4 = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const;
const FORBIDDEN_V6 = [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const;

const forbidden = new BlockList();
for (const [net, prefix] of FORBIDDEN_V4) forbidden.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of FORBIDDEN_V6) forbidden.addSubnet(net, prefix, "ipv6");

export class AddressGuard {
  private readonly hosts = new Set<string>();
  private readonly allowed = new BlockList();

  /** `allowlist`: hostnames (exact, case-insensitive) and CIDR ranges or single addresses. */
  constructor(allowlist: readonly string[] = []) {
    for (const raw of allowlist) {
      const entry = raw.trim().toLowerCase();
      if (entry === "") continue;
      const [address, prefix] = entry.split("/");
      const family = isIP(address!);
      if (family === 0) {
        if (prefix !== undefined) throw new InvalidArgumentError(`webhook allowlist entry '${raw}' is not a CIDR range or a hostname`);
        this.hosts.add(entry);
        continue;
      }
      const type = family === 4 ? "ipv4" : "ipv6";
      const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
        throw new InvalidArgumentError(`webhook allowlist entry '${raw}' has an invalid prefix length`);
      }
      this.allowed.addSubnet(address!, bits, type);
    }
  }

  static fromEnv(value: string | undefined): AddressGuard {
    return new AddressGuard((value ?? "").split(","));
  }

  hostAllowed(hostname: string): boolean {
    return this.hosts.has(unbracket(hostname).toLowerCase());
  }

  /** Why `address` may not be contacted, or undefined when it may. */
  refusal(address: string): string | undefined {
    const plain = unbracket(address);
    const family = isIP(plain);
    if (family === 0) return `'${address}' is not an IP address`;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain)?.[1];
    const [ip, type] = mapped !== undefined ? [mapped, "ipv4" as const] : [plain, family === 4 ? ("ipv4" as const) : ("ipv6" as const)];
    if (this.allowed.check(ip, type)) return undefined;
    if (forbidden.check(ip, type)) {
      return `${address} is a loopback, private, link-local or metadata address; add it to RUNLEDGER_WEBHOOK_ALLOWLIST to allow it`;
    }
    return undefined;
  }

  /** Checks a callback URL when it is given: scheme, and hosts that are addresses or localhost. */
  checkUrl(url: string, field = "callback_url"): void {
    const parsed = new URL(url);
    const host = unbracket(parsed.hostname).replace(/\.$/, "");
    if (this.hostAllowed(host)) return;
    if (host === "localhost" || host.endsWith(".localhost")) {
      throw new InvalidArgumentError(`${field} points at ${host}; webhooks may not reach this machine unless RUNLEDGER_WEBHOOK_ALLOWLIST allows it`);
    }
    if (isIP(host) !== 0) {
      const reason = this.refusal(host);
      if (reason !== undefined) throw new InvalidArgumentError(`${field}: ${reason}`);
    }
  }
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
