// The header's run controls: Run all, Stop, the shown run's status and elapsed time, the live
// connection state, Download report, and a dismissable message for refused or failed requests
// (with an optional action, e.g. showing the node a run failed at).

import { durationText, el, FINISHED, statusBadge } from "./dom.js";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  refused: "Not connected",
};

export function createControls(root, { data, onRunAll, onStop, onReport }) {
  const viewing = data.mode === "run";
  const runAll = el("button", { type: "button", className: "button button-primary run-all", onclick: onRunAll }, "Run all");
  const stop = el("button", { type: "button", className: "button run-stop", onclick: onStop, disabled: true }, "Stop");
  const report = el("button", { type: "button", className: "button run-report", onclick: onReport, disabled: true }, "Download report");
  const badge = el("span", { className: "run-badge" });
  const elapsed = el("span", { className: "run-elapsed" });
  const connection = el("span", { className: "run-connection", hidden: true });
  const summary = el("span", { className: "run-summary", role: "status", "aria-live": "polite" }, badge, elapsed, connection);
  const text = el("span", { className: "run-alert-text" });
  const action = el("button", { type: "button", className: "button button-small run-alert-action", hidden: true });
  const alert = el("div", { className: "run-alert", role: "alert", hidden: true }, text, action,
    el("button", { type: "button", className: "run-alert-close", "aria-label": "Dismiss", onclick: () => (alert.hidden = true) }, "×"));
  const readonlyText = data.readonly_reason || "This pipeline is read-only.";
  root.replaceChildren(summary, ...(viewing ? [] : [runAll, stop]), report, alert);
  const state = { run: null, busy: false, ticker: null };

  function paint() {
    const run = state.run;
    const active = Boolean(run) && !FINISHED.has(run.status);
    badge.replaceChildren(...(run ? [el("span", { className: "run-number" }, `Run #${run.id}`), statusBadge(run.status)] : []));
    elapsed.textContent = run && run.started_at ? durationText(run.started_at, run.finished_at) : "";
    stop.disabled = !active || state.busy || Boolean(data.readonly) || Boolean(run?.cancel_requested);
    // One run at a time from this page: the shown run is stopped or finishes first.
    runAll.disabled = Boolean(data.readonly) || state.busy || active;
    runAll.title = data.readonly ? readonlyText : active ? "A run is in progress: stop it or wait for it to finish." : "";
    report.disabled = !run || !FINISHED.has(run.status);
    if (active && !state.ticker) state.ticker = setInterval(paint, 1000);
    if (!active && state.ticker) {
      clearInterval(state.ticker);
      state.ticker = null;
    }
  }

  paint();
  return {
    /** Show `run` (a run state, or null). */
    setRun(run) {
      state.run = run;
      paint();
    },
    setBusy(busy) {
      state.busy = busy;
      runAll.classList.toggle("is-busy", busy);
      paint();
    },
    setConnection(kind, detail = {}) {
      connection.hidden = kind === "closed";
      connection.className = `run-connection is-${kind}`;
      connection.textContent = detail.message ? `${CONNECTION_TEXT[kind]}: ${detail.message}` : CONNECTION_TEXT[kind] || "";
      if (kind === "refused") this.showError(detail.message);
    },
    /** Show `message`; `act` ({label, run}) adds a button that runs `act.run` and closes it. */
    showError(message, act = null) {
      text.textContent = message;
      alert.hidden = !message;
      action.hidden = !act;
      action.textContent = act ? act.label : "";
      action.onclick = act ? () => { alert.hidden = true; act.run(); } : null;
    },
    clearError() {
      alert.hidden = true;
    },
  };
}
