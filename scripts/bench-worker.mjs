// One benchmark worker process: no-op handlers on the given database file,
// until SIGTERM. Started by scripts/bench.mjs for the multi-process figures.
import { createSpool } from "../dist/index.js";

const [url, concurrency = "10"] = process.argv.slice(2);
const spool = await createSpool({ url });
spool.define("noop", () => undefined);
// for pickup latency across processes: when a handler started, on this machine's clock
spool.define("ping", (payload) => console.log(`ping ${payload.i} ${performance.timeOrigin + performance.now()}`));
// a short idle poll, so every process finds the jobs within 25 ms of their release
const worker = await spool.start({ concurrency: Number(concurrency), http: false, maxPollMs: 25 });
process.on("SIGTERM", async () => {
  await worker.stop({ graceMs: 1000 });
  await spool.close();
  process.exit(0);
});
console.log("ready");
