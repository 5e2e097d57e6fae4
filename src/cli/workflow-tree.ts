/**
 * A workflow drawn as an indented tree: each job under the job that enqueued
 * it, with the jobs it waits for (`after`), its attempts, last error and
 * warnings beside it.
 */
import { clip, instant } from "./render.ts";

/** One job as `getWorkflow` reports it. */
export interface WorkflowJobView {
  id: string;
  type: string;
  status: string;
  parentId: string | null;
  /** Ids of the jobs this one waits for. */
  after?: string[] | null;
  attempts: number;
  result?: unknown;
  lastError?: string | null;
  warnings?: unknown[] | null;
}

/** A workflow as `getWorkflow` reports it. */
export interface WorkflowView {
  id: string;
  status: string;
  createdAt: number;
  finishedAt: number | null;
  counts: Record<string, number>;
  jobs: WorkflowJobView[];
}

// A long chain (a job that enqueues the next, a thousand times) would indent
// past any screen: deeper levels keep this indentation and say their depth.
const MAX_INDENT = 24;

const byId = (a: WorkflowJobView, b: WorkflowJobView) => {
  const [x, y] = [Number(a.id), Number(b.id)];
  return Number.isFinite(x) && Number.isFinite(y) && x !== y ? x - y : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

function describeJob(job: WorkflowJobView): string {
  const parts = [`${job.id} ${job.type}`, job.status];
  if (job.attempts > 1) parts.push(`${job.attempts} attempts`);
  if (job.after && job.after.length > 0) parts.push(`after ${job.after.join(", ")}`);
  if (job.lastError) parts.push(`error: ${clip(job.lastError, 60)}`);
  if (job.warnings && job.warnings.length > 0) parts.push(`${job.warnings.length} warning${job.warnings.length === 1 ? "" : "s"}`);
  return parts.join("  ");
}

/**
 * The workflow's header line, its counts, then every job once: under its
 * parent when the parent is in the workflow, at the top otherwise, siblings
 * in id order.
 */
export function drawWorkflow(workflow: WorkflowView): string {
  const lines: string[] = [];
  const finished = workflow.finishedAt === null ? "" : `  finished ${instant(workflow.finishedAt)}`;
  lines.push(`workflow ${workflow.id}  ${workflow.status}  created ${instant(workflow.createdAt)}${finished}`);
  const counts = Object.entries(workflow.counts ?? {}).filter(([, n]) => n > 0);
  if (counts.length > 0) lines.push(counts.map(([status, n]) => `${n} ${status}`).join(", "));
  const ids = new Set(workflow.jobs.map((job) => job.id));
  const children = new Map<string | null, WorkflowJobView[]>();
  for (const job of workflow.jobs) {
    const parent = job.parentId !== null && ids.has(job.parentId) && job.parentId !== job.id ? job.parentId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(job);
  }
  for (const list of children.values()) list.sort(byId);
  const drawn = new Set<string>();
  const draw = (job: WorkflowJobView, prefix: string, last: boolean, depth: number) => {
    drawn.add(job.id);
    const deep = depth > MAX_INDENT ? `[depth ${depth}] ` : "";
    lines.push(`${prefix}${last ? "└─ " : "├─ "}${deep}${describeJob(job)}`);
    const below = (children.get(job.id) ?? []).filter((child) => !drawn.has(child.id));
    const indent = depth >= MAX_INDENT ? prefix : `${prefix}${last ? "   " : "│  "}`;
    below.forEach((child, i) => draw(child, indent, i === below.length - 1, depth + 1));
  };
  const roots = children.get(null) ?? [];
  // a parent cycle (which a store never writes) leaves jobs no root reaches: they go at the top
  const reached = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const job = stack.pop()!;
    if (reached.has(job.id)) continue;
    reached.add(job.id);
    stack.push(...(children.get(job.id) ?? []));
  }
  const top = [...roots, ...workflow.jobs.filter((job) => !reached.has(job.id)).sort(byId)];
  top.forEach((job, i) => {
    if (!drawn.has(job.id)) draw(job, "", i === top.length - 1, 1);
  });
  return lines.join("\n") + "\n";
}
