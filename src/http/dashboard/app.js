// The dashboard: a hash-routed page over the JSON API. Every figure on it
// comes from a documented route, so whatever it shows is also scriptable.
import { ApiError, api, optional, query } from "./api.js";
import { lineChart } from "./charts.js";
import { badge, duration, h, pretty, relative, when } from "./dom.js";
import { workflowGraph } from "./graph.js";

const STATUSES = ["scheduled", "pending", "blocked", "running", "completed", "dead", "cancelled"];
const ACTIVE = new Set(["scheduled", "pending", "blocked", "running"]);
const WORKFLOW_STATUSES = ["running", "completed", "completed_with_errors", "failed", "cancelled"];
const PAGE_SIZE = 50;

const main = document.getElementById("view");
const notice = document.getElementById("notice");

/** "admin", "read" or "open" as GET /access says; null when the worker does not say. */
let access = null;
/** The page shows action buttons only to a token that may use them. */
const canAct = () => access !== "read";

// ---- navigation -----------------------------------------------------------

let generation = 0;
let timers = [];

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path: path.replace(/\/+$/, "") || "/", params: Object.fromEntries(new URLSearchParams(search)) };
}

function go(path, params = {}) {
  location.hash = `#${path}${query(params)}`;
}

/** Runs `task` every `ms` while this view is shown and the tab is visible. */
function every(ms, task) {
  const mine = generation;
  const timer = setInterval(() => {
    if (mine !== generation || document.hidden) return;
    task().catch(showError);
  }, ms);
  timers.push(timer);
}

/** Replaces the view's content, unless the user has gone elsewhere meanwhile. */
function mount(mine, ...nodes) {
  if (mine !== generation) return false;
  main.replaceChildren(...nodes.filter((node) => node !== null && node !== undefined));
  return true;
}

async function route() {
  generation += 1;
  for (const timer of timers) clearInterval(timer);
  timers = [];
  const mine = generation;
  const { path, params } = parseHash();
  const section = path.split("/")[1] || "overview";
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    let match;
    if (path === "/") await overview(mine);
    else if (path === "/jobs") await jobList(mine, params);
    else if ((match = path.match(/^\/jobs\/([^/]+)$/))) await jobPage(mine, decodeURIComponent(match[1]));
    else if (path === "/workflows") await workflowList(mine, params);
    else if ((match = path.match(/^\/workflows\/([^/]+)$/))) await workflowPage(mine, decodeURIComponent(match[1]));
    else if (path === "/queues") await queuesPage(mine);
    else mount(mine, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the overview")));
  } catch (error) {
    if (mine === generation) showError(error);
  }
}

// ---- messages and confirmation ---------------------------------------------

function say(text, kind = "info") {
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.hidden = false;
}

function showError(error) {
  const text = error instanceof ApiError ? `${error.status}${error.code ? ` ${error.code}` : ""}: ${error.message}` : String(error?.message ?? error);
  say(text, "error");
}

function clearNotice() {
  notice.hidden = true;
}

/** Asks before a bulk or destructive action; resolves true when confirmed. */
function confirmAction(title, text, okLabel) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

/**
 * An action button (absent for a read-only token): runs `task`, says what it
 * did, then re-renders the view.
 */
function action(label, task, { danger = false, small = false, name } = {}) {
  if (!canAct()) return null;
  return h(
    "button",
    {
      type: "button",
      class: [danger ? "danger" : "", small ? "small" : ""].join(" ").trim() || null,
      "data-action": name ?? label.toLowerCase(),
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        try {
          const message = await task();
          if (message) say(message);
          else clearNotice();
          await route();
        } catch (error) {
          showError(error);
          button.disabled = false;
        }
      },
    },
    label,
  );
}

// ---- overview ------------------------------------------------------------

const SERIES = [
  { key: "completed", label: "Completed" },
  { key: "failed", label: "Failed attempts" },
  { key: "dead", label: "Dead" },
];

