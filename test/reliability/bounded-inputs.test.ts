/**
 * Inputs that could exhaust a process or corrupt what is read back are refused
 * with a SpoolError, in the library and over HTTP: JSON nested too deep, names
 * carrying control characters, and handler errors of megabytes, which are cut
 * before they are stored. Every assertion reads rows back.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MAX_ERROR_TEXT_BYTES, SpoolError, boundErrorText } from "../../src/core/errors.ts";
import { encodePayload, jsonTextDepth } from "../../src/core/payload.ts";
import { createHandler } from "../../src/http/handler.ts";
import type { SpoolOptions } from "../../src/spool.ts";
import { openSpool, waitFor } from "../support/system.ts";
import { storeOf } from "../support/internals.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(options: Partial<SpoolOptions> = {}) {
  const opened = await openSpool(options);
  cleanups.push(opened.cleanup);
  const app = createHandler(opened.spool);
  const post = (path: string, body: string) =>
    app.fetch(new Request(`http://127.0.0.1${path}`, { method: "POST", body, headers: { "content-type": "application/json" } }));
  return { spool: opened.spool, app, post };
}

/** `levels` arrays nested in one another, as a value and as JSON text. */
function nested(levels: number): { value: unknown; text: string } {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return { value, text: `${"[".repeat(levels)}1${"]".repeat(levels)}` };
}

