/**
 * The test parser of the Prometheus text format (test/support/prometheus.ts)
 * on the format's own example (prometheus/docs, exposition_formats.md), and
 * on the mistakes it must refuse: it is what the metrics tests trust.
 */
import { describe, expect, it } from "vitest";
import { parseExposition, sampleValue } from "../support/prometheus.ts";

const EXAMPLE = String.raw`# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
`;

describe("the Prometheus text parser used by the tests", () => {
  it("reads the format's own example: values, timestamps, escapes, types and help", () => {
    const parsed = parseExposition(EXAMPLE);
    expect(parsed.samples).toHaveLength(20);
    expect(sampleValue(parsed, "http_requests_total", { code: "400" })).toBe(3);
    expect(parsed.samples[0]).toEqual({ name: "http_requests_total", labels: { method: "post", code: "200" }, value: 1027, timestamp: 1395066363000 });
    expect(parsed.samples[2]!.labels).toEqual({ path: "C:\\DIR\\FILE.TXT", error: 'Cannot find file:\n"FILE.TXT"' });
    expect(sampleValue(parsed, "metric_without_timestamp_and_labels")).toBe(12.47);
    expect(parsed.samples[4]).toMatchObject({ value: Infinity, timestamp: -3982045 });
    expect(sampleValue(parsed, "http_request_duration_seconds_bucket", { le: "+Inf" })).toBe(144320);
    expect(sampleValue(parsed, "rpc_duration_seconds_sum")).toBe(17560473);
    expect(parsed.types.get("http_request_duration_seconds")).toBe("histogram");
    expect(parsed.help.get("http_requests_total")).toBe("The total number of HTTP requests.");
  });

  it("refuses lines and families the format does not allow", () => {
    const bad = [
      "metric{label=unquoted} 1",
      "9starts_with_digit 1",
      "metric 1 2 3",
      "metric{a=\"x\",a=\"y\"} 1",
      "metric{a=\"bad \\q escape\"} 1",
      "# TYPE m counter\n# TYPE m gauge",
      "m 1\n# TYPE m counter",
      "a 1\nb 1\na 2",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_count 4",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1",
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3",
      "# TYPE m countr",
    ];
    for (const text of bad) expect(() => parseExposition(text), text).toThrow();
  });
});