async function overview(mine) {
  const draw = async () => {
    // a failing /queues costs its own panel, never the counts
    const [stats, queues] = await Promise.all([api("/stats"), optional("/queues").catch((error) => ({ error }))]);
    mount(
      mine,
      h("h1", {}, "Overview", h("span", { class: "updated" }, `updated ${new Date().toLocaleTimeString()}`)),
      countCards(stats.counts ?? {}),
      h("div", { class: "grid" }, throughputPanel(stats), typesPanel(stats)),
      queuesPanel(queues),
      latencyPanel(stats),
      workersPanel(stats),
    );
  };
  // polling starts first, so the page recovers by itself after a failed read
  every(2000, draw);
  await draw();
}

function countCards(counts) {
  const statuses = [...STATUSES.filter((s) => s in counts || s !== "blocked"), ...Object.keys(counts).filter((s) => !STATUSES.includes(s))];
  return h(
    "section",
    { class: "cards", "aria-label": "Jobs by status" },
    statuses.map((status) =>
      h(
        "a",
        { class: `card s-${status}`, href: `#/jobs${query({ status })}`, "data-count-status": status },
        h("div", { class: "label" }, status),
        h("div", { class: "value", "data-value": counts[status] ?? 0 }, (counts[status] ?? 0).toLocaleString()),
      ),
    ),
  );
}

function throughputPanel(stats) {
  const points = Array.isArray(stats.throughput) ? stats.throughput : null;
  return h(
    "section",
    { class: "panel", "aria-labelledby": "throughput-title" },
    h("h2", { id: "throughput-title" }, "Throughput, per minute over the last hour"),
    points && points.length > 0 ? lineChart(points, SERIES) : h("p", { class: "muted" }, "This worker does not report throughput yet."),
  );
}

function queuesPanel(queues) {
  return h(
    "section",
    { class: "panel", "aria-labelledby": "queues-title" },
    h("h2", { id: "queues-title" }, "Queues"),
    queues === null
      ? h("p", { class: "muted" }, "This worker does not list its queues (GET /queues).")
      : queues.error
        ? h("p", { class: "error-text" }, `Could not read the queues: ${queues.error.message}`)
        : queuesTable(queues.queues ?? []),
  );
}

/** On a phone the queue table keeps pending and dead, the counts an operator acts on. */
function narrowColumn(status) {
  return status === "scheduled" || status === "running" ? "num hide-narrow" : "num";
}

function queuesTable(queues) {
  if (queues.length === 0) return h("p", { class: "muted" }, "No queue has jobs yet.");
  const shown = ["pending", "scheduled", "running", "dead"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-table": "queues" },
      h("thead", {}, h("tr", {}, h("th", {}, "Queue"), h("th", {}, "State"), shown.map((s) => h("th", { class: narrowColumn(s) }, s)), h("th", { class: "num hide-narrow" }, "Oldest pending"), canAct() ? h("th", {}, h("span", { class: "sr-only" }, "Actions")) : null)),
      h(
        "tbody",
        {},
        queues.map((q) =>
          h(
            "tr",
            { "data-queue": q.name },
            h("td", {}, h("a", { href: `#/jobs${query({ status: "pending", queue: q.name })}` }, q.name)),
            h("td", {}, badge(q.paused ? "paused" : "active")),
            shown.map((s) => h("td", { class: narrowColumn(s) }, (q.counts?.[s] ?? 0).toLocaleString())),
            h("td", { class: "num hide-narrow" }, q.oldestPendingAgeMs === null || q.oldestPendingAgeMs === undefined ? "–" : duration(q.oldestPendingAgeMs)),
            canAct()
              ? h(
                  "td",
                  {},
                  q.paused
                    ? action("Resume", async () => (await api(`/queues/${encodeURIComponent(q.name)}/resume`, { method: "POST" }), `Queue ${q.name} resumed.`), { small: true })
                    : action("Pause", async () => (await api(`/queues/${encodeURIComponent(q.name)}/pause`, { method: "POST" }), `Queue ${q.name} paused.`), { small: true }),
                )
              : null,
          ),
        ),
      ),
    ),
  );
}

