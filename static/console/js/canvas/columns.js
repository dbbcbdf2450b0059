// Column pickers for `columns` parameters. Candidates are the columns of the table feeding the
// parameter's input port, as the server propagated them in the last validate response
// (`outputs[node][port].columns`, each with owner party and role), filtered by the roles and
// types the parameter accepts. When the upstream table is unknown, the reason is given instead.
import { format, gettext } from "../lib/i18n.js";

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** {columns} offered to `param` of `context.node`, or {reason} why none can be offered. */
export function columnCandidates({ node, model, validation }, param) {
  const component = model.component(node);
  const input = component.inputs.find((port) => port.name === param.port);
  const portLabel = input ? input.label : param.port;
  const edge = model.incoming(node.id, param.port);
  if (!edge) return { reason: `Connect a table to the input "${portLabel}" to choose from its columns.` };
  if (!validation) return { reason: gettext("Checking the pipeline: the upstream columns appear in a moment.") };
  const info = (validation.outputs || {})[edge.source.node]?.[edge.source.port];
  if (!info) return { reason: format(gettext("The columns of %(node)s are not known yet: configure the nodes upstream and fix their problems first."), { node: edge.source.node }) };
  const columns = (info.columns || []).filter(
    (column) => (!param.roles || param.roles.includes(column.role)) && (!param.types || param.types.includes(column.type)),
  );
  if (!columns.length) {
    const wanted = [param.roles && `role ${param.roles.join("/")}`, param.types && `type ${param.types.join("/")}`].filter(Boolean).join(", ");
    return { reason: `The table from ${edge.source.node} has no column${wanted ? ` with ${wanted}` : ""}.` };
  }
  return { columns };
}

function badges(column, partyName) {
  return [
    el("span", { className: "badge badge-party", textContent: partyName(column.party) }),
    el("span", { className: `badge role-${column.role}`, textContent: column.role }),
    el("span", { className: `badge type-${column.type}`, textContent: column.type }),
  ];
}

/** One column: a select whose options name the column, its owner party and role. */
export function columnSelect(param, value, columns, commit, partyName) {
  const select = el("select", { name: param.name });
  select.append(el("option", { value: "", textContent: gettext("Choose a column…") }));
  const names = columns.map((column) => column.name);
  if (value && !names.includes(value)) {
    select.append(el("option", { value, textContent: `${value} (not in the upstream table)` }));
  }
  for (const column of columns) {
    select.append(el("option", { value: column.name, textContent: `${column.name} — ${partyName(column.party)} · ${column.role} · ${column.type}` }));
  }
  select.value = value || "";
  select.addEventListener("change", () => commit(select.value === "" ? undefined : select.value));
  return select;
}

/**
 * Several columns: a searchable checkbox list with select-all and clear. The value keeps the
 * upstream order; chosen columns missing upstream stay listed (flagged) until unticked.
 */
export function columnPicker(param, value, columns, commit, partyName) {
  const chosen = new Set([].concat(value ?? []));
  const missing = [...chosen].filter((name) => !columns.some((column) => column.name === name));
  const all = [...columns, ...missing.map((name) => ({ name, missing: true }))];
  const search = el("input", { type: "search", placeholder: gettext("Filter columns"), className: "column-search" });
  search.dataset.role = `search-${param.name}`;
  search.setAttribute("aria-label", format(gettext("Filter the columns of %(param_name)s"), { param_name: param.label || param.name }));
  const count = el("span", { className: "column-count" });
  const list = el("ul", { className: "column-list" });
  const boxes = [];
  for (const column of all) {
    const box = el("input", { type: "checkbox", name: param.name, value: column.name, checked: chosen.has(column.name) });
    boxes.push(box);
    const name = el("span", { className: "column-name", textContent: column.name });
    const extra = column.missing ? [el("span", { className: "badge badge-missing", textContent: "not upstream" })] : badges(column, partyName);
    const row = el("li", {}, el("label", { className: "column-option" }, box, name, el("span", { className: "column-badges" }, ...extra)));
    row.dataset.search = `${column.name} ${column.party || ""} ${column.role || ""}`.toLowerCase();
    list.append(row);
  }
  const save = () => commit(boxes.filter((box) => box.checked).map((box) => box.value));
  const refreshCount = () => {
    count.textContent = `${boxes.filter((box) => box.checked).length} of ${columns.length} chosen`;
  };
  const setVisible = (checked) => {
    for (const box of boxes) if (!box.closest("li").hidden) box.checked = checked;
    refreshCount();
    save();
  };
  list.addEventListener("change", () => {
    refreshCount();
    save();
  });
  search.addEventListener("input", () => {
    const query = search.value.toLowerCase().trim();
    for (const row of list.children) row.hidden = Boolean(query) && !row.dataset.search.includes(query);
  });
  const selectAll = el("button", { type: "button", className: "link-button", textContent: gettext("Select all") });
  selectAll.addEventListener("click", () => setVisible(true));
  const clear = el("button", { type: "button", className: "link-button", textContent: gettext("Clear") });
  clear.addEventListener("click", () => setVisible(false));
  refreshCount();
  const tools = el("div", { className: "column-tools" }, search, selectAll, clear);
  const picker = el("div", { className: "column-picker", role: "group" }, tools, list, count);
  picker.setAttribute("aria-label", param.label || param.name);
  return picker;
}
