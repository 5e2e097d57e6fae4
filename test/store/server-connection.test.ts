/**
 * The server connection against a real sqld: writes go through one kept
 * stream (each request carries the stream's baton), reads through streams
 * of their own, and a stream that failed is never used again.
 */
import { describe, expect, it } from "vitest";
import { ServerConnection } from "../../src/store/server-connection.ts";
import { serverForFile } from "../support/sqld.ts";

const server = serverForFile("spool-server-connection-");

/** A connection whose pipeline requests are recorded: true for one that continues a stream (carries a baton). */
function recordingConnection() {
  const continued: boolean[] = [];
  const connection = new ServerConnection(server.url, {
    writesInFlight: 1,
    fetch: async (request) => {
      if (request.url.endsWith("/pipeline")) {
        const body = new Uint8Array(await request.clone().arrayBuffer());
        // protobuf and JSON alike: the baton comes first when there is one
        continued.push(body[0] === 0x0a || new TextDecoder().decode(body).startsWith('{"baton":"'));
      }
      return fetch(request);
    },
  });
  return { connection, continued };
}

describe("ServerConnection", () => {
  it("sends writes through one kept stream and reads through streams of their own", async () => {
    const { connection, continued } = recordingConnection();
    try {
      await connection.batch(["CREATE TABLE kept (id INTEGER PRIMARY KEY, v TEXT)"], "write");
      await connection.batch([{ sql: "INSERT INTO kept (v) VALUES (?)", args: ["a"] }], "write");
      await connection.execute({ sql: "INSERT INTO kept (v) VALUES (?)", args: ["b"] });
      expect((await connection.execute("SELECT v FROM kept ORDER BY id")).rows.map((r) => r.v)).toEqual(["a", "b"]);
      expect(continued).toEqual([false, true, true, false]);
    } finally {
      connection.close();
    }
  });

  it("opens a fresh stream for the write after one that failed, and its writes still land", async () => {
    const { connection, continued } = recordingConnection();
    try {
      await connection.batch(["CREATE TABLE IF NOT EXISTS fresh (id INTEGER PRIMARY KEY)"], "write");
      await expect(connection.batch(["INSERT INTO no_such_table VALUES (1)"], "write")).rejects.toThrow(/no_such_table/);
      await connection.batch(["INSERT INTO fresh (id) VALUES (7)"], "write");
      expect((await connection.execute("SELECT id FROM fresh")).rows.map((r) => r.id)).toEqual([7]);
      // the failed write went on the kept stream, which is then closed (a request of its own) and never used again
      expect(continued).toEqual([false, true, true, false, false]);
    } finally {
      connection.close();
    }
  });
});