/** Per-type run and wait percentiles (`stats.latency`), or nothing when the worker does not report them. */
function latencyPanel(stats) {
  const latency = stats.latency && typeof stats.latency === "object" ? stats.latency : null;
  if (!latency) return null;
  const types = Object.keys(latency).sort();
  const ms = (v) => (typeof v === "number" ? duration(v) : "–");
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Run and wait time per type, last 15 minutes"),
    types.length === 0
      ? h("p", { class: "muted" }, "No job ran in the last 15 minutes.")
      : h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { "data-table": "latency" },
            h("thead", {}, h("tr", {}, h("th", {}, "Type"), ["run p50", "run p95", "run p99", "wait p50", "wait p95", "wait p99"].map((t) => h("th", { class: "num" }, t)))),
            h(
              "tbody",
              {},
              types.map((type) => {
                const { run = {}, wait = {} } = latency[type] ?? {};
                return h("tr", { "data-type": type }, h("td", {}, type), [run.p50, run.p95, run.p99, wait.p50, wait.p95, wait.p99].map((v) => h("td", { class: "num" }, ms(v))));
              }),
            ),
          ),
        ),
  );
}

/** The slowest types (run p95 from `stats.latency`) and the most failing (dead counts from `stats.byType`). */
function typesPanel(stats) {
  const latency = stats.latency && typeof stats.latency === "object" ? stats.latency : null;
  const byType = stats.byType && typeof stats.byType === "object" ? stats.byType : null;
  const slowest = Object.entries(latency ?? {})
    .map(([type, figures]) => ({ type, p95: figures?.run?.p95 }))
    .filter((t) => typeof t.p95 === "number")
    .sort((a, b) => b.p95 - a.p95)
    .slice(0, 5);
  const failing = Object.entries(byType ?? {})
    .map(([type, counts]) => ({ type, dead: Number(counts?.dead ?? 0) }))
    .filter((t) => t.dead > 0)
    .sort((a, b) => b.dead - a.dead)
    .slice(0, 5);
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Slowest types (run p95)"),
    slowest.length
      ? h("ol", { "data-list": "slowest" }, slowest.map((t) => h("li", {}, h("strong", {}, t.type), ` ${duration(t.p95)}`)))
      : h("p", { class: "muted" }, latency ? "No job ran in the last 15 minutes." : "This worker does not report run times yet."),
    h("h2", { class: "sub" }, "Most failing types (dead jobs)"),
    failing.length
      ? h("ol", { "data-list": "failing" }, failing.map((t) => h("li", {}, h("a", { href: `#/jobs${query({ status: "dead", type: t.type })}` }, t.type), ` ${t.dead.toLocaleString()} dead`)))
      : h("p", { class: "muted" }, byType ? "No dead jobs." : "This worker does not report counts per type yet."),
  );
}

function workersPanel(stats) {
  if (!Array.isArray(stats.workers) || stats.workers.length === 0) return null;
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Workers"),
    h("ul", {}, stats.workers.map((w) => h("li", {}, h("span", { class: "mono" }, w.workerId), " last heartbeat ", when(w.lastHeartbeatAt)))),
  );
}

// ---- jobs ----------------------------------------------------------------

async function jobList(mine, params) {
  const filter = {
    status: params.status || "dead",
    type: params.type ?? "",
    queue: params.queue ?? "",
    workflowId: params.workflowId ?? "",
    q: params.q ?? "",
  };
  const page = await api(`/jobs${query({ ...filter, limit: PAGE_SIZE, cursor: params.cursor })}`);
  const jobs = page.jobs ?? [];
  const field = (name, label, attrs = {}) =>
    h("label", {}, label, h("input", { name, value: filter[name], autocomplete: "off", ...attrs }));
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter jobs",
      onsubmit: (event) => {
        event.preventDefault();
        const data = Object.fromEntries(new FormData(event.currentTarget));
        go("/jobs", data);
      },
    },
    h("label", {}, "Status", h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s, selected: s === filter.status }, s)))),
    field("type", "Type"),
    field("queue", "Queue"),
    field("workflowId", "Workflow"),
    field("q", "Payload contains", { type: "search", placeholder: "text in the payload" }),
    h("button", { type: "submit", class: "primary" }, "Search"),
  );
  mount(
    mine,
    h("h1", {}, "Jobs"),
    h("section", { class: "panel" }, form, bulkActions(filter, jobs), jobsTable(jobs), pager(params, page.nextCursor)),
  );
}

