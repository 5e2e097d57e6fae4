/**
 * A simulated mail provider that fails now and then: each send fails with
 * probability `failureRate`. It keeps what it sent in memory, for tests and
 * the demo to read. How fast it may be called is the job type's rate limit
 * (`rateLimit` on send_order_confirmation), decided in the database for
 * every worker at once, not here.
 */

/** The provider refused or lost the message. */
export class MailFailed extends Error {
  override name = "MailFailed";
}

export interface MailMessage {
  to: string;
  subject: string;
  sentAt: number;
}

export interface MailerOptions {
  /** Share of sends that fail, from 0 to 1. Default 0. */
  failureRate?: number;
  /** Randomness in [0, 1), for tests. Default Math.random. */
  random?: () => number;
  /** Clock for `sentAt`. Default Date.now. */
  now?: () => number;
}

export class Mailer {
  /** Every message sent, oldest first. */
  readonly sent: MailMessage[] = [];
  failureRate: number;
  readonly #random: () => number;
  readonly #now: () => number;

  /** Throws RangeError for a failure rate outside 0..1. */
  constructor(options: MailerOptions = {}) {
    this.failureRate = checkRate(options.failureRate ?? 0);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Sends one message; throws MailFailed (with probability `failureRate`). */
  async send(message: { to: string; subject: string }): Promise<void> {
    if (this.#random() < this.failureRate) throw new MailFailed(`mail to ${message.to} bounced: the provider answered 451`);
    this.sent.push({ to: message.to, subject: message.subject, sentAt: this.#now() });
  }
}

export function checkRate(rate: number): number {
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) throw new RangeError(`failureRate must be a number from 0 to 1, got ${rate}`);
  return rate;
}
