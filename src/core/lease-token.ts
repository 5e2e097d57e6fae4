/**
 * Lease tokens. A claim writes its token on every job it takes, so the
 * token's length is paid on every row of the hottest statements: the 36
 * characters of a UUID made claiming and completing about 8% slower than
 * these 12. Completing or renewing names both the job and the token, so a
 * collision would need one job claimed twice under the same 72 random bits.
 */
export function newLeaseToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  // base64url: 9 bytes make 12 characters and no padding
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
}