function bulkActions(filter, jobs) {
  if (!canAct()) return null;
  const buttons = [];
  const scope = [filter.type && `of type ${filter.type}`, filter.queue && `in queue ${filter.queue}`].filter(Boolean).join(" ");
  if (filter.status === "dead" && jobs.length > 0) {
    const narrow = filter.q !== "" || filter.workflowId !== "";
    buttons.push(
      action(
        narrow ? `Retry the ${jobs.length} shown` : "Retry all dead",
        async () => {
          if (narrow) {
            const ok = await confirmAction("Retry the jobs shown?", `This sends the ${jobs.length} dead jobs on this page back to pending.`, `Retry ${jobs.length} jobs`);
            if (!ok) return "";
            for (const job of jobs) await api(`/jobs/${encodeURIComponent(job.id)}/retry`, { method: "POST" });
            return `Retried ${jobs.length} jobs.`;
          }
          const ok = await confirmAction("Retry all dead jobs?", `This sends every dead job ${scope || "of every type and queue"} back to pending, also those on later pages.`, "Retry all");
          if (!ok) return "";
          const body = {};
          if (filter.type) body.type = filter.type;
          if (filter.queue) body.queue = filter.queue;
          const { retried } = await api("/jobs/retry-dead", { method: "POST", body });
          return `Retried ${retried} dead jobs.`;
        },
        { name: "retry-all" },
      ),
    );
  }
  if (["dead", "cancelled", "completed"].includes(filter.status) && jobs.length > 0) {
    const older = h(
      "select",
      { "aria-label": "Purge jobs finished longer ago than" },
      [["", "any age"], ["3600000", "older than 1 h"], ["86400000", "older than 1 day"], ["604800000", "older than 7 days"]].map(([v, t]) => h("option", { value: v }, t)),
    );
    buttons.push(
      h(
        "span",
        { class: "toolbar inline" },
        action(
          `Purge ${filter.status}`,
          async () => {
            const olderThanMs = older.value === "" ? undefined : Number(older.value);
            const what = `every ${filter.status} job${filter.type ? ` of type ${filter.type}` : ""}${olderThanMs ? ` finished ${duration(olderThanMs)} ago or more` : ""}, in every queue`;
            const ok = await confirmAction("Purge jobs?", `This deletes ${what}. It cannot be undone.`, "Purge");
            if (!ok) return "";
            const body = { status: filter.status };
            if (filter.type) body.type = filter.type;
            if (olderThanMs) body.olderThanMs = olderThanMs;
            const { purged } = await api("/jobs/purge", { method: "POST", body });
            return `Purged ${purged} jobs.`;
          },
          { danger: true, name: "purge" },
        ),
        older,
      ),
    );
  }
  return buttons.length ? h("div", { class: "toolbar" }, buttons) : null;
}

