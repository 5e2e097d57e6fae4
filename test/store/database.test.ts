/**
 * The Database wrapper's own behaviour toward a libSQL server that never answers.
 */
import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { Database } from "../../src/store/database.ts";
import { nativePlatform } from "../../src/platform/native.ts";
const { connect } = nativePlatform;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("Database", () => {
  it("fails a request to a server that accepts the connection and never answers, naming the server", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(r))));
    const port = (server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    const db = await Database.open({ url, requestTimeoutMs: 300, connect }, systemClock);
    cleanups.push(() => db.close());
    await expect(db.execute("SELECT 1")).rejects.toThrow(`database ${url} did not answer within 300 ms`);
    expect(sockets.length).toBeGreaterThan(0);
  });
});
