// The pipeline canvas page (templates/pipelines/canvas.html): reads the starting data, loads
// the component catalogue, builds the editor (model, view, interactions, palette, panel,
// toolbar, autosave), switches the side-panel tabs and mounts the run tools on a shared bus.

import { apiFetch, errorMessage } from "./lib/api.js";
import { createAutosave } from "./canvas/autosave.js";
import { mountDisclosure } from "./canvas/disclosure.js";
import { bindInteractions, addComponentAt } from "./canvas/interaction.js";
import { PipelineModel } from "./canvas/model.js";
import { renderPalette } from "./canvas/palette.js";
import { createPanel } from "./canvas/panel.js";
import { mountRunTools } from "./canvas/run/index.js";
import { renderToolbar } from "./canvas/toolbar.js";
import { createView } from "./canvas/view.js";

const TABS = { configure: "tab-configure", results: "tab-results", runs: "tab-runs", disclosure: "tab-disclosure" };

function bindTabs(bus) {
  const tabs = Object.values(TABS).map((id) => document.getElementById(id));
  const show = (tab) => {
    for (const item of tabs) {
      const selected = item === tab;
      item.setAttribute("aria-selected", String(selected));
      item.tabIndex = selected ? 0 : -1;
      document.getElementById(item.getAttribute("aria-controls")).hidden = !selected;
    }
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => show(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(index + step + tabs.length) % tabs.length];
      next.focus();
      show(next);
    });
  });
  bus.addEventListener("tab:show", (event) => {
    const tab = document.getElementById(TABS[event.detail.tab]);
    if (tab) show(tab);
  });
  show(tabs[0]);
  return (name) => show(document.getElementById(TABS[name]));
}

function fatal(message) {
  const canvas = document.getElementById("canvas");
  const box = Object.assign(document.createElement("div"), { className: "canvas-fatal", textContent: message });
  box.setAttribute("role", "alert");
  canvas.replaceChildren(box);
}

async function loadComponents(url) {
  const response = await apiFetch(url);
  if (!response.ok) throw new Error(`The component catalogue did not load: ${errorMessage(response.body, response.status)}`);
  return response.body.components;
}

function buildEditor(data, components, bus) {
  const readonly = Boolean(data.readonly);
  const model = new PipelineModel(components, data.pipeline.graph);
  model.setDatasets(data.datasets);
  const canvas = document.getElementById("canvas");
  const view = createView({ container: canvas, model, readonly });
  let validation = null;
  // The server's problems plus the model's stale column choices (kept until the user edits).
  const showProblems = () => view.setProblems([...(validation ? validation.problems : []), ...model.staleProblems()]);
  const panel = createPanel({ root: document.getElementById("panel-config"), model, view, data, getValidation: () => validation });
  const actions = bindInteractions({ model, view, bus, canvas });
  model.addEventListener("change", () => {
    view.sync();
    showProblems();
    panel.refresh();
  });
  const showTab = bindTabs(bus);
  bus.addEventListener("node:selected", (event) => {
    panel.show(event.detail.node);
    const runsTab = document.getElementById(TABS.runs);
    if (event.detail.node && data.mode === "edit" && runsTab.getAttribute("aria-selected") === "true") showTab("configure");
  });
  bus.addEventListener("problems", (event) => {
    view.setProblems(event.detail.problems);
    panel.refresh();
  });
  renderPalette(document.getElementById("palette"), components, {
    readonly,
    onAdd: (key) => {
      const box = canvas.getBoundingClientRect();
      addComponentAt({ model, view, alert: actions.alert }, key, view.x6.clientToLocal(box.left + box.width / 2, box.top + box.height / 2));
    },
  });
  renderToolbar(document.getElementById("editor-toolbar"), { actions, data, view });
  view.sync();
  view.fit();
  const onValidation = (result) => {
    validation = result;
    bus.dispatchEvent(new CustomEvent("disclosure", { detail: { plan: result.disclosure } }));
    showProblems();
    panel.refresh();
  };
  if (data.mode === "edit" && !readonly) {
    const autosave = createAutosave({ model, urls: data.urls, bus, stateEl: document.getElementById("save-state"), onValidation });
    view.flushSave = autosave.flush;
    autosave.validate();
  } else if (data.mode === "edit") {
    // Read-only (archived project): the server's check still explains what a run would refuse.
    apiFetch(data.urls.validate, { method: "POST" }).then((response) => response.ok && onValidation(response.body));
  }
  panel.refresh();
  return view;
}

async function main() {
  const data = JSON.parse(document.getElementById("canvas-data").textContent);
  const bus = new EventTarget();
  let components;
  try {
    components = await loadComponents(data.urls.components);
  } catch (error) {
    fatal(error.message);
    return;
  }
  let view;
  try {
    view = buildEditor(data, components, bus);
    mountDisclosure({ data, bus, view, root: document.getElementById("panel-disclosure") });
  } catch (error) {
    fatal(`The pipeline could not be shown: ${error.message}`);
    return;
  }
  document.body.dataset.canvasReady = "true";
  const elements = {
    controls: document.getElementById("run-controls"),
    results: document.getElementById("panel-results"),
    runs: document.getElementById("panel-runs"),
    logs: document.getElementById("log-drawer"),
  };
  mountRunTools({ data, bus, view, elements });
}

main();