function rowActions(job) {
  if (job.status === "dead" || job.status === "cancelled") {
    return action("Retry", async () => (await api(`/jobs/${encodeURIComponent(job.id)}/retry`, { method: "POST" }), `Job ${job.id} sent back to pending.`), { small: true });
  }
  if (ACTIVE.has(job.status)) {
    return action("Cancel", async () => {
      const { status } = await api(`/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST" });
      return status === "cancelled" ? `Job ${job.id} cancelled.` : `Job ${job.id} is being cancelled.`;
    }, { small: true, danger: true });
  }
  return null;
}

function jobsTable(jobs) {
  if (jobs.length === 0) return h("p", { class: "muted", "data-empty": "jobs" }, "No jobs match.");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { "data-table": "jobs" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "Id"), h("th", {}, "Type"), h("th", {}, "Status"), h("th", { class: "hide-narrow" }, "Queue"), h("th", { class: "num" }, "Attempts"), h("th", { class: "hide-narrow" }, "Created"), h("th", { class: "hide-narrow" }, "Last error"), canAct() ? h("th", {}, h("span", { class: "sr-only" }, "Actions")) : null),
      ),
      h(
        "tbody",
        {},
        jobs.map((job) =>
          h(
            "tr",
            { "data-job-id": job.id },
            h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}`, class: "mono" }, `#${job.id}`)),
            h("td", {}, job.type),
            h("td", {}, badge(job.status)),
            h("td", { class: "hide-narrow" }, job.queue),
            h("td", { class: "num" }, `${job.attempts}/${job.maxAttempts}`),
            h("td", { class: "hide-narrow" }, when(job.createdAt)),
            h("td", { class: "error hide-narrow", title: job.lastError ?? "" }, job.lastError ?? ""),
            canAct() ? h("td", {}, rowActions(job)) : null,
          ),
        ),
      ),
    ),
  );
}

function pager(params, nextCursor) {
  const links = [];
  if (params.cursor) links.push(h("a", { href: `#/jobs${query({ ...params, cursor: undefined })}` }, "← Newest"));
  if (nextCursor) links.push(h("a", { href: `#/jobs${query({ ...params, cursor: nextCursor })}`, rel: "next" }, "Older →"));
  return links.length ? h("nav", { class: "pager", "aria-label": "Pages" }, links) : null;
}

async function jobPage(mine, id) {
  let shown = "";
  const draw = async () => {
    const job = await api(`/jobs/${encodeURIComponent(id)}`);
    const workflow = job.workflowId ? await optional(`/workflows/${encodeURIComponent(job.workflowId)}`).catch(() => null) : null;
    const text = JSON.stringify([job, workflow]);
    if (text === shown) return job;
    shown = text;
    mount(mine, ...renderJob(job, workflow));
    return job;
  };
  const job = await draw();
  // a job still on its way is followed until it settles; a finished one is left
  // alone (a retry from this page renders it again, as pending, and so follows it)
  if (ACTIVE.has(job.status)) {
    every(1000, async () => {
      await draw();
    });
  }
}

