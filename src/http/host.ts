/**
 * The DNS-rebinding check: a web page on evil.example can resolve its own
 * name to 127.0.0.1 and then talk to a local worker as "same origin". The
 * browser still sends `Host: evil.example`, so a worker answers only the
 * host names it is known by.
 */

/** Whether `hostname` (a bind address or host name) is this machine's loopback: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The facts the Host check works from. */
export interface HostRules {
  /** The address the server is bound to; unknown when the handler runs elsewhere (an edge platform). */
  hostname?: string;
  /** The port it is bound to. */
  port?: number;
  /** Host names (optionally `name:port`) to answer besides the loopback ones. */
  allowedHosts?: readonly string[];
}

/**
 * Builds the check. Bound to loopback, the worker answers `localhost`,
 * `127.0.0.1` and `[::1]` (and the bind address) with its port, plus
 * `allowedHosts`. Bound elsewhere, or with the bind address unknown, it
 * answers any host unless `allowedHosts` names them.
 */
export function hostCheck(rules: HostRules): (host: string) => boolean {
  const allowed = (rules.allowedHosts ?? []).map(splitHost);
  const loopback = rules.hostname !== undefined && isLoopbackHostname(rules.hostname);
  if (loopback) {
    const names = new Set(["localhost", "127.0.0.1", "[::1]", bracketed(rules.hostname!.toLowerCase())]);
    for (const name of names) allowed.push({ name, port: rules.port === undefined ? "" : String(rules.port) });
  } else if (allowed.length === 0) {
    return () => true;
  }
  return (host) => {
    const given = splitHost(host);
    // a browser leaves out the port it defaults to
    const port = given.port === "" && given.name !== "" ? "80" : given.port;
    return allowed.some((a) => a.name === given.name && (a.port === "" || a.port === port));
  };
}

function bracketed(name: string): string {
  return name.includes(":") && !name.startsWith("[") ? `[${name}]` : name;
}

function splitHost(host: string): { name: string; port: string } {
  const lower = host.trim().toLowerCase();
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(lower);
  if (!match) return { name: lower, port: "" };
  return { name: match[1]!, port: match[2] ?? "" };
}

/** Whether `entry` is a host name, IPv4 address or bracketed IPv6 address, with an optional `:port`. */
export function isHostEntry(entry: string): boolean {
  return /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i.test(entry);
}