async function refusal(work: Promise<unknown>): Promise<SpoolError> {
  try {
    await work;
  } catch (error) {
    expect(error).toBeInstanceOf(SpoolError);
    return error as SpoolError;
  }
  throw new Error("expected a SpoolError");
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

describe("JSON depth", () => {
  it("refuses a payload 10,000 levels deep with INVALID_PAYLOAD naming the limit, and writes nothing", async () => {
    const { spool } = await setup();
    const error = await refusal(spool.enqueue("deep", nested(10_000).value));
    expect(error.code).toBe("INVALID_PAYLOAD");
    expect(error.message).toContain("more than 64 levels deep");
    expect(await spool.countJobs()).toMatchObject({ pending: 0 });
  });

  it("accepts exactly 64 levels and refuses 65 by default", async () => {
    const { spool } = await setup();
    const { id } = await spool.enqueue("deep", nested(64).value);
    expect((await spool.getJob(id))?.payload).toEqual(nested(64).value);
    expect((await refusal(spool.enqueue("deep", nested(65).value))).message).toMatch(/payload(\[0\])+ nests .* more than 64 levels/);
  });

  it("takes its limit from the maxJsonDepth option", async () => {
    const { spool } = await setup({ maxJsonDepth: 3 });
    await spool.enqueue("deep", { a: [{ b: 1 }] });
    const error = await refusal(spool.enqueue("deep", { a: [{ b: [1] }] }));
    expect(error).toMatchObject({ code: "INVALID_PAYLOAD", message: expect.stringContaining("payload.a[0].b nests arrays and objects more than 3 levels deep") });
    await expect(spool.schedule("deep-tick", "@daily", { type: "deep", payload: [[[[1]]]] })).rejects.toMatchObject({ code: "INVALID_PAYLOAD" });
  });

  it("applies maxJsonDepth to jobs a handler enqueues through ctx.enqueue", async () => {
    const { spool } = await setup({ maxJsonDepth: 3 });
    spool.define("parent", (_payload, ctx) => {
      ctx.enqueue("child", [[[[1]]]]);
    }, { maxAttempts: 1 });
    const { id } = await spool.enqueue("parent", null);
    const worker = await spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
    cleanups.unshift(() => worker.stop({ graceMs: 0 }));
    const job = await waitFor("the parent to be dead", async () => {
      const read = await spool.getJob(id);
      return read?.status === "dead" ? read : null;
    });
    expect(job.history[0]!.error).toContain("more than 3 levels deep");
    expect(await spool.countJobs()).toMatchObject({ pending: 0, scheduled: 0 });
  });

  it("refuses a maxJsonDepth that is not a positive integer", async () => {
    await expect(openSpool({ maxJsonDepth: 0 })).rejects.toMatchObject({ code: "INVALID_CONFIG", message: expect.stringContaining("maxJsonDepth") });
  });

  it("answers 400 INVALID_PAYLOAD naming the depth for a request body 10,000 levels deep, not 500", async () => {
    const { spool, post } = await setup();
    const deepPayload = await post("/jobs", `{"type":"deep","payload":${nested(10_000).text}}`);
    expect(deepPayload.status).toBe(400);
    const body = (await deepPayload.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("INVALID_PAYLOAD");
    expect(body.error.message).toContain("a payload may nest at most 64 levels");
    // deep in an option rather than the payload, and brackets inside strings do not count
    expect((await post("/jobs", `{"type":"deep","backoff":${nested(5_000).text}}`)).status).toBe(400);
    expect((await post("/jobs", JSON.stringify({ type: "deep", payload: { text: "[".repeat(10_000) } }))).status).toBe(201);
    const fine = await post("/jobs", JSON.stringify({ type: "deep", payload: nested(64).value }));
    expect(fine.status).toBe(201);
    expect(await spool.countJobs()).toMatchObject({ pending: 2 });
  });

  it("measures the depth of JSON text without parsing it", () => {
    expect(jsonTextDepth('{"a":[1,{"b":"]]]"}],"c":"\\"["}', 100)).toBe(3);
    expect(jsonTextDepth(nested(100_000).text, 64)).toBe(65);
    expect(() => encodePayload(nested(100_000).value)).toThrow(SpoolError);
  });
});

describe("names", () => {
  const controls = ["a\u0000b", "tab\there", "line\nbreak", "del\u007f", "c1\u0085"];

  it("refuses a queue, idempotency key or workflow id with a control character, writing nothing", async () => {
    const { spool } = await setup();
    for (const bad of controls) {
      for (const options of [{ queue: bad }, { idempotencyKey: bad }, { workflowId: bad }]) {
        const error = await refusal(spool.enqueue("named", null, options));
        expect(error.code).toBe("INVALID_OPTIONS");
        expect(error.message).toContain("must not contain control characters");
        expect(error.message).toContain(JSON.stringify(bad));
      }
    }
    expect(await spool.countJobs()).toMatchObject({ pending: 0 });
  });

  it("refuses a job type, schedule name or queue to pause with a NUL", async () => {
    const { spool } = await setup();
    expect((await refusal(spool.enqueue("a\u0000b", null))).code).toBe("INVALID_OPTIONS");
    expect((await refusal(spool.schedule("tick\u0000", "@daily", { type: "a" }))).code).toBe("INVALID_OPTIONS");
    expect((await refusal(spool.pauseQueue("mail\u0000"))).code).toBe("INVALID_OPTIONS");
    expect((await refusal(spool.start({ http: false, queues: ["mail\u0000x"] }))).code).toBe("INVALID_OPTIONS");
  });

  it("answers 400 INVALID_OPTIONS over HTTP for a NUL in an idempotency key", async () => {
    const { spool, post } = await setup();
    const response = await post("/jobs", JSON.stringify({ type: "named", idempotencyKey: "k\u0000x" }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("INVALID_OPTIONS");
    expect(await spool.countJobs()).toMatchObject({ pending: 0 });
  });
});

describe("handler errors", () => {
  it("stores at most 8 KiB of a 5 MB error message and of its stack, in the history and last_error", async () => {
    const { spool } = await setup();
    const huge = "é".repeat(2_500_000); // 5 MB of UTF-8
    spool.define("loud", () => {
      throw new Error(huge);
    }, { maxAttempts: 1 });
    const { id } = await spool.enqueue("loud", null);
    const worker = await spool.start({ http: false, minPollMs: 5, maxPollMs: 50 });
    cleanups.unshift(() => worker.stop({ graceMs: 0 }));
    const job = await waitFor("the job to be dead", async () => {
      const read = await spool.getJob(id);
      return read?.status === "dead" ? read : null;
    });
    const attempt = job.history[0]!;
    expect(utf8Bytes(attempt.error!)).toBeLessThanOrEqual(MAX_ERROR_TEXT_BYTES);
    expect(utf8Bytes(attempt.stack!)).toBeLessThanOrEqual(MAX_ERROR_TEXT_BYTES);
    expect(attempt.error!.startsWith("éééé")).toBe(true);
    expect(attempt.error).toContain("[cut: 5000000 bytes in all]");
    const row = await storeOf(spool).db.execute({ sql: "SELECT length(CAST(last_error AS BLOB)) AS bytes, length(CAST(history AS BLOB)) AS history FROM spool_jobs WHERE id = ?", args: [Number(id)] });
    expect(Number(row.rows[0]!.bytes)).toBeLessThanOrEqual(MAX_ERROR_TEXT_BYTES);
    expect(Number(row.rows[0]!.history)).toBeLessThan(3 * MAX_ERROR_TEXT_BYTES);
  });

  it("cuts on a character boundary and leaves short text alone", () => {
    expect(boundErrorText("short")).toBe("short");
    const cut = boundErrorText("😀".repeat(10_000), 1001);
    expect(cut).not.toContain("\uFFFD");
    expect(utf8Bytes(cut)).toBeLessThanOrEqual(1001);
  });
});