function renderJob(job, workflow) {
  const children = workflow?.jobs?.filter((j) => String(j.parentId) === String(job.id)) ?? null;
  const fields = [
    ["Status", badge(job.status)],
    ["Queue", job.queue],
    ["Attempts", `${job.attempts} of ${job.maxAttempts}`],
    ["Run at", when(job.runAt)],
    ["Created", when(job.createdAt)],
    ["Started", when(job.startedAt)],
    ["Finished", when(job.finishedAt)],
    ["Worker", job.workerId ?? "–"],
    ["Last error", job.lastError ? h("span", { class: "error-text" }, job.lastError) : "–"],
  ];
  const options = [
    ["Priority", String(job.priority)],
    ["Max attempts", String(job.maxAttempts)],
    ["Timeout", job.timeoutMs ? duration(job.timeoutMs) : "none"],
    ["Idempotency key", job.idempotencyKey ?? "–"],
    job.scheduleName ? ["Schedule", `${job.scheduleName} (tick ${new Date(job.scheduledFor).toISOString()})`] : null,
    Array.isArray(job.after) && job.after.length ? ["After", job.after.map((d) => [h("a", { href: `#/jobs/${d}` }, `#${d}`), " "])] : null,
    job.optional ? ["Optional", "yes"] : null,
    job.onDependencyFailure ? ["On dependency failure", job.onDependencyFailure] : null,
  ].filter(Boolean);
  const related = [
    ["Parent", job.parentId ? h("a", { href: `#/jobs/${encodeURIComponent(job.parentId)}` }, `#${job.parentId}`) : "none"],
    ["Workflow", job.workflowId ? h("a", { href: `#/workflows/${encodeURIComponent(job.workflowId)}` }, job.workflowId) : "none"],
    [
      "Children",
      children === null
        ? h("span", { class: "muted" }, job.workflowId ? "–" : "listed for jobs of a workflow")
        : children.length
          ? children.map((c) => [h("a", { href: `#/jobs/${encodeURIComponent(c.id)}` }, `#${c.id} ${c.type}`), " ", badge(c.status), " "])
          : "none",
    ],
  ];
  const dl = (rows) => h("dl", { class: "fields" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const history = job.history ?? [];
  return [
    h(
      "h1",
      {},
      h("span", { class: "mono" }, `#${job.id}`),
      h("span", {}, job.type),
      badge(job.status),
      h("span", { class: "toolbar inline" }, rowActions(job)),
    ),
    h(
      "div",
      { class: "grid" },
      h("section", { class: "panel" }, h("h2", {}, "Details"), dl(fields)),
      h("section", { class: "panel" }, h("h2", {}, "Options"), dl(options), h("h2", { class: "sub" }, "Related"), dl(related)),
    ),
    h(
      "div",
      { class: "grid" },
      h("section", { class: "panel" }, h("h2", {}, "Payload"), h("pre", { "data-field": "payload" }, pretty(job.payload))),
      h("section", { class: "panel" }, h("h2", {}, "Result"), "result" in job ? h("pre", { "data-field": "result" }, pretty(job.result)) : h("p", { class: "muted" }, "No result recorded.")),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, `Attempts (${history.length})`),
      history.length === 0
        ? h("p", { class: "muted" }, "Not run yet.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { "data-table": "attempts" },
              h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Outcome"), h("th", {}, "Started"), h("th", { class: "num" }, "Took"), h("th", { class: "hide-narrow" }, "Worker"), h("th", {}, "Error"))),
              h(
                "tbody",
                {},
                history.map((a) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, String(a.attempt)),
                    h("td", {}, badge(a.outcome === "completed" ? "completed" : a.outcome === "failed" ? "failed" : a.outcome)),
                    h("td", {}, when(a.startedAt)),
                    h("td", { class: "num" }, duration(a.durationMs)),
                    h("td", { class: "hide-narrow mono" }, a.workerId ?? "–"),
                    h(
                      "td",
                      {},
                      a.error ? h("div", { class: "error-text" }, a.error) : "–",
                      a.stack ? h("details", {}, h("summary", {}, "Stack"), h("pre", {}, a.stack)) : null,
                      Array.isArray(a.warnings) && a.warnings.length ? h("ul", {}, a.warnings.map((w) => h("li", {}, `⚠ ${typeof w === "string" ? w : w.message ?? JSON.stringify(w)}`))) : null,
                    ),
                  ),
                ),
              ),
            ),
          ),
    ),
  ];
}

// ---- workflows -------------------------------------------------------------

