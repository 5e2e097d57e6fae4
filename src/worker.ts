/**
 * The worker process: environment -> configuration -> jobs module -> Spool ->
 * start -> the HTTP handler served on the configured address, and a graceful
 * stop on SIGTERM or SIGINT (exit 0). Started with
 * `bun run worker`, `deno task worker` or `node dist/worker.js`.
 */
import { loadConfig } from "./config.ts";
import { SpoolError } from "./core/errors.ts";
import { createJsonLogger } from "./core/logger.ts";
import type { WorkerDefinition } from "./define-worker.ts";
import { createOrderPipeline } from "./example/orders/pipeline.ts";
import { ensureDatabaseFolder, moduleUrl } from "./runtime/files.ts";
import { currentDirectory, exitProcess, hostName, onShutdownSignal, processId, readEnvironment, runtimeName } from "./runtime/host.ts";
import { serve } from "./serve.ts";
import { createSpool } from "./create-spool.ts";

const SHUTDOWN_GRACE_MS = 10_000;

const MAIL_FAILURE_RATE = "SPOOL_EXAMPLE_MAIL_FAILURE_RATE";

/** The bundled order pipeline, with the one setting it takes from the environment. */
function bundledPipeline(env: Record<string, string | undefined>): WorkerDefinition {
  const raw = env[MAIL_FAILURE_RATE];
  if (raw === undefined || raw.trim() === "") return createOrderPipeline();
  const rate = Number(raw);
  if (!(rate >= 0 && rate <= 1)) throw new SpoolError("INVALID_CONFIG", `${MAIL_FAILURE_RATE} must be a number from 0 to 1, got ${JSON.stringify(raw)}`);
  return createOrderPipeline({ mailFailureRate: rate });
}

async function loadJobsModule(path: string | undefined, env: Record<string, string | undefined>): Promise<WorkerDefinition> {
  if (path === undefined) return bundledPipeline(env);
  let loaded: { default?: unknown };
  try {
    loaded = await import(moduleUrl(path, currentDirectory()));
  } catch (error) {
    throw new SpoolError("INVALID_CONFIG", `SPOOL_JOBS=${JSON.stringify(path)} could not be imported: ${(error as Error).message}`, { cause: error });
  }
  const definition = loaded.default as Partial<WorkerDefinition> | undefined;
  if (typeof definition !== "object" || definition === null || typeof definition.jobs !== "object" || definition.jobs === null) {
    throw new SpoolError("INVALID_CONFIG", `SPOOL_JOBS=${JSON.stringify(path)} must default-export { jobs, schedules?, routes? } (see defineWorker)`);
  }
  return definition as WorkerDefinition;
}

async function main(): Promise<void> {
  const logger0 = createJsonLogger("info");
  const env = readEnvironment();
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    logger0.error((error as Error).message, { code: (error as SpoolError).code });
    exitProcess(1);
  }
  const logger = createJsonLogger(config.logLevel);
  try {
    const definition = await loadJobsModule(config.jobsModule, env);
    await ensureDatabaseFolder(config.databaseUrl);
    const spool = await createSpool({
      url: config.databaseUrl,
      authToken: config.authToken,
      logger,
      leaseMs: config.leaseMs,
      maxJsonDepth: config.maxJsonDepth,
      retentionMs: config.retentionMs,
      workerId: `${hostName()}:${processId()}`,
    });
    // #region host_jobs_module
    for (const [type, { handler, ...options }] of Object.entries(definition.jobs)) {
      spool.define(type, handler, options);
    }
    for (const [name, { cron, ...options }] of Object.entries(definition.schedules ?? {})) {
      await spool.schedule(name, cron, options);
    }
    await definition.setup?.(spool);
    // start first: it refuses a damaged database file before any port opens
    const runtime = await spool.start({ concurrency: config.concurrency, prefetch: config.prefetch, queues: config.queues });
    // #endregion host_jobs_module
    const server = await serve(spool, {
      port: config.port,
      hostname: config.hostname,
      routes: definition.routes ?? [],
      apiToken: config.apiToken,
      readToken: config.readToken,
      metricsToken: config.metricsToken,
      allowedHosts: config.allowedHosts,
      corsOrigins: config.corsOrigins,
      allowUnauthenticated: config.allowUnauthenticated,
      triggerSecrets: config.triggerSecrets,
    }).catch(async (error: unknown) => {
      await runtime.stop({ graceMs: 0 });
      throw error;
    });
    logger.info("http listening", { url: server.url, auth: config.apiToken !== undefined ? "bearer token" : "none" });
    logger.info("spool worker ready", {
      runtime: runtimeName,
      database: config.databaseUrl,
      url: server.url,
      jobsModule: config.jobsModule ?? "bundled order pipeline",
    });
    let shuttingDown = false;
    onShutdownSignal(async (signal) => {
      if (shuttingDown) return;
      shuttingDown = true;
      logger.info("shutting down", { signal });
      try {
        await server.close();
        await runtime.stop({ graceMs: SHUTDOWN_GRACE_MS });
        await spool.close();
      } catch (error) {
        logger.error("shutdown failed", { error: (error as Error).message });
        exitProcess(1);
      }
      exitProcess(0);
    });
  } catch (error) {
    logger.error(`worker failed to start: ${(error as Error).message}`, { code: (error as SpoolError).code });
    exitProcess(1);
  }
}

await main();
