// Small DOM and URL helpers shared by the run tools (no framework: elements built in code,
// text always set as textContent, never as HTML).

/** `el("td", {className: "num"}, "12")`: an element with properties/attributes and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * A URL pattern from the page data with its placeholders replaced. Patterns hold the run id
 * `0` and the node `__node__` as whole path segments (e.g. `/api/v1/runs/0/nodes/__node__/`):
 * only those segments are replaced, never a "0" inside another segment.
 */
export function fillUrl(pattern, placeholders, { run, node } = {}) {
  return pattern
    .split("/")
    .map((segment) => {
      if (run !== undefined && segment === String(placeholders.run)) return encodeURIComponent(run);
      if (node !== undefined && segment === String(placeholders.node)) return encodeURIComponent(node);
      return segment;
    })
    .join("/");
}

/** The absolute ws:// or wss:// address of a websocket path on this page's host. */
export function websocketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

export const FINISHED = new Set(["succeeded", "failed", "cancelled", "interrupted", "revoked"]);
export const STATUS_LABELS = {
  pending: "Pending",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  cancelled: "Cancelled",
  skipped: "Skipped",
  interrupted: "Interrupted",
  revoked: "Revoked",
};

/** A status badge using console.css's run-status-<status> colours. */
export function statusBadge(status) {
  return el("span", { className: `badge run-status-${status}`, dataset: { status } }, STATUS_LABELS[status] || status);
}

export { durationText } from "../../lib/format.js";

/** A local date and time, short: "22 Nov, 08:14:03". */
export function whenText(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** A local time of day for log lines: "08:14:03". */
export function timeText(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? String(iso) : moment.toLocaleTimeString(undefined, { hour12: false });
}
