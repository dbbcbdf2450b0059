// The run history tab: this pipeline's runs, newest first, each opening the read-only page of
// that run (the canvas as it was, with its results).

import { apiFetch, errorMessage } from "../../lib/api.js";
import { formatBytes } from "../../lib/format.js";
import { durationText, el, fillUrl, statusBadge, whenText } from "./dom.js";

const SCOPES = { all: "All nodes", node: "One node", downstream: "From a node", upstream: "Up to a node" };

function scopeText(run) {
  const scope = SCOPES[run.scope] || run.scope;
  return run.scope_node ? `${scope}: ${run.scope_node}` : scope;
}

function row(run, data, currentId) {
  const link = el("a", { href: fillUrl(data.urls.run_page, data.placeholders, { run: run.id }), className: "run-link" }, `Run #${run.id}`);
  const running = !run.finished_at && run.started_at;
  return el("li", { className: `run-row${run.id === currentId ? " is-current" : ""}`, dataset: { runId: run.id } },
    el("div", { className: "run-row-head" }, link, statusBadge(run.status)),
    el("div", { className: "run-row-meta" },
      el("span", { title: "Started" }, whenText(run.started_at || run.created_at)),
      el("span", { title: "Duration" }, running ? `${durationText(run.started_at)} so far` : durationText(run.started_at, run.finished_at)),
      el("span", { title: "Bytes the parties sent each other" }, typeof run.comm_bytes === "number" ? `${formatBytes(run.comm_bytes)} sent` : ""),
      el("span", { title: "Bytes its outputs take on disk, all parties" }, typeof run.output_bytes === "number" ? `${formatBytes(run.output_bytes)} stored` : "")),
    el("div", { className: "run-row-meta" },
      el("span", {}, scopeText(run)),
      el("span", {}, run.started_by ? `by ${run.started_by}` : "started by no user")),
    run.message ? el("p", { className: `run-row-message${["failed", "revoked"].includes(run.status) ? " is-error" : ""}` }, run.message) : null);
}

export function createHistory(root, data) {
  let currentId = null;
  let loading = null;
  const list = el("ol", { className: "run-list", "aria-label": "Runs of this pipeline" });
  const status = el("p", { className: "help", role: "status" });
  root.replaceChildren(el("div", { className: "panel-heading" }, el("h2", {}, "Run history"),
    el("button", { type: "button", className: "button button-small", onclick: () => refresh() }, "Refresh")), status, list);

  async function load() {
    status.textContent = "Loading runs…";
    const response = await apiFetch(data.urls.runs);
    if (!response.ok) {
      status.textContent = `The runs could not be loaded: ${errorMessage(response.body, response.status)}`;
      status.classList.add("is-error");
      return [];
    }
    status.classList.remove("is-error");
    const runs = response.body;
    status.textContent = runs.length ? "" : "No runs yet. Run the pipeline to see its history here.";
    list.replaceChildren(...runs.map((run) => row(run, data, currentId)));
    return runs;
  }

  /** Reload the list (one request at a time; a refresh asked during a load follows it). */
  function refresh() {
    loading = (loading || Promise.resolve()).then(load, load);
    return loading;
  }

  return {
    refresh,
    setCurrent(id) {
      currentId = id;
      for (const item of list.children) item.classList.toggle("is-current", Number(item.dataset.runId) === id);
    },
  };
}
