// The log drawer under the canvas: every node's log lines with time and node, streamed live;
// warnings and errors (a failed node's reason) are marked as such. In a run across nodes, the
// lines another party's node reported for its part are marked with that party ("@bob").
//
// Lines are keyed by node, time and text, so re-applying a snapshot after a reconnect adds
// only what was missed. The view sticks to the newest line unless the user has scrolled up
// to read; a node filter narrows it, and "this node only" makes the filter follow the node
// selected on the canvas.

import { el, timeText } from "./dom.js";
import { format, gettext } from "../../lib/i18n.js";

const MAX_LINES = 3000;
// Lines carry a level ("info", "warning", "error"); older lines have none and are info.
// The symbol is shown; the word is for screen readers (colour alone says nothing to them).
const LEVEL_TAGS = { info: "", warning: gettext("Warning"), error: gettext("Error") };
const LEVEL_SYMBOLS = { warning: "⚠", error: "✖" };
const STICK_SLACK_PX = 12;

function levelTag(level) {
  if (!LEVEL_TAGS[level]) return null;
  return el("span", { className: "log-tag" }, el("span", { "aria-hidden": "true" }, `${LEVEL_SYMBOLS[level]} `), el("span", { className: "visually-hidden" }, `${LEVEL_TAGS[level]}: `));
}

/** A line another party's node reported for its part of the node (a run across nodes). */
function partyTag(party) {
  if (!party) return null;
  return el("span", { className: "log-party", title: format(gettext("Reported by %(party)s's node"), { party }) }, `@${party} `);
}

export function createLogDrawer(root) {
  const seen = new Set();
  const state = { selected: null, count: 0 };
  const toggle = el("button", { type: "button", className: "log-toggle", "aria-expanded": "false", "aria-controls": "log-body" },
    el("span", { className: "log-chevron", "aria-hidden": "true" }), gettext("Logs "), el("span", { className: "log-count badge badge-muted" }, "0"));
  const latest = el("span", { className: "log-latest" });
  const filter = el("select", { name: "log-node", "aria-label": gettext("Show the logs of") }, el("option", { value: "" }, gettext("All nodes")));
  const follow = el("input", { type: "checkbox", name: "log-follow" });
  const list = el("ol", { className: "log-lines" });
  const empty = el("p", { className: "log-empty" }, gettext("No log lines yet. Run the pipeline to see each node's progress here."));
  const body = el("div", { id: "log-body", className: "log-body", role: "log", "aria-label": gettext("Log lines"), tabIndex: 0, hidden: true }, empty, list);
  const tools = el("div", { className: "log-tools" }, filter, el("label", { className: "log-follow" }, follow, ` ${gettext("This node only")}`));
  root.replaceChildren(el("div", { className: "log-head" }, toggle, latest, tools), body);
  root.classList.add("is-collapsed");

  function setOpen(open) {
    body.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    root.classList.toggle("is-collapsed", !open);
    if (open) body.scrollTop = body.scrollHeight;
  }
  toggle.addEventListener("click", () => setOpen(body.hidden));

  const shown = (node) => !filter.value || filter.value === node;
  function applyFilter() {
    for (const line of list.children) line.hidden = !shown(line.dataset.node);
    empty.hidden = [...list.children].some((line) => !line.hidden);
    body.scrollTop = body.scrollHeight;
  }
  function followSelection() {
    filter.disabled = follow.checked;
    if (follow.checked) {
      ensureOption(state.selected);
      filter.value = state.selected || "";
    }
    applyFilter();
  }
  filter.addEventListener("change", applyFilter);
  follow.addEventListener("change", followSelection);

  function ensureOption(node) {
    if (!node || [...filter.options].some((option) => option.value === node)) return;
    filter.append(el("option", { value: node }, node));
  }

  function add(node, line) {
    const key = `${node}\u0000${line.at || ""}\u0000${line.time}\u0000${line.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    ensureOption(node);
    const stick = body.scrollTop + body.clientHeight >= body.scrollHeight - STICK_SLACK_PX;
    const level = LEVEL_TAGS[line.level] ? line.level : "info";
    const item = el("li", { dataset: { node, level }, className: `log-level-${level}`, hidden: !shown(node) },
      el("time", { dateTime: line.time || "" }, timeText(line.time)),
      el("span", { className: "log-node", title: node }, node),
      el("span", { className: "log-message" }, levelTag(level), partyTag(line.at), line.message));
    list.append(item);
    if (list.children.length > MAX_LINES) list.firstElementChild.remove();
    state.count += 1;
    toggle.querySelector(".log-count").textContent = String(state.count);
    latest.textContent = `${node}${line.at ? ` @${line.at}` : ""}: ${LEVEL_TAGS[level] ? `${LEVEL_SYMBOLS[level]} ` : ""}${line.message}`;
    latest.classList.toggle("is-error", level === "error");
    if (!item.hidden) empty.hidden = true;
    if (stick) body.scrollTop = body.scrollHeight;
  }

  return {
    open: () => setOpen(true),
    /** Forget every line (another run is shown). */
    reset() {
      seen.clear();
      list.replaceChildren();
      state.count = 0;
      toggle.querySelector(".log-count").textContent = "0";
      latest.textContent = "";
      empty.hidden = false;
    },
    add,
    /** Add the lines of a run state (snapshot), in time order, skipping those already shown. */
    addRun(run) {
      const lines = [];
      for (const node of run.nodes || []) for (const line of node.logs || []) lines.push([node.node, line]);
      lines.sort((a, b) => String(a[1].time).localeCompare(String(b[1].time)));
      for (const [node, line] of lines) add(node, line);
    },
    setSelected(node) {
      state.selected = node;
      if (follow.checked) followSelection();
    },
  };
}
