// Hand-drawn SVG charts: a few dozen lines cost less than any chart library,
// and the page stays one small download with no dependency to keep current.
import { h } from "./dom.js";

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
function niceMax(max) {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

/**
 * A line chart of per-minute series: `points` are `{ minute, ...values }`
 * (minute in epoch ms), `series` are `{ key, label }`; a series is coloured by
 * its class `c-<key>` in the style sheet. Each line has a
 * <title> with its total, so the figures are readable without the picture.
 */
export function lineChart(points, series, { width = 640, height = 200 } = {}) {
  const pad = { left: 36, right: 10, top: 10, bottom: 24 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const sorted = [...points].sort((a, b) => a.minute - b.minute);
  const max = niceMax(Math.max(0, ...sorted.flatMap((p) => series.map((s) => Number(p[s.key]) || 0))));
  const first = sorted.length ? sorted[0].minute : 0;
  const last = sorted.length ? sorted[sorted.length - 1].minute : 1;
  const span = Math.max(last - first, 60_000);
  const x = (minute) => pad.left + ((minute - first) / span) * innerW;
  const y = (value) => pad.top + innerH - (value / max) * innerH;
  const grid = [0, 0.5, 1].map((f) => {
    const value = max * f;
    return [
      h("line", { class: "axis", x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value) }),
      h("text", { x: pad.left - 6, y: y(value) + 4, "text-anchor": "end" }, formatCount(value)),
    ];
  });
  const labels = sorted.length
    ? [
        h("text", { x: pad.left, y: height - 6 }, timeOfDay(first)),
        h("text", { x: width - pad.right, y: height - 6, "text-anchor": "end" }, timeOfDay(last)),
      ]
    : [];
  const lines = series.map((s) => {
    const total = sorted.reduce((sum, p) => sum + (Number(p[s.key]) || 0), 0);
    const coords = sorted.map((p) => `${x(p.minute).toFixed(1)},${y(Number(p[s.key]) || 0).toFixed(1)}`).join(" ");
    return h(
      "polyline",
      { class: `line c-${s.key}`, points: coords, "data-series": s.key },
      h("title", { svg: true }, `${s.label}: ${total} in the last hour`),
    );
  });
  const chart = h(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": series.map((s) => s.label).join(", ") + " per minute" },
    grid,
    labels,
    lines,
  );
  const legend = h(
    "div",
    { class: "legend" },
    series.map((s) => {
      const total = sorted.reduce((sum, p) => sum + (Number(p[s.key]) || 0), 0);
      return h("span", { class: `c-${s.key}` }, h("i"), `${s.label} `, h("strong", {}, formatCount(total)));
    }),
  );
  return h("div", { class: "chart" }, chart, legend);
}

function formatCount(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k` : String(Math.round(n));
}

function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
