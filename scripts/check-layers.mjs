// Fails when a file under src/ imports from a layer it may not use: the layer
// rules of DESIGN.md ("data flows down, never up"), so a break fails CI instead
// of waiting for a reader to notice. Run by `npm run check-portable`; pass a
// project root as the first argument to check another tree (the tests do).
//
// The matrix: each layer and the layers it may import. Type-only imports
// (`import type`, `export type`) erase at build time, so a few layers may name
// a higher layer's types without depending on its code: http reads the
// facade's types, define-worker names a route's type and the facade's.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ALL = ["core", "store", "services", "http", "runtime", "platform", "config", "define-worker", "spool", "serve", "index", "web", "worker", "cli", "example"];
const without = (...names) => ALL.filter((name) => !names.includes(name));

/** layer -> { values: layers it may import, types: layers it may import types from } */
export const LAYER_RULES = {
  // jobs, states and transitions, backoff, payload codec, errors: nothing else
  core: { values: ["core"] },
  // schema and every SQL statement, on core's types
  store: { values: ["core", "store"] },
  // the loops of a worker process ask the store for named operations
  services: { values: ["core", "store", "services"] },
  // Request -> Response over the facade's public operations, never its insides
  http: { values: ["core", "http"], types: ["spool"] },
  // Node/Bun/Deno specifics; leaves that know nothing of Spool above core
  runtime: { values: ["core", "runtime"] },
  // what a Spool needs from the place it runs (database drivers, file identity)
  platform: { values: ["core", "store", "runtime", "platform"] },
  // SPOOL_* environment -> validated options, using http's own checks of hosts and origins
  config: { values: ["core", "http", "config"] },
  // the jobs-module helper: core's definitions, a route's type, and the
  // Spool's type for a module's setup(spool)
  "define-worker": { values: ["core"], types: ["http", "spool"] },
  // the library face: public operations over store and services; it does not
  // serve, and reaches the runtime only through the platform its entry injects
  spool: { values: ["core", "store", "services", "platform", "spool"] },
  // the library's one-call server: the facade behind the HTTP handler on a runtime
  serve: { values: ["core", "http", "runtime", "spool", "serve"] },
  // public API: re-exports only (the web entry's, plus what needs a runtime)
  index: { values: without("worker", "cli", "example") },
  // the same for edge platforms: no runtime adapter, no server (see WEB_FORBIDDEN too)
  web: { values: without("worker", "cli", "index", "example", "runtime", "serve") },
  // process entries and composition roots
  worker: { values: without("index", "web", "cli") },
  cli: { values: without("index", "web", "worker", "example") },
  // the bundled jobs module is user code: the public face only
  example: { values: ["core", "define-worker", "index", "example"] },
};

/** Modules the web entry's import graph may never load (native drivers, Node built-ins). */
const WEB_FORBIDDEN = [/^node:/, /^libsql$/, /^@libsql\/client$/];

/** The layer of a path relative to the project root, or undefined when none is defined. */
export function layerOf(rel) {
  const path = rel.split("\\").join("/");
  const folder = /^src\/(core|store|services|http|runtime|platform|example|cli)\//.exec(path);
  if (folder) return folder[1];
  const top = {
    "src/index.ts": "index",
    "src/web.ts": "web",
    "src/worker.ts": "worker",
    "src/cli.ts": "cli",
    "src/serve.ts": "serve",
    "src/spool.ts": "spool",
    "src/create-spool.ts": "spool",
    "src/create-web-spool.ts": "spool",
    "src/config.ts": "config",
    "src/define-worker.ts": "define-worker",
  };
  return top[path];
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

// Static imports and re-exports, spanning lines; comments are blanked first
// (keeping line breaks) so an import written in a doc comment is not one.
const STATEMENT = /\b(import|export)\s+(type\s+)?([\w*{}\s,$]*?)\s*from\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']/g;

function blankComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (comment) => comment.replace(/[^\n]/g, " "));
}

/** Every static import of a file: specifier, line, and whether it is type-only. */
export function importsOf(text) {
  const code = blankComments(text);
  const found = [];
  for (const match of code.matchAll(STATEMENT)) {
    const specifier = match[4] ?? match[5];
    const clause = match[3] ?? "";
    // `import { type A, type B }` names types only, but verbatimModuleSyntax
    // still emits it as `import {} from`: the module loads (erased says so).
    const names = /^\{([\s\S]*)\}$/.exec(clause.trim());
    const allTyped = names !== null && names[1].split(",").map((n) => n.trim()).filter(Boolean).every((n) => n.startsWith("type "));
    const line = code.slice(0, match.index).split("\n").length;
    const erased = match[2] !== undefined;
    found.push({ specifier, line, typeOnly: erased || allTyped, erased, text: match[0].replace(/\s+/g, " ") });
  }
  return found;
}

/** Checks the tree under `root`; returns one line per problem, file:line first. */
export function checkLayers(root) {
  const src = join(root, "src");
  const problems = [];
  const graph = new Map(); // rel -> value imports (resolved rel paths or bare specifiers)
  for (const path of sourceFiles(src)) {
    const rel = relative(root, path).split("\\").join("/");
    const layer = layerOf(rel);
    const imports = importsOf(readFileSync(path, "utf8"));
    if (layer === undefined) {
      problems.push(`${rel}:1 has no layer: give it one in scripts/check-layers.mjs (LAYER_RULES and layerOf)`);
      continue;
    }
    const rule = LAYER_RULES[layer];
    const edges = [];
    for (const { specifier, line, typeOnly, erased, text } of imports) {
      if (!specifier.startsWith(".")) {
        if (!erased) edges.push({ target: specifier, line });
        continue;
      }
      const target = relative(root, resolve(dirname(path), specifier)).split("\\").join("/");
      if (!erased) edges.push({ target, line });
      const targetLayer = layerOf(target);
      if (targetLayer === undefined) {
        if (!target.startsWith("src/")) problems.push(`${rel}:${line} imports from outside src/ (${target}): ${text}`);
        continue;
      }
      const allowed = rule.values.includes(targetLayer) || (typeOnly && (rule.types ?? []).includes(targetLayer));
      if (!allowed) {
        const how = (rule.types ?? []).includes(targetLayer) ? " (types only)" : "";
        problems.push(`${rel}:${line} ${layer} may not import ${targetLayer}${how}: ${text}`);
      }
    }
    graph.set(rel, edges);
  }
  // The web entry's whole value-import graph must stay free of native and Node code.
  if (graph.has("src/web.ts")) {
    const chains = new Map([["src/web.ts", ["src/web.ts"]]]);
    const queue = ["src/web.ts"];
    while (queue.length > 0) {
      const rel = queue.shift();
      for (const { target, line } of graph.get(rel) ?? []) {
        if (chains.has(target)) continue;
        chains.set(target, [...chains.get(rel), target]);
        const bad = WEB_FORBIDDEN.some((pattern) => pattern.test(target)) || layerOf(target) === "runtime";
        if (bad) problems.push(`${rel}:${line} the web entry loads ${target} through ${chains.get(rel).join(" -> ")}`);
        else if (existsSync(join(root, target))) queue.push(target);
      }
    }
  }
  return problems;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  const root = process.argv[2] ? resolve(process.argv[2]) : fileURLToPath(new URL("..", import.meta.url));
  const problems = checkLayers(root);
  if (problems.length > 0) {
    console.error("Imports that break the layer rules (DESIGN.md, Layers):\n" + problems.join("\n"));
    process.exit(1);
  }
  console.log("layers: every import goes down a layer or stays in its own");
}
