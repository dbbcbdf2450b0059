// What the user does on the canvas turned into model changes: dropping components from the
// palette, connecting ports (the model accepts or says why not, shown on the spot), moving,
// selecting, deleting, copy/paste, undo/redo, zoom/fit/tidy, keyboard shortcuts and the node
// context menu. The view re-renders from the model's "change" events.

const ALERT_MS = 4500;
const OWN_KEYS = "#side-panel, #log-drawer, #run-controls, .help-popover";
export const COMPONENT_MIME = "application/x-privpad-component";

/** Keyboard shortcuts, as listed in the help popover (keys, what they do). */
export const SHORTCUTS = [
  ["Ctrl/⌘ + Z", "Undo"],
  ["Ctrl/⌘ + Shift + Z, Ctrl + Y", "Redo"],
  ["Ctrl/⌘ + C", "Copy the selected nodes"],
  ["Ctrl/⌘ + V", "Paste"],
  ["Delete, Backspace", "Delete the selection"],
  ["Ctrl/⌘ + A", "Select all"],
  ["+ / −", "Zoom in / out"],
  ["F", "Fit the pipeline to the window"],
  ["Drag on empty canvas", "Select with a rubber band"],
  ["Right-drag, Ctrl/⌘ + wheel", "Pan, zoom"],
];

function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable='true'], dialog"));
}

/** A short-lived message by the canvas (role="alert"), near `point` (client coordinates). */
function makeAlerter(area) {
  const box = document.createElement("div");
  box.className = "canvas-alert";
  box.setAttribute("role", "alert");
  box.hidden = true;
  area.appendChild(box);
  let timer = null;
  return (message, point) => {
    box.textContent = message;
    box.hidden = false;
    const frame = area.getBoundingClientRect();
    const x = point ? point.x - frame.left : frame.width / 2;
    const y = point ? point.y - frame.top : 24;
    box.style.left = `${Math.max(8, Math.min(frame.width - 320, x + 12))}px`;
    box.style.top = `${Math.max(8, Math.min(frame.height - 60, y + 12))}px`;
    clearTimeout(timer);
    timer = setTimeout(() => {
      box.hidden = true;
    }, ALERT_MS);
  };
}

function makeTooltip(area) {
  const tip = document.createElement("div");
  tip.className = "canvas-tooltip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  area.appendChild(tip);
  return {
    show(lines, event) {
      tip.replaceChildren(...lines.map((text, index) => {
        const line = document.createElement(index === 0 ? "strong" : "div");
        line.textContent = text;
        return line;
      }));
      const frame = area.getBoundingClientRect();
      tip.style.left = `${event.clientX - frame.left + 14}px`;
      tip.style.top = `${event.clientY - frame.top + 14}px`;
      tip.hidden = false;
    },
    hide() {
      tip.hidden = true;
    },
  };
}

/** The editing actions, shared by the toolbar, the keyboard and the context menu. */
export function createActions({ model, view, bus, alert }) {
  const graph = view.x6;
  let clipboard = null;
  const editable = () => !view.readonly;
  const actions = {
    undo: () => editable() && model.undo(),
    redo: () => editable() && model.redo(),
    copy() {
      const { nodes } = view.selectedIds();
      if (!nodes.length) return alert("Select one or more nodes to copy.");
      clipboard = model.copy(nodes);
      return true;
    },
    paste() {
      if (!editable()) return false;
      if (!clipboard) return alert("Nothing copied yet: select nodes and press Ctrl+C.");
      const ids = model.paste(clipboard);
      view.selection.reset(ids.map((id) => graph.getCellById(id)).filter(Boolean));
      return true;
    },
    remove() {
      if (!editable()) return false;
      const { nodes, edges } = view.selectedIds();
      if (!nodes.length && !edges.length) return false;
      view.selection.clean();
      model.remove(nodes, edges);
      return true;
    },
    selectAll: () => view.selection.reset(graph.getCells()),
    tidy() {
      if (!editable()) return false;
      model.tidy();
      view.fit();
      return true;
    },
    zoomIn: () => view.zoom(0.1),
    zoomOut: () => view.zoom(-0.1),
    fit: () => view.fit(),
    hasClipboard: () => Boolean(clipboard),
  };
  actions.emitSelection = () => bus.dispatchEvent(new CustomEvent("node:selected", { detail: { node: view.selectedNode() } }));
  return actions;
}

function shortcutAction(event) {
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === "z") return event.shiftKey ? "redo" : "undo";
  if (mod && key === "y") return "redo";
  if (mod && key === "c") return "copy";
  if (mod && key === "v") return "paste";
  if (mod && key === "a") return "selectAll";
  if (mod || event.altKey) return null;
  if (key === "delete" || key === "backspace") return "remove";
  if (key === "+" || key === "=") return "zoomIn";
  if (key === "-" || key === "_") return "zoomOut";
  if (key === "f") return "fit";
  return null;
}

function bindKeyboard(actions) {
  document.addEventListener("keydown", (event) => {
    // Typing in a field (or moving through the context menu) keeps its keys, and so do the
    // side panel, the log drawer and the run controls; selected text is copied as text.
    if (isTyping(event.target) || document.querySelector(".canvas-menu:not([hidden])")) return;
    if (event.target instanceof Element && event.target.closest(OWN_KEYS)) return;
    const name = shortcutAction(event);
    if (!name || (name === "copy" && String(window.getSelection()).trim())) return;
    event.preventDefault();
    actions[name]();
  });
}

