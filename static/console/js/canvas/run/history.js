// The run history tab: this pipeline's runs, newest first, each opening the read-only page of
// that run (the canvas as it was, with its results).

import { apiFetch, errorMessage } from "../../lib/api.js";
import { formatBytes } from "../../lib/format.js";
import { durationText, el, fillUrl, statusBadge, whenText } from "./dom.js";
import { format, gettext } from "../../lib/i18n.js";

const SCOPES = { all: gettext("All nodes"), node: gettext("One node"), downstream: gettext("From a node"), upstream: gettext("Up to a node") };

function scopeText(run) {
  const scope = SCOPES[run.scope] || run.scope;
  return run.scope_node ? `${scope}: ${run.scope_node}` : scope;
}

function row(run, data, currentId) {
  const link = el("a", { href: fillUrl(data.urls.run_page, data.placeholders, { run: run.id }), className: "run-link" }, format(gettext("Run #%(id)s"), { id: run.id }));
  const running = !run.finished_at && run.started_at;
  return el("li", { className: `run-row${run.id === currentId ? " is-current" : ""}`, dataset: { runId: run.id } },
    el("div", { className: "run-row-head" }, link, statusBadge(run.status)),
    el("div", { className: "run-row-meta" },
      el("span", { title: gettext("Started") }, whenText(run.started_at || run.created_at)),
      el("span", { title: gettext("Duration") }, running ? `${durationText(run.started_at)} so far` : durationText(run.started_at, run.finished_at)),
      el("span", { title: gettext("Bytes the parties sent each other") }, typeof run.comm_bytes === "number" ? `${formatBytes(run.comm_bytes)} sent` : ""),
      el("span", { title: gettext("Bytes its outputs held by your node take on disk") }, typeof run.output_bytes === "number" ? format(gettext("%(size)s stored"), { size: formatBytes(run.output_bytes) }) : "")),
    el("div", { className: "run-row-meta" },
      el("span", {}, scopeText(run)),
      el("span", run.started_at_node ? { title: format(gettext("As node %(node)s states it"), { node: run.started_at_node }) } : {},
        run.started_by ? format(gettext("by %(user)s"), { user: run.started_by }) : gettext("started by no user"))),
    run.message ? el("p", { className: `run-row-message${["failed", "revoked"].includes(run.status) ? " is-error" : ""}` }, run.message) : null);
}

export function createHistory(root, data) {
  let currentId = null;
  let loading = null;
  const list = el("ol", { className: "run-list", "aria-label": gettext("Runs of this pipeline") });
  const status = el("p", { className: "help", role: "status" });
  root.replaceChildren(el("div", { className: "panel-heading" }, el("h2", {}, gettext("Run history")),
    el("button", { type: "button", className: "button button-small", onclick: () => refresh() }, gettext("Refresh"))), status, list);

  async function load() {
    status.textContent = gettext("Loading runs…");
    const response = await apiFetch(data.urls.runs);
    if (!response.ok) {
      status.textContent = format(gettext("The runs could not be loaded: %(status)s"), { status: errorMessage(response.body, response.status) });
      status.classList.add("is-error");
      return [];
    }
    status.classList.remove("is-error");
    const runs = response.body;
    status.textContent = runs.length ? "" : gettext("No runs yet. Run the pipeline to see its history here.");
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
