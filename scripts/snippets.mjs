// The guide's code comes from code the tests run. A snippet in a Markdown
// file is a marker comment naming a region of a source file, followed by a
// fenced block holding that region's text:
//
//   <!-- snippet: src/example/orders/pipeline.ts#process_order -->
//   ```ts
//   ...the lines between `// #region process_order` and `// #endregion process_order`...
//   ```
//
// Marker lines of regions nested inside are left out, and the region is
// dedented. test/docs/guide.test.ts fails when a block differs from its
// region; `node scripts/snippets.mjs --write docs/guide.md` rewrites the
// blocks from the sources.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const MARKER = /<!-- snippet: ([^#\s]+)#([\w-]+) -->\n```(\w*)\n([\s\S]*?)```/g;
const REGION_LINE = /^\s*\/\/ #(end)?region\b/;

/** The text of region `name` in `source`, dedented, without nested marker lines. Throws when it is missing. */
export function extractRegion(source, name, where = "source") {
  const lines = source.split("\n");
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === `// #endregion ${name}`);
  if (start < 0 || end < 0) throw new Error(`${where} has no region ${JSON.stringify(name)} (// #region ${name} ... // #endregion ${name})`);
  const body = lines.slice(start + 1, end).filter((l) => !REGION_LINE.test(l));
  const indent = Math.min(...body.filter((l) => l.trim() !== "").map((l) => l.match(/^ */)[0].length));
  return body.map((l) => l.slice(indent)).join("\n").trimEnd() + "\n";
}

/** Every snippet of a Markdown text: where it points, and the block it holds now. */
export function snippetsOf(markdown) {
  return [...markdown.matchAll(MARKER)].map((m) => ({ file: m[1], region: m[2], lang: m[3], block: m[4] }));
}

/** The region a snippet points at, read from the repository. */
export function regionOf(snippet, root = ROOT) {
  return extractRegion(readFileSync(join(root, snippet.file), "utf8"), snippet.region, snippet.file);
}

/** `markdown` with every snippet's block replaced by its region's current text. */
export function syncSnippets(markdown, root = ROOT) {
  return markdown.replace(MARKER, (_all, file, region, lang) =>
    `<!-- snippet: ${file}#${region} -->\n\`\`\`${lang}\n${regionOf({ file, region }, root)}\`\`\``,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [flag, ...files] = process.argv.slice(2);
  if (flag !== "--write" || files.length === 0) {
    console.error("usage: node scripts/snippets.mjs --write docs/guide.md [more.md ...]");
    process.exit(2);
  }
  for (const file of files) {
    const path = resolve(file);
    const before = readFileSync(path, "utf8");
    const after = syncSnippets(before);
    if (after !== before) writeFileSync(path, after);
    console.log(`${file}: ${snippetsOf(after).length} snippets${after !== before ? ", updated" : ", already current"}`);
  }
}