function bindConnections({ model, view, alert }) {
  const graph = view.x6;
  graph.on("edge:connected", ({ edge, e }) => {
    const source = [edge.getSourceCellId(), edge.getSourcePortId()];
    const target = [edge.getTargetCellId(), edge.getTargetPortId()];
    const point = e ? { x: e.clientX, y: e.clientY } : null;
    // X6 is still finishing the drag (highlights, edge view) when it fires this event: replace
    // its edge by the model's (or drop it) once it is done.
    setTimeout(() => {
      graph.removeCell(edge);
      const result = model.connect(source[0], source[1], target[0], target[1]);
      if (!result.ok) alert(result.reason, point);
      view.sync();
    }, 0);
  });
  graph.on("node:moved", () => {
    const moved = {};
    for (const cell of graph.getNodes()) {
      const node = model.nodes.get(cell.id);
      const at = cell.getPosition();
      if (node && (node.position.x !== Math.round(at.x) || node.position.y !== Math.round(at.y))) moved[cell.id] = at;
    }
    if (Object.keys(moved).length) model.moveNodes(moved);
  });
  graph.on("edge:mouseenter", ({ edge }) => {
    if (view.readonly) return;
    edge.addTools([{ name: "button-remove", args: { distance: "50%", onClick: () => model.remove([], [edge.id]) } }]);
  });
  graph.on("edge:mouseleave", ({ edge }) => edge.removeTools());
}

function bindTooltips({ model, view, area }) {
  const graph = view.x6;
  const tooltip = makeTooltip(area);
  graph.on("node:port:mouseenter", ({ node, port, e }) => {
    const modelNode = model.nodes.get(node.id);
    const component = modelNode && model.component(modelNode);
    if (!component) return;
    const decl = [...component.inputs, ...component.outputs].find((item) => item.name === port);
    if (!decl) return;
    const side = component.inputs.includes(decl) ? "Input" : "Output";
    tooltip.show([`${side}: ${decl.label}`, `Types: ${decl.types.join(", ")}`, ...(decl.description ? [decl.description] : [])], e);
  });
  graph.on("node:port:mouseleave", () => tooltip.hide());
  graph.on("node:mouseenter", ({ node, e }) => {
    const problems = view.problemsFor(node.id);
    if (problems.length) tooltip.show([`${problems.length} problem${problems.length > 1 ? "s" : ""}`, ...problems.map((p) => p.message)], e);
  });
  graph.on("node:mouseleave", () => tooltip.hide());
  graph.on("blank:mousedown", () => tooltip.hide());
}

function bindDrop({ model, view, canvas, alert }) {
  canvas.addEventListener("dragover", (event) => {
    if (view.readonly || !event.dataTransfer.types.includes(COMPONENT_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  canvas.addEventListener("drop", (event) => {
    const key = event.dataTransfer.getData(COMPONENT_MIME);
    if (view.readonly || !key) return;
    event.preventDefault();
    addComponentAt({ model, view, alert }, key, view.x6.clientToLocal(event.clientX, event.clientY));
  });
}

/** Add a node of `key` centred on `point` (local coordinates) and select it. */
export function addComponentAt({ model, view, alert }, key, point) {
  try {
    const id = model.addNode(key, { x: point.x - 86, y: point.y - 34 });
    view.selectNode(id);
    return id;
  } catch (error) {
    alert(error.message);
    return null;
  }
}

function menuItems(view, nodeId, actions, bus) {
  const run = (scope) => () => bus.dispatchEvent(new CustomEvent("run:request", { detail: { scope, node: nodeId } }));
  const items = [
    ["Run this node", run("node")],
    ["Run from here", run("downstream")],
    ["Run up to here", run("upstream")],
  ];
  if (!view.readonly) {
    items.push(null, ["Copy", actions.copy], ["Delete", actions.remove]);
  }
  return items;
}

function bindContextMenu({ view, actions, bus, area }) {
  const menu = document.createElement("div");
  menu.className = "canvas-menu";
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  area.appendChild(menu);
  const close = () => {
    menu.hidden = true;
  };
  view.x6.on("node:contextmenu", ({ node, e }) => {
    e.preventDefault();
    if (!view.selectedIds().nodes.includes(node.id)) view.selectNode(node.id);
    actions.emitSelection();
    menu.replaceChildren(...menuItems(view, node.id, actions, bus).map((item) => {
      if (!item) return Object.assign(document.createElement("hr"), { className: "canvas-menu-separator" });
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: item[0] });
      button.setAttribute("role", "menuitem");
      button.addEventListener("click", () => {
        close();
        item[1]();
      });
      return button;
    }));
    const frame = area.getBoundingClientRect();
    menu.style.left = `${e.clientX - frame.left}px`;
    menu.style.top = `${e.clientY - frame.top}px`;
    menu.hidden = false;
    menu.querySelector("button").focus();
  });
  document.addEventListener("mousedown", (event) => {
    if (!menu.contains(event.target)) close();
  });
  menu.addEventListener("keydown", (event) => {
    const buttons = [...menu.querySelectorAll("button")];
    const index = buttons.indexOf(document.activeElement);
    if (event.key === "Escape") close();
    else if (event.key === "ArrowDown") buttons[(index + 1) % buttons.length].focus();
    else if (event.key === "ArrowUp") buttons[(index - 1 + buttons.length) % buttons.length].focus();
    else return;
    event.preventDefault();
  });
}

/** Wire every interaction; returns the actions for the toolbar. */
export function bindInteractions({ model, view, bus, canvas }) {
  const area = canvas.parentElement;
  const alert = makeAlerter(area);
  const actions = createActions({ model, view, bus, alert });
  actions.alert = alert;
  const context = { model, view, bus, canvas, area, alert, actions };
  bindConnections(context);
  bindTooltips(context);
  bindDrop(context);
  bindContextMenu(context);
  bindKeyboard(actions);
  view.selection.on("selection:changed", () => actions.emitSelection());
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  return actions;
}