async function workflowList(mine, params) {
  const filter = { status: params.status ?? "", type: params.type ?? "" };
  const page = await optional(`/workflows${query({ ...filter, limit: PAGE_SIZE, cursor: params.cursor })}`);
  if (page === null) {
    mount(mine, h("h1", {}, "Workflows"), h("section", { class: "panel" }, h("p", { class: "muted" }, "This worker does not serve workflows (GET /workflows).")));
    return;
  }
  const form = h(
    "form",
    {
      class: "filters",
      "aria-label": "Filter workflows",
      onsubmit: (event) => {
        event.preventDefault();
        go("/workflows", Object.fromEntries(new FormData(event.currentTarget)));
      },
    },
    h("label", {}, "Status", h("select", { name: "status" }, h("option", { value: "" }, "any"), WORKFLOW_STATUSES.map((s) => h("option", { value: s, selected: s === filter.status }, s.replaceAll("_", " "))))),
    h("label", {}, "Type", h("input", { name: "type", value: filter.type, autocomplete: "off" })),
    h("button", { type: "submit", class: "primary" }, "Filter"),
  );
  const workflows = page.workflows ?? [];
  const table =
    workflows.length === 0
      ? h("p", { class: "muted" }, "No workflows match.")
      : h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { "data-table": "workflows" },
            h("thead", {}, h("tr", {}, h("th", {}, "Workflow"), h("th", {}, "Status"), h("th", {}, "Jobs"), h("th", { class: "hide-narrow" }, "Created"), h("th", { class: "hide-narrow" }, "Finished"))),
            h(
              "tbody",
              {},
              workflows.map((w) =>
                h(
                  "tr",
                  { "data-workflow-id": w.id },
                  h("td", {}, h("a", { href: `#/workflows/${encodeURIComponent(w.id)}`, class: "mono" }, w.id)),
                  h("td", {}, badge(w.status)),
                  h("td", {}, countsText(w.counts)),
                  h("td", { class: "hide-narrow" }, when(w.createdAt)),
                  h("td", { class: "hide-narrow" }, when(w.finishedAt)),
                ),
              ),
            ),
          ),
        );
  const more = page.nextCursor ? h("nav", { class: "pager" }, h("a", { href: `#/workflows${query({ ...filter, cursor: page.nextCursor })}` }, "Older →")) : null;
  mount(mine, h("h1", {}, "Workflows"), h("section", { class: "panel" }, form, table, more));
}

function countsText(counts) {
  if (!counts || typeof counts !== "object") return "–";
  const parts = Object.entries(counts).filter(([, n]) => typeof n === "number" && n > 0);
  return parts.length ? parts.map(([s, n]) => `${n} ${s.replaceAll("_", " ")}`).join(", ") : "–";
}

async function workflowPage(mine, id) {
  let shown = "";
  const draw = async () => {
    const workflow = await optional(`/workflows/${encodeURIComponent(id)}`);
    if (workflow === null) {
      mount(mine, h("h1", {}, "Workflow"), h("p", { class: "muted" }, "This worker does not serve workflows (GET /workflows/:id)."));
      return null;
    }
    const text = JSON.stringify(workflow);
    if (text !== shown) {
      shown = text;
      mount(mine, ...renderWorkflow(workflow));
    }
    return workflow;
  };
  const workflow = await draw();
  if (workflow) every(1000, draw);
}

function renderWorkflow(w) {
  const jobs = w.jobs ?? [];
  const actions = [
    w.status === "running" ? action("Cancel workflow", async () => (await api(`/workflows/${encodeURIComponent(w.id)}/cancel`, { method: "POST" }), `Workflow ${w.id} cancelled.`), { danger: true, name: "cancel-workflow" }) : null,
    ["failed", "cancelled", "completed_with_errors"].includes(w.status)
      ? action("Retry workflow", async () => (await api(`/workflows/${encodeURIComponent(w.id)}/retry`, { method: "POST" }), `Workflow ${w.id} retried.`), { name: "retry-workflow" })
      : null,
  ];
  return [
    h("h1", {}, "Workflow", h("span", { class: "mono" }, w.id), badge(w.status), h("span", { class: "toolbar inline" }, actions)),
    h(
      "section",
      { class: "panel" },
      h("p", { class: "muted lead" }, `Started ${relative(w.createdAt - Date.now())}`, w.finishedAt ? `, finished ${relative(w.finishedAt - Date.now())}` : "", ` · ${countsText(w.counts)}`),
      h("div", { class: "graph", "data-graph": "workflow" }, workflowGraph(jobs, { down: matchMedia("(max-width: 640px)").matches })),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Steps"),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "data-table": "workflow-jobs" },
          h("thead", {}, h("tr", {}, h("th", {}, "Id"), h("th", {}, "Type"), h("th", {}, "Status"), h("th", { class: "hide-narrow" }, "After"), h("th", { class: "num hide-narrow" }, "Attempts"), h("th", {}, "Error / warnings"))),
          h(
            "tbody",
            {},
            jobs.map((j) =>
              h(
                "tr",
                { "data-job-id": j.id },
                h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(j.id)}`, class: "mono" }, `#${j.id}`)),
                h("td", {}, j.type),
                h("td", {}, badge(j.status)),
                h("td", { class: "mono hide-narrow" }, (j.after ?? []).map((d) => `#${d}`).join(" ") || (j.parentId ? `staged by #${j.parentId}` : "–")),
                h("td", { class: "num hide-narrow" }, String(j.attempts ?? 0)),
                h("td", {}, j.lastError ? h("div", { class: "error-text" }, j.lastError) : null, (j.warnings ?? []).map((w) => h("div", {}, `⚠ ${typeof w === "string" ? w : w.message ?? JSON.stringify(w)}`))),
              ),
            ),
          ),
        ),
      ),
    ),
  ];
}

