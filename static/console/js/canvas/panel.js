// The configuration panel (#panel-config), generated from the selected node's component
// declaration: one typed field per parameter with its bounds, help and default; column pickers
// filled from the upstream schema that the server propagated (last validate response), with
// each column's owner party and role. Values are checked inline; the server's problems for the
// node and field appear beside them. Every edit goes to the model (and so to autosave).

import { effectiveValue, paramProblem } from "./model.js";
import { columnCandidates, columnPicker, columnSelect } from "./columns.js";

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function option(value, text, selected) {
  const item = el("option", { value: String(value), textContent: text });
  item.selected = selected;
  return item;
}

function numberInput(param, value, commit) {
  const input = el("input", { type: "number", name: param.name, step: param.kind === "int" ? "1" : "any" });
  if (param.minimum !== undefined && param.minimum !== null) input.min = String(param.minimum);
  if (param.maximum !== undefined && param.maximum !== null) input.max = String(param.maximum);
  if (value !== undefined && value !== null) input.value = String(value);
  if (param.default !== undefined) input.placeholder = String(param.default);
  input.addEventListener("change", () => {
    if (input.value.trim() === "") commit(undefined);
    else commit(Number(input.value));
  });
  return input;
}

function selectInput(param, value, choices, commit, parse = (text) => text) {
  const select = el("select", { name: param.name });
  select.append(option("", param.required ? "Choose…" : "(default)", value === undefined || value === null || value === ""));
  for (const [choice, text] of choices) select.append(option(choice, text, String(choice) === String(value)));
  select.addEventListener("change", () => commit(select.value === "" ? undefined : parse(select.value)));
  return select;
}

function partyLabel(data, name) {
  const party = data.parties.find((item) => item.name === name);
  return party ? `${party.display_name}${party.you ? " (you)" : ""}` : name;
}

function control(param, value, context) {
  const { data, commit } = context;
  switch (param.kind) {
    case "int":
    case "float":
      return numberInput(param, value, commit);
    case "bool": {
      const box = el("input", { type: "checkbox", name: param.name, checked: Boolean(value) });
      box.addEventListener("change", () => commit(box.checked));
      return box;
    }
    case "choice":
      return selectInput(param, value, (param.choices || []).map((choice) => [choice, choice]), commit);
    case "party":
      return selectInput(param, value, data.parties.map((party) => [party.name, `${partyLabel(data, party.name)} · ${party.name}`]), commit);
    case "dataset":
      return selectInput(param, value, data.datasets.map((set) => [set.id, `${set.name} — ${partyLabel(data, set.party)}`]), commit, Number);
    case "columns":
      return columnControl(param, value, context);
    default: {
      const input = el("input", { type: "text", name: param.name, value: value ?? "" });
      if (param.max_length) input.maxLength = param.max_length;
      if (param.default !== undefined) input.placeholder = String(param.default);
      input.addEventListener("change", () => commit(input.value === "" ? undefined : input.value));
      return input;
    }
  }
}

function columnControl(param, value, context) {
  const found = columnCandidates(context, param);
  if (found.reason) {
    const note = el("p", { className: "column-unknown", textContent: found.reason });
    const chosen = [].concat(value ?? []).filter(Boolean);
    if (chosen.length) note.append(el("span", { className: "column-current", textContent: ` Current: ${chosen.join(", ")}.` }));
    return note;
  }
  const partyName = (name) => partyLabel(context.data, name);
  return param.multiple
    ? columnPicker(param, value, found.columns, context.commit, partyName)
    : columnSelect(param, value, found.columns, context.commit, partyName);
}

