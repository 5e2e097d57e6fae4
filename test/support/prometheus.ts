/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written
 * against the format's grammar (prometheus/docs, exposition_formats.md):
 * every line is a comment, `# HELP name text`, `# TYPE name type`, blank, or
 * `name{label="value",...} value [timestamp]`; anything else throws naming
 * the line. It also checks what the format requires of families: one TYPE
 * per name, before its samples; a family's samples together; histogram
 * buckets cumulative, ending with `le="+Inf"` equal to `_count`.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp: number | null;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL_NAME = "[a-zA-Z_][a-zA-Z0-9_]*";
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = "[+-]?(?:Inf|NaN|[0-9]*\\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\\.)";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{\\s*((?:${LABEL_NAME}\\s*=\\s*${LABEL_VALUE}\\s*,\\s*)*(?:${LABEL_NAME}\\s*=\\s*${LABEL_VALUE})?\\s*,?)\\s*\\})?[ \\t]+(${VALUE})(?:[ \\t]+(-?[0-9]+))?[ \\t]*$`);
const LABEL = new RegExp(`(${LABEL_NAME})\\s*=\\s*(${LABEL_VALUE})`, "g");
const HELP = new RegExp(`^#[ \\t]+HELP[ \\t]+(${NAME})(?:[ \\t]+(.*))?$`);
const TYPE = new RegExp(`^#[ \\t]+TYPE[ \\t]+(${NAME})[ \\t]+(counter|gauge|histogram|summary|untyped)[ \\t]*$`);

function unescape(text: string, allowQuote: boolean): string {
  return text.replace(/\\(.)/g, (whole, c: string) => (c === "\\" ? "\\" : c === "n" ? "\n" : c === '"' && allowQuote ? '"' : whole));
}

function number(text: string): number {
  if (/^[+]?Inf$/.test(text)) return Infinity;
  if (text === "-Inf") return -Infinity;
  if (/^[+-]?NaN$/.test(text)) return NaN;
  return Number(text);
}

/** The family a sample name belongs to, given the declared types (a histogram's _bucket/_sum/_count are its own). */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const type = types.get(base);
      if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return name;
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((line, i) => {
    const where = `line ${i + 1} ${JSON.stringify(line)}`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const h = HELP.exec(line);
      if (h) {
        if (help.has(h[1]!)) throw new Error(`second HELP for ${h[1]} at ${where}`);
        help.set(h[1]!, unescape(h[2] ?? "", false));
        return;
      }
      const t = TYPE.exec(line);
      if (t) {
        if (types.has(t[1]!)) throw new Error(`second TYPE for ${t[1]} at ${where}`);
        if (samples.some((s) => familyOf(s.name, types) === t[1])) throw new Error(`TYPE for ${t[1]} after its samples at ${where}`);
        types.set(t[1]!, t[2]!);
        return;
      }
      if (/^#[ \t]+(HELP|TYPE)\b/.test(line)) throw new Error(`malformed ${where}`);
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample: ${where}`);
    const labels: Record<string, string> = {};
    for (const [, name, quoted] of (m[2] ?? "").matchAll(LABEL)) {
      if (name! in labels) throw new Error(`label ${name} twice at ${where}`);
      labels[name!] = unescape(quoted!.slice(1, -1), true);
    }
    const family = familyOf(m[1]!, types);
    if (family !== current) {
      if (finished.has(family)) throw new Error(`samples of ${family} are not together at ${where}`);
      if (current !== null) finished.add(current);
      current = family;
    }
    samples.push({ name: m[1]!, labels, value: number(m[3]!), timestamp: m[4] === undefined ? null : Number(m[4]) });
  });
  for (const [family, type] of types) if (type === "histogram") checkHistogram(family, samples);
  return { samples, types, help };
}

function checkHistogram(family: string, samples: Sample[]): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count: number | null }>();
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(Object.entries(labels).filter(([k]) => k !== "le").sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  for (const s of samples) {
    const entry = () => {
      const key = keyOf(s.labels);
      let e = series.get(key);
      if (!e) series.set(key, (e = { buckets: [], count: null }));
      return e;
    };
    if (s.name === `${family}_bucket`) {
      if (s.labels.le === undefined) throw new Error(`${family}_bucket without le`);
      entry().buckets.push([number(s.labels.le), s.value]);
    } else if (s.name === `${family}_count`) entry().count = s.value;
  }
  for (const [key, { buckets, count }] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) throw new Error(`${family}${key}: buckets not in increasing le order`);
      if (buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${family}${key}: buckets not cumulative`);
    }
    const last = buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${family}${key}: no le="+Inf" bucket`);
    if (count !== null && last[1] !== count) throw new Error(`${family}${key}: +Inf bucket ${last[1]} differs from _count ${count}`);
  }
}

/** The value of the one sample named `name` whose labels include `labels`, or undefined. */
export function sampleValue(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return exposition.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
