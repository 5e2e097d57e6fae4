// The dashboard's only way to the worker: the documented JSON API. Every call
// carries the tab's token when it has one; the first 401 asks for it.

const TOKEN_KEY = "spool.apiToken";

/** An API answer that was not 2xx: its status and the `{ error: { code, message } }` body. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

let asking = null;

/** Shows the token dialog once for any number of calls that got 401 at the same time. */
function askForToken(rejected) {
  if (asking) return asking;
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  document.getElementById("token-reason").textContent = rejected
    ? "The worker refused that token. Enter its API token; it is kept for this tab only."
    : "This worker needs its API token. It is kept for this tab only.";
  asking = new Promise((resolve) => {
    const done = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (token === "") return;
      form.removeEventListener("submit", done);
      sessionStorage.setItem(TOKEN_KEY, token);
      input.value = "";
      dialog.close();
      asking = null;
      resolve();
    };
    form.addEventListener("submit", done);
    // a token is needed to go on: Escape must not leave a page that cannot load
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/**
 * Calls the API: `api("/jobs?status=dead")`, `api("/jobs/7/retry", { method: "POST" })`.
 * Resolves with the parsed JSON body; rejects with ApiError on any other status
 * than 2xx. On 401 it asks for the token and tries again with it.
 */
export async function api(path, { method = "GET", body } = {}) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    // mutations always say JSON, the one body type the API takes
    if (method !== "GET") headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      body: method === "GET" ? undefined : JSON.stringify(body ?? {}),
      cache: "no-store",
    });
    if (response.status === 401) {
      await askForToken(token !== null);
      continue;
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data?.error?.code, data?.error?.message);
    return data;
  }
}

/** Like api() but answers null for a route this worker does not have (404 NOT_FOUND / 405). */
export async function optional(path) {
  try {
    return await api(path);
  } catch (error) {
    if (error instanceof ApiError && ((error.status === 404 && error.code === "NOT_FOUND") || error.status === 405)) return null;
    throw error;
  }
}

/** A query string from an object, leaving out empty values: `?status=dead&type=x`. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
