// Interactive plotly charts of report outputs. plotly.js (~4.5 MB) is a classic script served
// from the plotly package; it is loaded once, the first time a chart is shown, never on page
// load. Each report chart arrives ready for Plotly.newPlot (data and layout built server-side).
//
// plotly.js injects its library-wide CSS (the mode bar's among it) as a <style> element, which
// the console's Content-Security-Policy refuses. Before plotly.js loads, its rules are linked as
// a static stylesheet whose element carries the id and class (`no-inline-styles`) that tell
// plotly.js (2.35 and later) not to inject them (see workflows/reports/plotly_styles.py); the
// mode bar's hover colours it sets on the elements (CSSOM, which the policy allows).

import { el } from "./dom.js";
import { gettext } from "../../lib/i18n.js";

let loading = null;

const PLOTLY_STYLE_ID = "plotly.js-style-global";

/** Link plotly's stylesheet, marked so that plotly.js injects no <style> of its own, and hold
 * the ids of the styles it would inject for trace types never drawn here (maps). */
function preparePlotlyStyles(plotly) {
  if (document.getElementById(PLOTLY_STYLE_ID)) return;
  document.head.append(
    el("link", { id: PLOTLY_STYLE_ID, className: "no-inline-styles", rel: "stylesheet", href: plotly.stylesheet }),
    ...plotly.unused_style_ids.map((id) => el("meta", { id, name: "plotly-unused-style" })));
}

/** Load plotly.js once (`plotly`: the page data's script, stylesheet and unused style ids);
 * resolves to window.Plotly. */
export function loadPlotly(plotly) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    preparePlotlyStyles(plotly);
    loading = new Promise((resolve, reject) => {
      const script = el("script", { src: plotly.script, async: true });
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => {
        loading = null;
        script.remove();
        reject(new Error(gettext("The chart library could not be loaded.")));
      });
      document.head.append(script);
    });
  }
  return loading;
}

const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 11, color: "#1d2633" };

/** The server's layout fitted to the narrow side panel (or a wide dialog when `wide`). */
function fitted(layout, wide) {
  return {
    ...layout,
    title: undefined,
    autosize: true,
    height: wide ? 520 : 260,
    font: FONT,
    margin: wide ? { l: 64, r: 24, t: 40, b: 56 } : { l: 48, r: 12, t: 30, b: 42 },
    // Above the plot: below it, a legend collides with the x-axis title in a narrow panel.
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10 } },
    paper_bgcolor: "rgba(0,0,0,0)",
    // Shown while the pointer is over the chart, over the legend's end: opaque enough to read.
    modebar: { bgcolor: "rgba(255,255,255,0.92)", color: "#5b6778", activecolor: "#1d4ed8" },
  };
}

/** The page data's plotly config (mode bar buttons, titles in the user's language; see
 * workflows/reports/plotly_config.py), a PNG download named after the chart. */
function config(plotly, chart) {
  return { ...plotly.config, toImageButtonOptions: { filename: chart.title || "chart", scale: 2 } };
}

/** Draw `chart` ({title, data, layout}) into `target` with `plotly` (the page data's); rejects
 * with a readable message. */
export async function drawChart(plotly, target, chart, { wide = false } = {}) {
  const Plotly = await loadPlotly(plotly);
  await Plotly.newPlot(target, chart.data, fitted(chart.layout || {}, wide), config(plotly, chart));
}

/** Free plotly's listeners of every chart under `root` before it is thrown away. */
export function purgeCharts(root) {
  if (!window.Plotly) return;
  for (const plot of root.querySelectorAll(".js-plotly-plot")) window.Plotly.purge(plot);
}