function field(param, context) {
  const value = effectiveValue(context.node, param);
  const own = context.node.params[param.name];
  const wrapper = el("div", { className: `field config-field config-${param.kind}` });
  wrapper.dataset.param = param.name;
  const id = `param-${param.name}`;
  const label = el("label", { htmlFor: id, textContent: param.label || param.name });
  if (!param.required) label.append(el("span", { className: "optional", textContent: " (optional)" }));
  const input = control(param, own === undefined && param.kind !== "bool" && param.kind !== "choice" ? own : value, context);
  if (input.name) input.id = id;
  const messages = [];
  const local = paramProblem(param, value);
  if (local) messages.push(el("p", { className: "field-error", textContent: local }));
  for (const problem of context.problems.filter((item) => item.field === param.name)) {
    // "Required." already says what the server's missing-value problem would repeat; a stale
    // choice says why the value went (an upstream change), so it is shown all the same.
    const stale = problem.code === "stale_choice";
    if (local !== "Required." || stale) messages.push(el("p", { className: `field-error ${stale ? "field-stale" : "field-server-error"}`, textContent: problem.message }));
  }
  // What an upstream change did to this setting (stale ones are among the problems above).
  const updates = context.model.notesFor(context.node.id).filter((note) => note.param === param.name && note.level === "updated");
  const notes = updates.map((note) => el("p", { className: "field-note", textContent: note.message }));
  if (messages.length) wrapper.classList.add("has-error");
  const help = param.help ? el("p", { className: "help", textContent: param.help }) : null;
  if (param.kind === "bool") {
    const row = el("label", { className: "checkbox-row" }, input, el("span", { textContent: param.label || param.name }));
    wrapper.append(...[row, help, ...messages, ...notes].filter(Boolean));
  } else {
    wrapper.append(...[label, input, help, ...messages, ...notes].filter(Boolean));
  }
  return wrapper;
}

function displayValue(param, value, data) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return "—";
  if (param.kind === "dataset") {
    const set = data.datasets.find((item) => item.id === value);
    return set ? `${set.name} (${partyLabel(data, set.party)})` : `Dataset #${value}`;
  }
  if (param.kind === "party") return partyLabel(data, value);
  if (param.kind === "bool") return value ? "Yes" : "No";
  return Array.isArray(value) ? value.join(", ") : String(value);
}

function readonlyFields(node, component, data) {
  const list = el("dl", { className: "config-values" });
  for (const param of component.params) {
    list.append(el("dt", { textContent: param.label || param.name }), el("dd", { textContent: displayValue(param, effectiveValue(node, param), data) }));
  }
  return list;
}

function header(node, component) {
  const category = el("span", { className: `config-category category-${component ? component.category : "unknown"}`, textContent: component ? component.category.replace("_", " ") : "unknown" });
  const title = el("h2", { className: "config-title", textContent: component ? component.label : node.component });
  const meta = el("p", { className: "config-meta" }, "Node ", el("code", { textContent: node.id }), ` · ${node.component} ${node.version || ""}`);
  const description = component ? el("p", { className: "help", textContent: component.description }) : null;
  return el("header", { className: "config-head" }, category, title, meta, description);
}

/** After a dataset change on this node: which settings downstream followed, which to check. */
function followUpSummary(model, node) {
  // What still needs checking first (a stale setting the user has since edited drops out),
  // then what followed on its own.
  const open = (change) => change.level !== "stale" || model.staleProblems().some((p) => p.node === change.node && p.field === change.param);
  const rank = (change) => (change.level === "stale" ? 0 : 1);
  const changes = model.followUpsOf(node.id).filter(open).sort((a, b) => rank(a) - rank(b));
  if (!changes.length) return null;
  const label = (change) => {
    const target = model.nodes.get(change.node);
    const component = target && model.component(target);
    const param = component && component.params.find((item) => item.name === change.param);
    return `${change.node} · ${param ? param.label || param.name : change.param}`;
  };
  const items = changes.map((change) =>
    el("li", { className: `follow-up follow-up-${change.level}` }, el("strong", { textContent: `${label(change)}: ` }), change.message));
  return el("section", { className: "config-follow-ups", role: "status" },
    el("p", { textContent: "The new dataset changed settings downstream:" }), el("ul", {}, ...items));
}

