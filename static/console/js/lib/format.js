// Display helpers shared by the page modules.

const UNITS = ["bytes", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB" (binary multiples, as Django's filesizeformat). */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** "4.2 s", "3 min 05 s", "1 h 02 min" between two ISO times (end omitted: now). */
export function durationText(startedAt, finishedAt) {
  if (!startedAt) return "";
  const end = finishedAt ? Date.parse(finishedAt) : Date.now();
  const seconds = Math.max(0, (end - Date.parse(startedAt)) / 1000);
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** The missing-value mark of every page and report (see workflows/templatetags/values.py):
 * an em dash for the eye, the word "missing" for a screen reader. */
export function missingValue() {
  const mark = Object.assign(document.createElement("span"), { className: "missing" });
  const dash = Object.assign(document.createElement("span"), { textContent: "—" });
  dash.setAttribute("aria-hidden", "true");
  mark.append(dash, Object.assign(document.createElement("span"), { className: "visually-hidden", textContent: "missing" }));
  return mark;
}
