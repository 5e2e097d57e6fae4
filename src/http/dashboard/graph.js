// A workflow drawn as a graph: one box per job, an arrow from each job to the
// jobs that wait for it (`after`), or to the jobs it staged when they wait for
// nothing. Depths from the roots run left to right (top to bottom on a phone),
// so a chain reads in order, a fan-out spreads across one depth and a fan-in
// joins at the next. Boxes
// are SVG text, links to the job: searchable, and readable by assistive tools.
import { h } from "./dom.js";

const NODE_H = 48;
const PAD = 12;
/** Across (columns left to right) on a wide screen, down (rows top to bottom) on a narrow one. */
const ACROSS = { nodeW: 210, gapMain: 56, gapCross: 18 };
const DOWN = { nodeW: 150, gapMain: 40, gapCross: 16 };

/** The edges [from, to] of a workflow's jobs, by id, only between jobs that are present. */
export function workflowEdges(jobs) {
  const ids = new Set(jobs.map((j) => String(j.id)));
  const edges = [];
  for (const job of jobs) {
    const after = (job.after ?? []).map(String).filter((id) => ids.has(id));
    if (after.length > 0) for (const dep of after) edges.push([dep, String(job.id)]);
    else if (job.parentId !== null && job.parentId !== undefined && ids.has(String(job.parentId))) edges.push([String(job.parentId), String(job.id)]);
  }
  return edges;
}

/** Column (longest path from a root) and row of each job. */
function layout(jobs, edges) {
  const parents = new Map(jobs.map((j) => [String(j.id), []]));
  for (const [from, to] of edges) parents.get(to).push(from);
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0; // a cycle cannot happen in a workflow; never loop on bad data
    seen.add(id);
    const d = parents.get(id).reduce((m, p) => Math.max(m, depthOf(p, seen) + 1), 0);
    depth.set(id, d);
    return d;
  };
  const columns = [];
  const byId = [...jobs].sort((a, b) => compareIds(a.id, b.id));
  for (const job of byId) {
    const d = depthOf(String(job.id));
    (columns[d] ??= []).push(String(job.id));
  }
  const row = new Map();
  columns.forEach((column, c) => {
    if (c > 0) {
      // keep children near their parents: order a column by its parents' mean row
      const mean = (id) => {
        const ps = parents.get(id);
        return ps.length ? ps.reduce((s, p) => s + row.get(p), 0) / ps.length : 0;
      };
      column.sort((a, b) => mean(a) - mean(b) || compareIds(a, b));
    }
    column.forEach((id, r) => row.set(id, r));
  });
  return { columns, depth, row };
}

function compareIds(a, b) {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : String(a).localeCompare(String(b));
}

/**
 * The SVG graph of a workflow's `jobs` (as GET /workflows/:id answers them).
 * `down: true` lays the depths out top to bottom, for a phone.
 */
export function workflowGraph(jobs, { down = false } = {}) {
  const edges = workflowEdges(jobs);
  const { columns, depth, row } = layout(jobs, edges);
  const { nodeW, gapMain, gapCross } = down ? DOWN : ACROSS;
  const widest = Math.max(1, ...columns.map((c) => c.length));
  // main axis: depth; cross axis: position within a depth
  const mainStep = (down ? NODE_H : nodeW) + gapMain;
  const crossStep = (down ? nodeW : NODE_H) + gapCross;
  const mainSize = columns.length * mainStep - gapMain;
  const crossSize = widest * crossStep - gapCross;
  const width = PAD * 2 + (down ? crossSize : mainSize);
  const height = PAD * 2 + (down ? mainSize : crossSize);
  const pos = (id) => {
    const column = columns[depth.get(id)];
    const main = depth.get(id) * mainStep;
    const cross = ((widest - column.length) * crossStep) / 2 + row.get(id) * crossStep;
    return down ? { x: PAD + cross, y: PAD + main } : { x: PAD + main, y: PAD + cross };
  };
  const arrows = edges.map(([from, to]) => {
    const a = pos(from);
    const b = pos(to);
    let d;
    if (down) {
      const [x1, y1, x2, y2] = [a.x + nodeW / 2, a.y + NODE_H, b.x + nodeW / 2, b.y - 4];
      const mid = (y1 + y2) / 2;
      d = `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
    } else {
      const [x1, y1, x2, y2] = [a.x + nodeW, a.y + NODE_H / 2, b.x - 4, b.y + NODE_H / 2];
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
    }
    return h("path", { class: "edge", d, "marker-end": "url(#arrow)", "data-from": from, "data-to": to });
  });
  const nodes = jobs.map((job) => {
    const id = String(job.id);
    const { x, y } = pos(id);
    const label = `${job.type}, job ${id}, ${job.status}`;
    return h(
      "a",
      { svg: true, href: `#/jobs/${encodeURIComponent(id)}`, class: `node s-${job.status}`, "data-job-id": id, "data-status": job.status, "aria-label": label },
      h("title", { svg: true }, label + (job.lastError ? `: ${job.lastError}` : "")),
      h("rect", { x, y, width: nodeW, height: NODE_H, rx: 7 }),
      h("rect", { class: "bar", x, y, width: 6, height: NODE_H, rx: 2 }),
      h("text", { class: "type", x: x + 14, y: y + 20 }, clip(job.type, down ? 17 : 24)),
      h("text", { class: "meta", x: x + 14, y: y + 37 }, `#${clip(id, 8)} · ${job.status.replaceAll("_", " ")}${job.warnings?.length ? " · ⚠" : ""}`),
    );
  });
  return h(
    "svg",
    { width, height, viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": `Workflow graph of ${jobs.length} jobs` },
    h("defs", {}, h("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, h("path", { d: "M0,0 L10,5 L0,10 z" }))),
    arrows,
    nodes,
  );
}

function clip(text, n) {
  const s = String(text);
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
