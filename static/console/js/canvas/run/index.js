// Run tools of the pipeline canvas: starting and stopping runs, the live view over the run's
// websocket (node colours, progress, elapsed time, log drawer), run history and results.
//
// mountRunTools({data, bus, view, elements}) is called by the page entry (pipeline.js) once the
// editor is ready. Contract with the editor: `view` paints run states and problems; the bus
// carries node:selected, run:request (from the node menu) and tab:show / problems /
// run:started / run:finished (emitted here).
//
// Test hook: when the page was opened with `window.__privpadTestHooks = true` set before its
// scripts ran (Playwright's add_init_script), `window.__privpadRunSocket` is the live socket
// object, whose drop() closes the connection as a network failure would. Nothing is exposed
// otherwise.

import { apiFetch, errorMessage } from "../../lib/api.js";
import { createControls } from "./controls.js";
import { FINISHED, fillUrl, websocketUrl } from "./dom.js";
import { createHistory } from "./history.js";
import { createLogDrawer } from "./logs.js";
import { createResults } from "./results.js";
import { REFUSED, RunSocket } from "./socket.js";
import { format, gettext } from "../../lib/i18n.js";

function emit(bus, type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

/**
 * What the view paints for one node: progress as a fraction, times as ISO strings, and in a run
 * across nodes each party's part (its own status and progress, as that party reported it).
 */
function paintState(node) {
  const parts = (node.parts || []).map((part) => ({ party: part.party, status: part.status, progress: (Number(part.progress) || 0) / 100 }));
  return { status: node.status, progress: (Number(node.progress) || 0) / 100, started_at: node.started_at, finished_at: node.finished_at, message: node.message, warnings: (node.warnings || []).length, parts };
}

/** A party's part after a `node.part` event or a fresher state: the later of the two wins. */
function mergePart(parts, fresh) {
  const known = parts.find((part) => part.party === fresh.party);
  if (!known) return [...parts, { ...fresh }].sort((a, b) => a.party.localeCompare(b.party));
  if (stage(fresh.status) > stage(known.status)) Object.assign(known, fresh);
  else if (fresh.status === known.status) Object.assign(known, { message: fresh.message ?? known.message, progress: Math.max(Number(known.progress) || 0, Number(fresh.progress) || 0) });
  return parts;
}

/**
 * The toast of a failed run. The server's message names the first failed node by its
 * component and id with its reason and fix ("failed at SS-LR training (train): …"); runs from
 * before that say "failed: <node ids>", and run-level failures (an invalid pipeline, an
 * internal error) carry a plain reason.
 */
export function failureToast(run) {
  const message = run.message || "see the failed node's results";
  const worded = /^failed( at |: )/.test(message); // today's and older runs' messages
  return `Run #${run.id} ${worded ? message : `failed: ${message}`}`;
}

export function mountRunTools({ data, bus, view, elements }) {
  const tools = { data, bus, view, run: null, socket: null };
  tools.logs = createLogDrawer(elements.logs);
  tools.history = createHistory(elements.runs, data);
  tools.results = createResults(elements.results, { data });
  tools.controls = createControls(elements.controls, {
    data,
    onRunAll: () => startRun(tools, { scope: "all" }),
    onStop: () => stopRun(tools),
    onReport: () => downloadReport(tools),
  });
  bus.addEventListener("run:request", (event) => startRun(tools, { scope: event.detail.scope, node: event.detail.node }));
  bus.addEventListener("node:selected", (event) => {
    tools.logs.setSelected(event.detail.node);
    tools.results.show(tools.run, event.detail.node);
  });
  view.x6?.on("node:dblclick", ({ node }) => {
    view.selectNode(node.id);
    emit(bus, "node:selected", { node: node.id });
    emit(bus, "tab:show", { tab: "results" });
  });
  tools.history.refresh().then((runs) => {
    if (data.mode === "run" && data.run) showRun(tools, data.run);
    else if (runs.length && !tools.run) loadNewest(tools, runs[0].id);
  });
  return tools;
}

async function loadNewest(tools, runId) {
  const response = await apiFetch(fillUrl(tools.data.urls.run, tools.data.placeholders, { run: runId }));
  if (response.ok && !tools.run) showRun(tools, response.body);
}

/** Make `run` the shown run: paint it, list its logs, and follow it live while unfinished. */
function showRun(tools, run, { fresh = false } = {}) {
  tools.socket?.close();
  tools.socket = null;
  if (fresh) tools.view.clearRunState();
  tools.logs.reset();
  applySnapshot(tools, run);
  tools.history.setCurrent(run.id);
  if (!FINISHED.has(run.status)) follow(tools, run.id);
}

function applySnapshot(tools, run) {
  tools.run = { ...run, nodes: run.nodes || [] };
  for (const node of tools.run.nodes) tools.view.setRunState(node.node, paintState(node));
  tools.logs.addRun(tools.run);
  tools.controls.setRun(tools.run);
  tools.results.show(tools.run, tools.results.node() ?? tools.view.selectedNode());
}

function follow(tools, runId) {
  const url = websocketUrl(fillUrl(tools.data.urls.websocket, tools.data.placeholders, { run: runId }));
  const socket = new RunSocket(url, {
    onSnapshot: (run) => {
      const wasFinished = FINISHED.has(tools.run?.status);
      applySnapshot(tools, run);
      if (FINISHED.has(run.status) && !wasFinished) finished(tools);
      else catchUp(tools, run.id);
    },
    onEvent: (event) => applyEvent(tools, event),
    onState: (kind, detail) => tools.controls.setConnection(kind, detail),
    diagnose: () => diagnose(tools, runId),
  });
  tools.socket = socket;
  if (window.__privpadTestHooks === true) window.__privpadRunSocket = socket;
  socket.start();
}

const STAGE = { pending: 0, running: 1 };
const stage = (status) => STAGE[status] ?? 2;

/**
 * Fill the gap between the socket's snapshot and its joining the run's group: the server takes
 * the snapshot first, so events published in between never arrive. A state read once the
 * socket is live covers them; it is merged, never applied blindly, since events may already
 * have moved past it. Statuses only move forward (pending, running, finished) and progress
 * only grows, so the later of the two wins for each node.
 */
async function catchUp(tools, runId) {
  const response = await apiFetch(fillUrl(tools.data.urls.run, tools.data.placeholders, { run: runId }));
  const run = tools.run;
  if (!response.ok || !run || run.id !== runId) return;
  for (const fresh of response.body.nodes) {
    const node = run.nodes.find((entry) => entry.node === fresh.node);
    if (!node) continue;
    const parts = (fresh.parts || []).reduce(mergePart, node.parts || []);
    if (stage(fresh.status) > stage(node.status)) Object.assign(node, fresh, { logs: node.logs });
    else if (fresh.status === node.status) node.progress = Math.max(Number(node.progress) || 0, Number(fresh.progress) || 0);
    node.parts = parts;
    tools.view.setRunState(node.node, paintState(node));
    for (const line of fresh.logs || []) tools.logs.add(fresh.node, line);
  }
  if (stage(response.body.status) > stage(run.status)) {
    if (FINISHED.has(response.body.status)) return runStatus(tools, { status: response.body.status, message: response.body.message });
    Object.assign(run, { status: response.body.status, started_at: response.body.started_at });
    tools.controls.setRun(run);
  }
  return null;
}

/**
 * The final state, keeping for each party's part the later of what it says and what the page
 * already knows: a run across nodes closes its unfinished parts right after its own status
 * (`workflows.state.close_parts`), so their `node.part` events can arrive while this state is
 * being read, and a state read a moment earlier must not paint them back to pending.
 */
function withKnownParts(known, fresh) {
  for (const node of fresh.nodes || []) {
    const seen = (known?.nodes || []).find((entry) => entry.node === node.node);
    if (seen?.parts?.length) node.parts = (node.parts || []).reduce(mergePart, seen.parts.map((part) => ({ ...part })));
  }
  return fresh;
}

/** Why the run's socket would not open, if the API says it is a refusal (else null). */
async function diagnose(tools, runId) {
  const response = await apiFetch(fillUrl(tools.data.urls.run, tools.data.placeholders, { run: runId }));
  if (response.status === 401 || response.status === 403) return REFUSED[4401];
  if (response.status === 404) return REFUSED[4403];
  return null;
}

function applyEvent(tools, event) {
  const run = tools.run;
  if (!run || (event.run !== undefined && event.run !== run.id)) return;
  if (event.type === "run.status") return runStatus(tools, event);
  let node = run.nodes.find((entry) => entry.node === event.node);
  if (!node) {
    node = { node: event.node, status: "pending", progress: 0, logs: [] };
    run.nodes.push(node);
  }
  const now = new Date().toISOString();
  if (event.type === "node.log") return tools.logs.add(event.node, event.line);
  if (event.type === "node.progress") node.progress = event.progress;
  if (event.type === "node.part") {
    const { party, status, progress, message } = event;
    node.parts = mergePart(node.parts || [], { party, status, progress, message });
    if (tools.results.node() === event.node) tools.results.show(run, event.node);
  }
  if (event.type === "node.warning") {
    // The same warning may come twice (pushed, and read back from the database: relay.py).
    const same = (w) => w.message === event.warning.message && w.party === event.warning.party && w.at === event.warning.at;
    if ((node.warnings || []).some(same)) return null;
    node.warnings = [...(node.warnings || []), event.warning];
    if (tools.results.node() === event.node) tools.results.show(run, event.node);
  }
  if (event.type === "node.status") {
    // Events carry no times: the page's clock stands in until the next snapshot.
    if (event.status === "running" && !node.started_at) node.started_at = now;
    if (FINISHED.has(event.status) && !node.finished_at) node.finished_at = now;
    Object.assign(node, { status: event.status, message: event.message, party: event.party, progress: event.progress ?? node.progress });
    if (tools.results.node() === event.node) tools.results.show(run, event.node);
  }
  tools.view.setRunState(event.node, paintState(node));
  return null;
}

function runStatus(tools, event) {
  const run = tools.run;
  const wasFinished = FINISHED.has(run.status);
  const now = new Date().toISOString();
  Object.assign(run, { status: event.status, message: event.message || run.message });
  if (event.status === "running" && !run.started_at) run.started_at = now;
  if (FINISHED.has(event.status) && !run.finished_at) run.finished_at = now;
  tools.controls.setRun(run);
  if (FINISHED.has(event.status) && !wasFinished) finished(tools);
}

async function finished(tools) {
  // The final state from the API: events published between the socket's snapshot and its
  // joining the run's group are not replayed, so a node could otherwise keep a stale colour.
  const response = await apiFetch(fillUrl(tools.data.urls.run, tools.data.placeholders, { run: tools.run.id }));
  if (response.ok && response.body.id === tools.run?.id) applySnapshot(tools, withKnownParts(tools.run, response.body));
  const run = tools.run;
  emit(tools.bus, "run:finished", { run });
  tools.history.refresh();
  tools.results.show(run, tools.results.node());
  if (run.status === "failed") tools.controls.showError(failureToast(run), showFailedNode(tools, run));
}

/** The toast's action: select the first failed node and open its results (null if none). */
function showFailedNode(tools, run) {
  const failed = (run.nodes || []).find((node) => node.status === "failed");
  if (!failed || !tools.view.x6?.getCellById(failed.node)) return null;
  return {
    label: format(gettext("Show %(node)s"), { node: failed.node }),
    run: () => {
      tools.view.selectNode(failed.node);
      emit(tools.bus, "tab:show", { tab: "results" });
    },
  };
}

async function startRun(tools, { scope, node }) {
  const { data, view, controls, bus } = tools;
  if (data.mode === "run" || data.readonly) {
    controls.showError(data.readonly_reason || gettext("This pipeline is read-only: it cannot be run from here."));
    return;
  }
  if (tools.run && !FINISHED.has(tools.run.status)) {
    controls.showError(format(gettext("Run #%(id)s is still in progress: stop it or wait for it to finish first."), { id: tools.run.id }));
    return;
  }
  controls.clearError();
  controls.setBusy(true);
  try {
    try {
      await view.flushSave();
    } catch (error) {
      controls.showError(format(gettext("The pipeline was not run: saving it failed (%(error)s)."), { error: error?.message || error }));
      return;
    }
    const body = { scope, ...(node && scope !== "all" ? { node } : {}) };
    const response = await apiFetch(data.urls.runs, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
    if (response.status === 400 && response.body?.code === "invalid_pipeline") {
      const problems = response.body.problems || [];
      emit(bus, "problems", { problems });
      const listed = problems.slice(0, 3).map((problem) => (problem.node ? `${problem.node}: ${problem.message}` : problem.message));
      const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
      controls.showError(`The run was refused: ${response.body.detail}. ${listed.join("; ")}${more}. See the marked nodes.`);
      return;
    }
    if (response.status === 409 && ["approval_required", "approval_rejected"].includes(response.body?.code)) {
      emit(bus, "consent", response.body);
      emit(bus, "tab:show", { tab: "disclosure" });
      controls.showError(`${response.body.detail} See the Disclosure tab.`);
      return;
    }
    if (!response.ok) {
      controls.showError(format(gettext("The run could not start: %(status)s"), { status: errorMessage(response.body, response.status) }));
      return;
    }
    showRun(tools, response.body, { fresh: true });
    tools.logs.open();
    emit(bus, "run:started", { run: response.body });
    tools.history.refresh();
  } finally {
    controls.setBusy(false);
  }
}

async function stopRun(tools) {
  const run = tools.run;
  if (!run || FINISHED.has(run.status)) return;
  tools.controls.setBusy(true);
  const response = await apiFetch(fillUrl(tools.data.urls.cancel, tools.data.placeholders, { run: run.id }), { method: "POST" });
  tools.controls.setBusy(false);
  if (!response.ok) {
    tools.controls.showError(format(gettext("The run could not be stopped: %(status)s"), { status: errorMessage(response.body, response.status) }));
    return;
  }
  run.cancel_requested = true;
  if (FINISHED.has(response.body.status) && !FINISHED.has(run.status)) {
    applySnapshot(tools, response.body);
    finished(tools);
  } else tools.controls.setRun(run);
}

function downloadReport(tools) {
  if (!tools.run) return;
  const link = document.createElement("a");
  link.href = fillUrl(tools.data.urls.report, tools.data.placeholders, { run: tools.run.id });
  link.download = "";
  document.body.append(link);
  link.click();
  link.remove();
}
