// The editor toolbar (#editor-toolbar): editing actions, zoom, export and import of the
// pipeline document, and the keyboard shortcuts popover.

import { apiFetch, errorMessage } from "../lib/api.js";
import { SHORTCUTS } from "./interaction.js";

function button(label, title, onClick, { icon = "", className = "" } = {}) {
  const item = Object.assign(document.createElement("button"), { type: "button", className: `tool-button ${className}`.trim(), title });
  item.setAttribute("aria-label", title);
  if (icon) item.append(Object.assign(document.createElement("span"), { className: "tool-icon", textContent: icon, ariaHidden: "true" }));
  if (label) item.append(Object.assign(document.createElement("span"), { className: "tool-label", textContent: label }));
  item.addEventListener("click", onClick);
  return item;
}

function group(...items) {
  const box = Object.assign(document.createElement("div"), { className: "tool-group" });
  box.append(...items);
  return box;
}

function helpPopover() {
  const pop = Object.assign(document.createElement("div"), { className: "help-popover", id: "shortcuts-help" });
  pop.setAttribute("role", "dialog");
  pop.setAttribute("aria-label", "Keyboard shortcuts");
  pop.hidden = true;
  const title = Object.assign(document.createElement("h2"), { textContent: "Keyboard shortcuts" });
  const list = Object.assign(document.createElement("dl"), { className: "shortcut-list" });
  for (const [keys, action] of SHORTCUTS) {
    list.append(Object.assign(document.createElement("dt"), { textContent: keys }), Object.assign(document.createElement("dd"), { textContent: action }));
  }
  const tip = Object.assign(document.createElement("p"), {
    className: "help",
    textContent: "Outputs are on the right side of a node, inputs on the left. Right-click a node (or press Shift+F10) to run it.",
  });
  pop.append(title, list, tip);
  return pop;
}

function newPipelineUrl(data, id) {
  return data.urls.pipeline_page.replace(/\/\d+\/$/, `/${id}/`);
}

async function importDocument(file, data, alert) {
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch (error) {
    alert(`${file.name} is not a JSON document: ${error.message}`);
    return;
  }
  const response = await apiFetch(data.urls.import, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ project: data.project.id, document: doc }),
  });
  if (!response.ok) {
    alert(`Import refused: ${errorMessage(response.body, response.status)}`);
    return;
  }
  window.location.assign(newPipelineUrl(data, response.body.id));
}

async function exportDocument(data, view, alert) {
  try {
    await view.flushSave();
  } catch (error) {
    alert(`Not exported: the latest changes are not saved (${error.message}).`);
    return;
  }
  const link = Object.assign(document.createElement("a"), { href: data.urls.export, download: `pipeline-${data.pipeline.id}.json` });
  document.body.append(link);
  link.click();
  link.remove();
}

/** The "Components" toggle: folds the palette away to give the graph the width (folded by
 * default in a narrow window, where the graph would otherwise be fitted tiny). */
function paletteToggle() {
  const workspace = document.querySelector(".workspace");
  const toggle = button("Components", "Components: show or hide the list of components", () => set(workspace.classList.contains("palette-collapsed")));
  toggle.setAttribute("aria-controls", "palette");
  const set = (shown) => {
    workspace.classList.toggle("palette-collapsed", !shown);
    toggle.setAttribute("aria-pressed", String(shown));
  };
  set(window.innerWidth > NARROW_WINDOW);
  return toggle;
}

const NARROW_WINDOW = 1180;

/** Fill `root` with the toolbar; `actions` come from interaction.js. */
export function renderToolbar(root, { actions, data, view }) {
  const editing = !view.readonly;
  const groups = [];
  if (editing) groups.push(group(paletteToggle()));
  if (editing) {
    groups.push(group(
      button("", "Undo (Ctrl+Z)", actions.undo, { icon: "↶" }),
      button("", "Redo (Ctrl+Shift+Z)", actions.redo, { icon: "↷" }),
    ));
    groups.push(group(
      button("Copy", "Copy the selected nodes (Ctrl+C)", actions.copy),
      button("Paste", "Paste (Ctrl+V)", actions.paste),
      button("Delete", "Delete the selection (Delete)", actions.remove),
      button("Tidy", "Tidy layout: arrange left to right", actions.tidy),
    ));
  }
  groups.push(group(
    button("", "Zoom out (−)", actions.zoomOut, { icon: "−" }),
    button("", "Zoom in (+)", actions.zoomIn, { icon: "+" }),
    button("Fit", "Fit to window (F)", actions.fit),
  ));
  const file = Object.assign(document.createElement("input"), { type: "file", accept: "application/json,.json", hidden: true, id: "import-file" });
  file.addEventListener("change", () => {
    if (file.files.length) importDocument(file.files[0], data, actions.alert);
    file.value = "";
  });
  // A run page shows a snapshot: exporting the (possibly changed) pipeline from there would mislead.
  const io = data.mode === "edit" ? [button("Export", "Export JSON: download the pipeline document", () => exportDocument(data, view, actions.alert))] : [];
  if (!data.project.archived && data.mode === "edit" && !data.readonly) io.push(button("Import", "Import JSON: a pipeline document as a new pipeline", () => file.click()), file);
  if (io.length) groups.push(group(...io));
  const pop = helpPopover();
  const help = button("?", "Keyboard shortcuts", () => {
    pop.hidden = !pop.hidden;
    help.setAttribute("aria-expanded", String(!pop.hidden));
  }, { className: "tool-help" });
  actions.help = () => help.click();
  help.setAttribute("aria-expanded", "false");
  help.setAttribute("aria-controls", pop.id);
  document.addEventListener("mousedown", (event) => {
    if (!pop.hidden && !pop.contains(event.target) && !help.contains(event.target)) {
      pop.hidden = true;
      help.setAttribute("aria-expanded", "false");
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !pop.hidden) {
      pop.hidden = true;
      help.focus();
    }
  });
  const spacer = Object.assign(document.createElement("div"), { className: "tool-spacer" });
  root.replaceChildren(...groups, spacer, help, pop);
}
