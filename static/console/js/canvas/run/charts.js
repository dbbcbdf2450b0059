// Interactive plotly charts of report outputs. plotly.js (~4.5 MB) is a classic script served
// from the plotly package; it is loaded once, the first time a chart is shown, never on page
// load. Each report chart arrives ready for Plotly.newPlot (data and layout built server-side).

import { el } from "./dom.js";
import { gettext } from "../../lib/i18n.js";

let loading = null;

/** Load plotly.js from `url` once; resolves to window.Plotly. */
export function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = el("script", { src: url, async: true });
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
  };
}

// No mode bar: plotly styles it through an injected <style> element, which the console's
// Content-Security-Policy refuses (it drew as grey boxes over the chart). Enlarge stays.
const CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

/** Draw `chart` ({title, data, layout}) into `target`; rejects with a readable message. */
export async function drawChart(url, target, chart, { wide = false } = {}) {
  const Plotly = await loadPlotly(url);
  await Plotly.newPlot(target, chart.data, fitted(chart.layout || {}, wide), CONFIG);
}

/** Free plotly's listeners of every chart under `root` before it is thrown away. */
export function purgeCharts(root) {
  if (!window.Plotly) return;
  for (const plot of root.querySelectorAll(".js-plotly-plot")) window.Plotly.purge(plot);
}
