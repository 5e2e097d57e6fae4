// Building DOM nodes from data without innerHTML, so no job payload, error
// message or type name can ever become markup.

const SVG_NS = "http://www.w3.org/2000/svg";
const SVG_TAGS = new Set(["svg", "g", "path", "rect", "line", "polyline", "circle", "text", "title", "defs", "marker", "a", "tspan"]);

/**
 * h("a", { href: "#/" }, "text", child) builds an element. Attributes named
 * on* take functions as listeners; null, undefined and false are left out.
 * `svg: true` in attrs builds in the SVG namespace (needed for <a>, <title>).
 */
export function h(tag, attrs = {}, ...children) {
  const svg = attrs.svg === true || (tag !== "a" && tag !== "title" && SVG_TAGS.has(tag));
  const el = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "svg" || value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** A status badge: the status as text on its colour. */
export function badge(status) {
  return h("span", { class: `badge s-${status}`, "data-status": status }, status.replaceAll("_", " "));
}

/** "3 min ago" / "in 20 s" for an epoch-ms time, with the exact time as a tooltip. */
export function when(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return h("span", { class: "muted" }, "–");
  return h("time", { datetime: new Date(ms).toISOString(), title: new Date(ms).toLocaleString() }, relative(ms - now));
}

/** A signed duration as words: "in 5 s", "3 min ago". */
export function relative(deltaMs) {
  const abs = Math.abs(deltaMs);
  const text = duration(abs);
  if (abs < 1000) return "now";
  return deltaMs > 0 ? `in ${text}` : `${text} ago`;
}

/** A duration in ms as a short human figure: "850 ms", "12 s", "4 min", "3 h", "2 d". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** Pretty JSON for a <pre>. */
export function pretty(value) {
  return value === undefined ? "–" : JSON.stringify(value, null, 2);
}
