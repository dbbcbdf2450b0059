// One node output in the results panel, as the viewing party may see it:
// - reports: their tables and interactive charts (drawn when they scroll into view);
// - tables, models and rules: the public schema (name, type, owner party, role), then per
//   party either my own part (row count, size, row preview, CSV or model download) or, for
//   another party's part, only what the schema says (its column count): its rows never
//   reach this browser.

import { drawChart } from "./charts.js";
import { el, fillUrl } from "./dom.js";
import { missingValue } from "../../lib/format.js";
import { format, gettext } from "../../lib/i18n.js";

const KIND_LABELS = { "table.individual": gettext("Table"), "table.vertical": gettext("Joint table"), model: gettext("Model"), report: gettext("Report"), rule: gettext("Rule") };

function cell(value) {
  if (value === null || value === undefined || value === "") return el("td", { className: "null" }, missingValue());
  if (typeof value === "number") return el("td", { className: "num" }, Number.isInteger(value) ? value.toLocaleString() : String(Number(value.toPrecision(6))));
  return el("td", { title: String(value) }, String(value));
}

/** A compact data table from column names and rows. */
export function dataTable(columns, rows, caption) {
  // A scroll box the keyboard can reach (tabindex) and a screen reader can name (region).
  return el("div", { className: "result-table-wrap", tabIndex: 0, role: "region", "aria-label": caption || gettext("Rows") },
    el("table", { className: "table table-compact table-data result-table" },
      caption ? el("caption", {}, caption) : null,
      el("thead", {}, el("tr", {}, columns.map((name) => el("th", { scope: "col" }, name)))),
      el("tbody", {}, rows.map((values) => el("tr", {}, values.map(cell))))));
}

const OPEN_SCHEMA_COLUMNS = 8;

function schemaTable(columns) {
  // Long schemas start folded so that the parts (and my rows) stay in view.
  return el("details", { className: "result-schema-box", open: columns.length <= OPEN_SCHEMA_COLUMNS },
    el("summary", {}, format(gettext("Schema (%(columns_length)s columns)"), { columns_length: columns.length })),
    el("div", { className: "result-table-wrap", tabIndex: 0, role: "region", "aria-label": gettext("Schema") }, el("table", { className: "table table-compact result-schema" }, 
      el("thead", {}, el("tr", {}, [gettext("Column"), gettext("Type"), gettext("Party"), gettext("Role")].map((name) => el("th", { scope: "col" }, name)))),
      el("tbody", {}, columns.map((column) => el("tr", { dataset: { party: column.party } },
        el("td", { className: "column-name" }, column.name),
        el("td", {}, el("span", { className: `badge type-${column.type}` }, column.type)),
        el("td", {}, column.party),
        el("td", {}, column.role ? el("span", { className: `badge role-${column.role}` }, column.role) : "—")))))));
}

function ownPart(part, output, context) {
  const { data } = context;
  const links = [];
  if (part.kind.startsWith("table")) {
    const href = fillUrl(data.urls.artifact_download, data.placeholders, { run: part.id });
    links.push(el("a", { className: "button button-small", href, download: "" }, gettext("Download CSV")));
    // Excel on Chinese Windows reads GBK; the default download carries a BOM for Chinese users.
    links.push(el("a", { className: "button button-small", href: `${href}?encoding=gbk`, download: "", title: gettext("CSV in GBK, for Excel on Chinese Windows") }, gettext("CSV (GBK)")));
  } else if (part.kind === "model") {
    links.push(el("a", { className: "button button-small", href: fillUrl(data.urls.model_zip, data.placeholders, { run: part.id }), download: "" }, gettext("Download model (zip)")));
  }
  const facts = [part.rows !== null && part.rows !== undefined ? format(gettext("%(rows)s rows"), { rows: part.rows.toLocaleString() }) : null, part.size].filter(Boolean).join(" · ");
  const preview = part.preview
    ? dataTable(part.preview.columns, part.preview.rows, format(gettext("First %(rows_length)s of %(toLocaleString)s rows (your part)"), { rows_length: part.preview.rows.length, toLocaleString: (part.rows ?? part.preview.rows.length).toLocaleString() }))
    : null;
  return el("div", { className: "part part-own", dataset: { party: part.party, own: "true" } },
    el("div", { className: "part-head" }, el("strong", {}, `${part.party} (you)`), el("span", { className: "part-facts" }, facts), el("span", { className: "part-links" }, links)),
    preview);
}

function otherPart(party, output) {
  const count = output.columns.filter((column) => column.party === party).length;
  const what = count ? `${count} column${count === 1 ? "" : "s"} in the schema` : "no columns of this output";
  const stays = output.kind.startsWith("table")
    ? format(gettext("Its rows stay with %(party)s: only %(party)s sees or downloads them."), { party: party })
    : format(gettext("Its part stays with %(party)s: only %(party)s downloads it."), { party: party });
  return el("div", { className: "part part-other", dataset: { party, own: "false" } },
    el("div", { className: "part-head" }, el("strong", {}, party), el("span", { className: "part-facts" }, what)),
    el("p", { className: "help" }, stays));
}

function tableOutput(output, context) {
  const ownParties = new Set(output.own.map((part) => part.party));
  const others = output.parties.filter((party) => !ownParties.has(party));
  return [
    ...output.own.map((part) => ownPart(part, output, context)),
    ...others.map((party) => otherPart(party, output)),
    output.columns.length ? schemaTable(output.columns) : null,
  ];
}

function chartFigure(chart, context) {
  const plot = el("div", { className: "result-chart", role: "img", "aria-label": chart.title });
  const status = el("p", { className: "help chart-status" }, gettext("Drawing the chart…"));
  const enlarge = el("button", { type: "button", className: "button button-small", onclick: () => context.enlarge(chart) }, gettext("Enlarge"));
  context.whenVisible(plot, () => drawChart(context.data.plotly, plot, chart)
    .then(() => status.remove())
    .catch((error) => {
      status.textContent = error.message;
      status.classList.add("is-error");
    }));
  return el("figure", { className: "result-figure" },
    el("figcaption", {}, el("span", {}, chart.title), enlarge), plot, status);
}

function reportOutput(output, context) {
  if (output.missing) return [el("p", { className: "help" }, gettext("This report is not available to your node."))];
  // The first table is the report's summary; the charts come next, the details after them.
  const tables = (output.tables || []).map((table) => dataTable(table.columns, table.rows, table.title));
  return [tables[0], ...(output.charts || []).map((chart) => chartFigure(chart, context)), ...tables.slice(1)];
}

/** The section of one output port. */
export function outputSection(output, context) {
  const body = output.kind === "report" ? reportOutput(output, context) : tableOutput(output, context);
  return el("section", { className: "result-output", dataset: { port: output.port, kind: output.kind } },
    el("h3", {}, output.title || output.port, " ", el("span", { className: "badge badge-muted" }, KIND_LABELS[output.kind] || output.kind)),
    output.kind === "report" ? null : el("p", { className: "help" }, `Held by ${output.parties.join(", ")}.`),
    body);
}