// ---- queues and schedules ----------------------------------------------------

async function queuesPage(mine) {
  const draw = async () => {
    const [queues, schedules] = await Promise.all([optional("/queues").catch((error) => ({ error })), api("/schedules")]);
    mount(mine, h("h1", {}, "Queues & schedules"), queuesPanel(queues), schedulesPanel(schedules.schedules ?? []));
  };
  every(5000, draw);
  await draw();
}

function schedulesPanel(schedules) {
  const now = Date.now();
  return h(
    "section",
    { class: "panel", "aria-labelledby": "schedules-title" },
    h("h2", { id: "schedules-title" }, "Schedules"),
    schedules.length === 0
      ? h("p", { class: "muted" }, "No cron schedules.")
      : h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { "data-table": "schedules" },
            h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Cron"), h("th", { class: "hide-narrow" }, "Time zone"), h("th", {}, "Type"), h("th", {}, "Last fire"), h("th", {}, "Next fire"), h("th", {}, "State"), canAct() ? h("th", {}, h("span", { class: "sr-only" }, "Actions")) : null)),
            h(
              "tbody",
              {},
              schedules.map((s) =>
                h(
                  "tr",
                  { "data-schedule": s.name },
                  h("td", {}, s.name),
                  h("td", { class: "mono" }, s.cron),
                  h("td", { class: "hide-narrow" }, s.timezone ?? "UTC"),
                  h("td", {}, h("a", { href: `#/jobs${query({ status: "completed", type: s.type })}` }, s.type)),
                  h("td", {}, when(s.lastFireAt, now)),
                  h("td", {}, s.paused ? h("span", { class: "muted" }, "paused") : when(s.nextFireAt, now)),
                  h("td", {}, badge(s.paused ? "paused" : "active")),
                  canAct()
                    ? h(
                        "td",
                        {},
                        s.paused
                          ? action("Resume", async () => (await api(`/schedules/${encodeURIComponent(s.name)}/resume`, { method: "POST" }), `Schedule ${s.name} resumed.`), { small: true })
                          : action("Pause", async () => (await api(`/schedules/${encodeURIComponent(s.name)}/pause`, { method: "POST" }), `Schedule ${s.name} paused.`), { small: true }),
                      )
                    : null,
                ),
              ),
            ),
          ),
        ),
  );
}

// ---- start ---------------------------------------------------------------

document.getElementById("find-job").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("find-job-id");
  const id = input.value.trim();
  if (id) go(`/jobs/${encodeURIComponent(id)}`);
  input.value = "";
});

window.addEventListener("hashchange", () => {
  clearNotice();
  void route();
});

async function start() {
  try {
    const answer = await optional("/access");
    access = answer?.access ?? null;
  } catch (error) {
    showError(error);
  }
  const label = document.getElementById("access");
  if (access === "read") {
    label.textContent = "read-only";
    label.hidden = false;
  }
  document.body.dataset.access = access ?? "unknown";
  await route();
  document.body.dataset.ready = "true";
}

void start();
