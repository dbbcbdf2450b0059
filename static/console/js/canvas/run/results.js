// The results tab: the selected node of the current run (status, timing, party, message,
// warnings, parameters and outputs, see outputs.js). The current run is the one started
// here, the one of a run page, or else the pipeline's newest run.

import { apiFetch, errorMessage } from "../../lib/api.js";
import { drawChart, purgeCharts } from "./charts.js";
import { durationText, el, FINISHED, fillUrl, statusBadge } from "./dom.js";
import { outputSection } from "./outputs.js";
import { format, gettext } from "../../lib/i18n.js";

function message(text, className = "help") {
  return el("p", { className }, text);
}

function facts(result, run) {
  const rows = [
    [gettext("Status"), statusBadge(result.status)],
    [gettext("Party"), result.party || gettext("Joint computation of the parties")],
    [gettext("Started"), result.started || "—"],
    [gettext("Duration"), result.duration || "—"],
    [gettext("Run"), `#${run.id}`],
  ];
  if (result.reused_from_run) rows.push([gettext("Reused"), `outputs of run #${result.reused_from_run}`]);
  return el("dl", { className: "result-facts" }, rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
}

/** A node's warnings: problems it found that did not stop it (e.g. unscaled features). */
function warningList(warnings) {
  if (!warnings.length) return null;
  return el("ul", { className: "result-warnings", "aria-label": gettext("Warnings") },
    warnings.map((warning) => el("li", {}, el("strong", {}, gettext("Warning: ")), warning.message)));
}

/**
 * A run across nodes: each party's part of the node as that party's node reported it (its own
 * status, progress and public message), so the initiator sees who is where, live.
 */
function partsList(node) {
  const parts = node?.parts || [];
  if (!parts.length) return null;
  const rows = parts.map((part) => el("tr", { dataset: { party: part.party, status: part.status } },
    el("th", { scope: "row" }, part.party),
    el("td", {}, statusBadge(part.status)),
    el("td", { className: "num" }, part.status === "running" ? `${part.progress || 0}%` : ""),
    el("td", { className: "result-part-message" }, part.message || "")));
  return el("section", { className: "result-parts", "aria-label": gettext("Parties") },
    el("h3", {}, gettext("Parties")),
    el("table", { className: "table table-compact" }, el("tbody", {}, rows)));
}

function paramsTable(params) {
  if (!params.length) return message(gettext("This node has no parameters."));
  return el("table", { className: "table table-compact result-params" },
    el("tbody", {}, params.map((param) => el("tr", {}, el("th", { scope: "row", className: "column-name" }, param.name), el("td", {}, param.value)))));
}

/** A modal dialog that redraws one chart large. */
function createEnlarger(data) {
  const plot = el("div", { className: "result-chart-wide" });
  const title = el("h2", {});
  const dialog = el("dialog", { className: "chart-dialog" },
    el("div", { className: "chart-dialog-head" }, title, el("button", { type: "button", className: "button button-small", onclick: () => dialog.close() }, gettext("Close"))), plot);
  dialog.addEventListener("close", () => purgeCharts(dialog));
  document.body.append(dialog);
  return (chart) => {
    title.textContent = chart.title;
    dialog.showModal();
    drawChart(data.plotly, plot, chart, { wide: true }).catch((error) => plot.replaceChildren(message(error.message, "help is-error")));
  };
}

export function createResults(root, { data }) {
  const state = { run: null, node: null, token: 0 };
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      entry.target.__draw?.();
    }
  });
  const context = {
    data,
    enlarge: createEnlarger(data),
    // Charts are drawn once visible: a hidden tab has no width to lay a chart out in.
    whenVisible(target, draw) {
      target.__draw = draw;
      observer.observe(target);
    },
  };

  function replace(...children) {
    purgeCharts(root);
    root.replaceChildren(...children.flat(2).filter(Boolean));
  }

  function header(label, nodeId) {
    return el("div", { className: "panel-heading" }, el("h2", {}, label), nodeId && nodeId !== label ? el("span", { className: "result-node-id" }, nodeId) : null);
  }

  async function render() {
    const token = ++state.token;
    const { run, node } = state;
    if (!node) return replace(header(gettext("Results")), message(gettext("Select a node on the canvas to see its results. Double-click a finished node to open them directly.")));
    if (!run) return replace(header(gettext("Results"), node), message(gettext("This pipeline has not been run yet. Run it to see each node's results here.")));
    const known = run.nodes ? run.nodes.find((entry) => entry.node === node) : undefined;
    if (run.nodes && !known) return replace(header(gettext("Results"), node), message(format(gettext("Node %(node)s was not part of run #%(id)s."), { node: node, id: run.id }), "help result-absent"));
    if (known && !FINISHED.has(known.status) && known.status !== "skipped") {
      // A run across nodes: each party's own progress is listed below instead.
      const percent = known.parts?.length ? "" : `${known.progress || 0}%, `;
      const progress = known.status === "running" ? ` (${percent}${durationText(known.started_at) || "just started"})` : "";
      return replace(header(gettext("Results"), node), el("p", { className: "result-waiting" }, statusBadge(known.status), ` Results appear when this node has finished${progress}.`), partsList(known));
    }
    replace(header(gettext("Results"), node), message(gettext("Loading results…")));
    const response = await apiFetch(fillUrl(data.urls.run_node, data.placeholders, { run: run.id, node }));
    if (token !== state.token) return null;
    if (response.status === 404) return replace(header(gettext("Results"), node), message(format(gettext("Node %(node)s was not part of run #%(id)s."), { node: node, id: run.id }), "help result-absent"));
    if (!response.ok) return replace(header(gettext("Results"), node), message(format(gettext("The results could not be loaded: %(status)s"), { status: errorMessage(response.body, response.status) }), "help is-error"));
    return replace(...resultView(response.body, run));
  }

  function resultView(result, run) {
    const failed = ["failed", "interrupted", "revoked"].includes(result.status);
    const outputs = result.outputs || [];
    return [
      header(result.label, result.id),
      facts(result, run),
      partsList(run.nodes?.find((entry) => entry.node === result.id)),
      result.message ? el("p", { className: failed ? "result-error" : "result-message", role: failed ? "alert" : null }, result.message) : null,
      warningList(result.warnings || []),
      el("details", { className: "result-params-box" }, el("summary", {}, format(gettext("Parameters (%(params_length)s)"), { params_length: result.params.length })), paramsTable(result.params)),
      outputs.length ? outputs.map((output) => outputSection(output, context))
        : message(result.status === "succeeded" ? gettext("This node has no outputs.") : gettext("No outputs: the node did not finish successfully.")),
    ];
  }

  render();
  return {
    /** Show `node` (null: none) of `run` (null: no run yet). */
    show(run, node) {
      state.run = run;
      state.node = node;
      return render();
    },
    node: () => state.node,
  };
}
