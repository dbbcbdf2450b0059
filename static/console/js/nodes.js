// The nodes page: keeps the "Paired nodes" health cells live by re-reading /api/v1/routes/
// (which `manage.py node serve` updates at every health ping). Without JavaScript the page
// shows the health as of its rendering; nothing else depends on this module.

import { apiFetch } from "./lib/api.js";
import { format, gettext } from "./lib/i18n.js";

const REFRESH_MS = 10000;

function healthCell(route) {
  const badge = (cls, text) => `<span class="badge ${cls}">${text}</span>`;
  if (!route.enabled) return [badge("status-disabled", gettext("Disabled")), ""];
  if (route.last_error) return [badge("status-offline", gettext("Unreachable")), route.last_error];
  if (route.last_seen_at) return [badge("status-online", gettext("Online")), ""];
  return [badge("badge-muted", gettext("Not checked")), ""];
}

function showRoute(row, route) {
  const [badge, detail] = healthCell(route);
  const health = row.querySelector("[data-field=health]");
  health.innerHTML = badge;
  if (detail) {
    const sub = document.createElement("div");
    sub.className = "cell-sub";
    sub.textContent = detail; // peer-supplied text: never as HTML
    health.append(sub);
  }
  row.querySelector("[data-field=latency]").textContent =
    route.latency_ms === null ? "—" : format(gettext("%(ms)s ms"), { ms: route.latency_ms });
  row.querySelector("[data-field=last-seen]").textContent = route.last_seen_at
    ? new Date(route.last_seen_at).toISOString().replace("T", " ").slice(0, 19)
    : gettext("never");
}

async function refresh(rows) {
  const { ok, body } = await apiFetch("/api/v1/routes/");
  if (!ok || !Array.isArray(body)) return;
  for (const route of body) {
    const row = rows.get(route.name);
    if (row) showRoute(row, route);
  }
}

const rows = new Map(
  [...document.querySelectorAll("tr[data-route]")].map((row) => [row.dataset.route, row]),
);
if (rows.size) setInterval(() => refresh(rows).catch(() => {}), REFRESH_MS);
