/**
 * Log-scale latency buckets for the stored stats: eight buckets per doubling,
 * so a percentile read back from them is within about 4.5% of the true
 * value, and a day's range needs some 200 buckets, of which a minute of one
 * job type uses a handful.
 */

const PER_DOUBLING = 8;

/** The bucket of a duration in ms: 0 for under 1 ms, then 1 + floor(8 * log2(ms)). */
export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return 1 + Math.floor(PER_DOUBLING * Math.log2(ms));
}

/** The value a bucket stands for: the geometric middle of its range (0 for bucket 0). */
export function bucketValue(bucket: number): number {
  if (bucket <= 0) return 0;
  return 2 ** ((bucket - 0.5) / PER_DOUBLING);
}

/** p50, p95 and p99 in ms (two decimals) of the samples counted in `buckets`, or nulls when there are none. */
export function percentiles(buckets: ReadonlyMap<number, number>): { p50: number | null; p95: number | null; p99: number | null } {
  let total = 0;
  for (const n of buckets.values()) total += n;
  if (total === 0) return { p50: null, p95: null, p99: null };
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const at = (q: number) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (const [bucket, n] of sorted) {
      seen += n;
      if (seen >= rank) return Math.round(bucketValue(bucket) * 100) / 100;
    }
    return Math.round(bucketValue(sorted[sorted.length - 1]![0]) * 100) / 100;
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
