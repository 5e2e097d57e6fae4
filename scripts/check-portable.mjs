// Fails when code outside src/runtime/ touches a runtime directly: node:
// imports, process, Deno or Bun globals. Keeps core, store, services and http
// portable across Node, Bun and Deno.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const src = join(root, "src");
const forbidden = [
  [/from\s+["']node:/, "imports a node: module"],
  [/import\(\s*["']node:/, "imports a node: module"],
  [/\brequire\(/, "uses require()"],
  [/\bprocess\.(env|on|exit|argv|pid|cwd|platform|stdout|stderr)\b/, "uses process"],
  [/\bDeno\./, "uses the Deno global"],
  [/\bBun\./, "uses the Bun global"],
];

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const problems = [];
for (const path of files(src)) {
  const rel = relative(root, path);
  if (rel.startsWith("src/runtime/")) continue;
  readFileSync(path, "utf8").split("\n").forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    for (const [pattern, what] of forbidden) {
      if (pattern.test(line)) problems.push(`${rel}:${i + 1} ${what}: ${line.trim()}`);
    }
  });
}
if (problems.length > 0) {
  console.error("Runtime-specific code outside src/runtime/:\n" + problems.join("\n"));
  process.exit(1);
}
console.log("portable: no runtime-specific code outside src/runtime/");
