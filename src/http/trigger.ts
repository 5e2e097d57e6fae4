/**
 * Signed triggers: an outside scheduler (QStash, a cron service, another
 * server) may call `POST /drain` with an HMAC-SHA256 signature instead of the
 * bearer token. The header is
 *
 *     spool-signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
 *
 * over the exact body bytes (an empty body signs "<t>."). A signature is
 * accepted within five minutes of its timestamp, either way, and only once:
 * signatures seen are remembered for that window, in this process. Two
 * secrets may be configured at once (current and next), so a secret can be
 * rotated without a window of refusals; a header may carry several `v1`
 * values, one per secret the sender signs with. Web Crypto only.
 */

/** The request header a signed trigger carries. */
export const SIGNATURE_HEADER = "spool-signature";

/** How far a signature's timestamp may be from now, either way: 5 minutes. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

/** The shortest trigger secret accepted, in characters. */
export const MIN_TRIGGER_SECRET_LENGTH = 16;

/** Why a signature was refused: the error code the 401 carries, and a reason that never holds a secret. */
export type SignatureRefusal = { code: "INVALID_SIGNATURE" | "STALE_SIGNATURE" | "REPLAYED_SIGNATURE"; reason: string };

export class TriggerSignatures {
  readonly #keys: Promise<CryptoKey[]>;
  /** Accepted signatures and when they leave the window, oldest first. */
  readonly #seen = new Map<string, number>();

  /** `secrets`: the current secret, then the next one while rotating. */
  constructor(secrets: readonly string[]) {
    const encoder = new TextEncoder();
    this.#keys = Promise.all(
      secrets.map((secret) => crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"])),
    );
  }

  /** Null when `header` signs `body` with a configured secret, fresh and not seen before; else why not. */
  async verify(header: string, body: Uint8Array, now: number): Promise<SignatureRefusal | null> {
    const parsed = parseHeader(header);
    if (parsed === null) {
      return { code: "INVALID_SIGNATURE", reason: `${SIGNATURE_HEADER} must be t=<unix ms>,v1=<hex HMAC-SHA256 of "<t>." and the body>` };
    }
    const { timestamp, signatures } = parsed;
    if (Math.abs(now - timestamp) > SIGNATURE_WINDOW_MS) {
      return { code: "STALE_SIGNATURE", reason: `the signature's timestamp ${timestamp} is more than ${SIGNATURE_WINDOW_MS / 1000} s from this server's clock` };
    }
    const prefix = new TextEncoder().encode(`${timestamp}.`);
    const message = new Uint8Array(prefix.length + body.length);
    message.set(prefix);
    message.set(body, prefix.length);
    const matched: string[] = [];
    for (const signature of new Set(signatures)) {
      const bytes = hexBytes(signature);
      if (bytes === null) continue;
      for (const key of await this.#keys) {
        // crypto.subtle.verify compares in constant time
        if (await crypto.subtle.verify("HMAC", key, bytes, message)) matched.push(signature);
      }
    }
    if (matched.length === 0) return { code: "INVALID_SIGNATURE", reason: "the signature does not match the body with any configured trigger secret" };
    this.#forget(now);
    // every valid value is remembered: a header signed with two secrets cannot be replayed with one of them
    if (matched.some((signature) => this.#seen.has(signature))) {
      return { code: "REPLAYED_SIGNATURE", reason: "this signature was already used; sign every trigger afresh" };
    }
    for (const signature of matched) this.#seen.set(signature, timestamp + SIGNATURE_WINDOW_MS);
    return null;
  }

  /** Drops signatures whose timestamp has left the window: they are refused as stale anyway. */
  #forget(now: number): void {
    for (const [signature, until] of this.#seen) {
      if (until < now) this.#seen.delete(signature);
    }
  }
}

function parseHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const [key, value, ...rest] = part.trim().split("=");
    if (value === undefined || rest.length > 0) return null;
    if (key === "t") {
      if (timestamp !== null || !/^\d{1,16}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === "v1") {
      signatures.push(value.toLowerCase());
    }
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

function hexBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[0-9a-f]{64}$/.test(hex)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/**
 * Signs `body` for `POST /drain` the way `TriggerSignatures` verifies it: the
 * value of the `spool-signature` header, for a scheduler written in
 * TypeScript (or a test). `timestamp` defaults to now.
 */
export async function signTrigger(secret: string, body: string | Uint8Array, timestamp = Date.now()): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${timestamp}.`);
  const message = new Uint8Array(prefix.length + bytes.length);
  message.set(prefix);
  message.set(bytes, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  return `t=${timestamp},v1=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