function nodeProblems(problems) {
  const general = problems.filter((problem) => !problem.field);
  if (!general.length) return null;
  return el("ul", { className: "config-problems", role: "status" }, ...general.map((problem) => el("li", { textContent: problem.message })));
}

/** The pipeline's problems, each naming its node; a node's problem selects that node. */
function problemList(problems, view) {
  if (!problems.length) return null;
  const item = (problem) => {
    const text = problem.node ? `${problem.node}: ${problem.message}` : problem.message;
    if (!problem.node || !view.x6.getCellById(problem.node)) return el("li", { textContent: text });
    const select = () => {
      view.selectNode(problem.node);
      view.x6.centerCell(view.x6.getCellById(problem.node));
    };
    return el("li", {}, el("button", { type: "button", className: "problem-link", title: `Select ${problem.node}`, textContent: text, onclick: select }));
  };
  return el("ul", { className: "config-problem-list" }, ...problems.map(item));
}

function emptyState(model, validation, readonly, view) {
  const count = model.nodes.size;
  const text = readonly
    ? "Select a node on the canvas to see its settings."
    : count
    ? "Select a node on the canvas to configure it."
    : "Drag components from the palette onto the canvas, then connect an output (right) to an input (left).";
  const summary = validation
    ? el("p", { className: validation.valid ? "config-valid" : "config-invalid", textContent: validation.valid ? "The pipeline is valid and ready to run." : `${validation.problems.length} problem(s) to fix before running:` })
    : null;
  const problems = validation && !validation.valid ? problemList(validation.problems, view) : null;
  return el("div", { className: "config-empty" }, el("p", { textContent: text }), summary, problems);
}

/** The panel controller: `show(nodeId)` and `refresh()` (after model or validation changes). */
export function createPanel({ root, model, view, data, getValidation }) {
  let current = null;

  function render() {
    const focused = document.activeElement && root.contains(document.activeElement) ? document.activeElement : null;
    const focusName = focused ? focused.name || focused.dataset.role : null;
    const searches = [...root.querySelectorAll(".column-search")].map((input) => [input.dataset.role, input.value]);
    const scroll = root.scrollTop;
    const node = current ? model.nodes.get(current) : null;
    if (!node) {
      current = null;
      root.replaceChildren(emptyState(model, getValidation(), view.readonly, view));
      return;
    }
    const component = model.component(node);
    const problems = view.problemsFor(node.id);
    const parts = [header(node, component), nodeProblems(problems), followUpSummary(model, node)];
    if (!component) parts.push(el("p", { className: "field-error", textContent: "This component is not in the catalogue." }));
    else if (view.readonly) parts.push(readonlyFields(node, component, data));
    else {
      const commit = (name) => (value) => model.setParam(node.id, name, value);
      const form = el("form", { className: "config-form", noValidate: true });
      form.addEventListener("submit", (event) => event.preventDefault());
      for (const param of component.params) {
        form.append(field(param, { node, model, data, problems, validation: getValidation(), commit: commit(param.name) }));
      }
      if (!component.params.length) form.append(el("p", { className: "muted", textContent: "This component has no settings." }));
      parts.push(form);
    }
    root.replaceChildren(...parts.filter(Boolean));
    for (const [role, text] of searches) {
      const input = root.querySelector(`[data-role="${CSS.escape(role)}"]`);
      if (input && text) {
        input.value = text;
        input.dispatchEvent(new Event("input"));
      }
    }
    root.scrollTop = scroll;
    if (focusName) {
      const again = root.querySelector(`[name="${CSS.escape(focusName)}"], [data-role="${CSS.escape(focusName)}"]`);
      if (again) again.focus();
    }
  }

  return {
    show(nodeId) {
      current = nodeId;
      render();
    },
    refresh: render,
    current: () => current,
  };
}
