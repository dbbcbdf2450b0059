// What the user does on the canvas turned into model changes: dropping components from the
// palette, connecting ports (the model accepts or says why not, shown on the spot), moving,
// selecting, deleting, copy/paste, undo/redo, zoom/fit/tidy, keyboard shortcuts and the node
// context menu. The view re-renders from the model's "change" events.
//
// Everything the mouse does has a keyboard way (WCAG 2.1.1): the canvas element takes the
// focus; arrows select the nearest node that way, Shift+arrows move it, Enter opens its
// settings, C lists the connections it could make (the model computes them, so the keyboard
// offers exactly what a drag would accept), Shift+F10 opens its menu. Each selection is
// announced in a polite live region.

import { nearestNode, needsConfiguration, typeNames } from "./model.js";

const ALERT_MS = 4500;
const MOVE_STEP = 10;
const ARROWS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
const OWN_KEYS = "#side-panel, #log-drawer, #run-controls, .help-popover";
export const COMPONENT_MIME = "application/x-privpad-component";

/** Keyboard shortcuts, as listed in the help popover (keys, what they do). */
export const SHORTCUTS = [
  ["Tab", "Focus the canvas, for the keys below"],
  ["← ↑ → ↓", "Select the nearest node that way"],
  ["Shift + arrows", "Move the selected node"],
  ["Enter", "Open the selected node's settings"],
  ["C", "Connect the selected node: choose from the connections it can make"],
  ["Shift + F10, Menu key", "Node menu: run, connect, copy, delete"],
  ["Escape", "Clear the selection"],
  ["?", "Show or hide this list"],
  ["Ctrl/⌘ + Z", "Undo"],
  ["Ctrl/⌘ + Shift + Z, Ctrl + Y", "Redo"],
  ["Ctrl/⌘ + C", "Copy the selected nodes"],
  ["Ctrl/⌘ + V", "Paste"],
  ["Delete, Backspace", "Delete the selection"],
  ["Ctrl/⌘ + A", "Select all"],
  ["+ / −", "Zoom in / out"],
  ["F", "Fit the pipeline to the window"],
  ["Drag from a right-side port to a left-side port", "Connect two nodes"],
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
  if (key === "?") return "help";
  return null;
}

function bindKeyboard(actions) {
  document.addEventListener("keydown", (event) => {
    // Typing in a field (or moving through the context menu) keeps its keys, and so do the
    // side panel, the log drawer and the run controls; selected text is copied as text.
    if (isTyping(event.target) || document.querySelector(".canvas-menu:not([hidden])")) return;
    if (event.target instanceof Element && event.target.closest(OWN_KEYS)) return;
    const name = shortcutAction(event);
    if (!name || !actions[name] || (name === "copy" && String(window.getSelection()).trim())) return;
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
    tooltip.show([`${side}: ${decl.label}`, `Carries: a ${typeNames(decl)}`, ...(decl.description ? [decl.description] : [])], e);
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
    items.push(null, ["Connect…", () => actions.connectFrom(nodeId)], ["Copy", actions.copy], ["Delete", actions.remove]);
  }
  return items;
}

/** A menu of buttons at a point of the canvas area: arrows move, Enter picks, Escape closes;
 * focus goes back to the canvas when it closes. `items`: [label, action] or null (separator). */
function makeMenu(area, canvas) {
  const menu = document.createElement("div");
  menu.className = "canvas-menu";
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  area.appendChild(menu);
  let restore = false;
  const close = () => {
    if (menu.hidden) return;
    menu.hidden = true;
    if (restore) canvas.focus({ preventScroll: true });
  };
  document.addEventListener("mousedown", (event) => {
    if (!menu.contains(event.target)) {
      restore = false;
      close();
    }
  });
  menu.addEventListener("keydown", (event) => {
    const buttons = [...menu.querySelectorAll("button")];
    const index = buttons.indexOf(document.activeElement);
    if (event.key === "Escape" || event.key === "Tab") close();
    else if (event.key === "ArrowDown") buttons[(index + 1) % buttons.length].focus();
    else if (event.key === "ArrowUp") buttons[(index - 1 + buttons.length) % buttons.length].focus();
    else if (event.key === "Home") buttons[0].focus();
    else if (event.key === "End") buttons[buttons.length - 1].focus();
    else return;
    event.preventDefault();
  });
  return {
    open(label, items, point) {
      restore = true;
      menu.setAttribute("aria-label", label);
      menu.replaceChildren(...items.map((item) => {
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
      menu.hidden = false;
      // Keep the whole menu inside the canvas area (a long connection list near an edge).
      const left = Math.min(point.x - frame.left, frame.width - menu.offsetWidth - 8);
      const top = Math.min(point.y - frame.top, frame.height - menu.offsetHeight - 8);
      menu.style.left = `${Math.max(8, left)}px`;
      menu.style.top = `${Math.max(8, top)}px`;
      menu.querySelector("button").focus();
    },
    close,
  };
}

function nodePoint(view, nodeId) {
  const cell = view.x6.getCellById(nodeId);
  const box = cell ? view.x6.localToClient(cell.getBBox()) : null;
  return box ? { x: box.x + 24, y: box.y + box.height - 8 } : null;
}

function connectionLabel(model, option, from) {
  const port = (nodeId, name, side) => {
    const component = model.component(model.nodes.get(nodeId));
    const decl = component[side].find((item) => item.name === name);
    return `“${decl ? decl.label : name}”`;
  };
  const source = `${option.source.node} ${port(option.source.node, option.source.port, "outputs")}`;
  const target = `${option.target.node} ${port(option.target.node, option.target.port, "inputs")}`;
  return option.source.node === from ? `${source} → ${target}` : `${target} ← ${source}`;
}

function bindContextMenu({ model, view, actions, bus, area, canvas, alert, announce }) {
  const menu = makeMenu(area, canvas);
  const openNodeMenu = (nodeId, point) => {
    if (!view.selectedIds().nodes.includes(nodeId)) view.selectNode(nodeId);
    actions.emitSelection();
    menu.open(`Node ${nodeId}`, menuItems(view, nodeId, actions, bus), point);
  };
  view.x6.on("node:contextmenu", ({ node, e }) => {
    e.preventDefault();
    openNodeMenu(node.id, { x: e.clientX, y: e.clientY });
  });
  actions.nodeMenu = () => {
    const nodeId = view.selectedNode();
    if (!nodeId) return alert("Select a node first (arrow keys or a click).");
    return openNodeMenu(nodeId, nodePoint(view, nodeId));
  };
  actions.connectFrom = (nodeId = view.selectedNode()) => {
    if (view.readonly) return false;
    if (!nodeId) return alert("Select a node first (arrow keys or a click), then press C.");
    const options = model.connectionOptions(nodeId);
    if (!options.length) return alert(`${nodeId} has no connection left to make: its inputs are taken or no other node fits.`);
    const items = options.map((option) => [connectionLabel(model, option, nodeId), () => {
      const result = model.connect(option.source.node, option.source.port, option.target.node, option.target.port);
      if (result.ok) announce(`Connected ${connectionLabel(model, option, nodeId)}.`);
      else alert(result.reason);
    }]);
    return menu.open(`Connections of ${nodeId}`, items, nodePoint(view, nodeId));
  };
}

function describeNode(model, view, nodeId) {
  const node = model.nodes.get(nodeId);
  const component = node && model.component(node);
  if (!component) return `${nodeId} selected.`;
  const connected = component.inputs.filter((port) => model.incoming(nodeId, port.name)).length;
  const parts = [`${nodeId}, ${component.label}, selected.`];
  if (component.inputs.length) parts.push(`${connected} of ${component.inputs.length} inputs connected.`);
  const outputs = component.outputs.map((port) => `${port.label} (${typeNames(port)})`);
  if (outputs.length) parts.push(`Outputs: ${outputs.join(", ")}.`);
  if (needsConfiguration(node, component)) parts.push("Needs configuration.");
  const problems = view.problemsFor(nodeId).length;
  if (problems) parts.push(`${problems} problem${problems > 1 ? "s" : ""}.`);
  const run = view.runStateFor(nodeId);
  if (run && run.status) parts.push(`Run status: ${run.status}.`);
  return parts.join(" ");
}

/** The keys of the focused canvas (see the file comment). */
function bindCanvasKeys({ model, view, actions, canvas }) {
  const select = (nodeId) => {
    view.selectNode(nodeId);
    view.reveal(nodeId);
  };
  canvas.addEventListener("keydown", (event) => {
    if (event.target !== canvas || event.ctrlKey || event.metaKey || event.altKey) return;
    const direction = ARROWS[event.key];
    const selected = view.selectedNode();
    if (direction && event.shiftKey) {
      if (view.readonly || !selected) return;
      const [dx, dy] = { left: [-1, 0], right: [1, 0], up: [0, -1], down: [0, 1] }[direction];
      const { position } = model.nodes.get(selected);
      model.moveNodes({ [selected]: { x: position.x + dx * MOVE_STEP, y: position.y + dy * MOVE_STEP } });
    } else if (direction) {
      const next = nearestNode(model.nodes, selected, direction);
      if (next) select(next);
    } else if (event.key === "Enter" && selected) {
      actions.openSettings();
    } else if (event.key.toLowerCase() === "c" && !event.shiftKey) {
      actions.connectFrom();
    } else if ((event.key === "F10" && event.shiftKey) || event.key === "ContextMenu") {
      actions.nodeMenu();
    } else if (event.key === "Escape" && !document.querySelector(".help-popover:not([hidden])")) {
      // (With the shortcuts open, Escape closes them first: toolbar.js.)
      view.selection.clean();
    } else return;
    event.preventDefault();
  });
  // A click on the graph puts the keyboard there too (X6 swallows the mousedown).
  view.x6.on("cell:click", () => canvas.focus({ preventScroll: true }));
  view.x6.on("blank:click", () => canvas.focus({ preventScroll: true }));
}

function makeAnnouncer() {
  const region = document.getElementById("canvas-announcer");
  return (text) => {
    if (!region) return;
    // Cleared first, so the same sentence twice is announced twice.
    region.textContent = "";
    requestAnimationFrame(() => {
      region.textContent = text;
    });
  };
}

/** Wire every interaction; returns the actions for the toolbar. */
export function bindInteractions({ model, view, bus, canvas }) {
  const area = canvas.parentElement;
  const alert = makeAlerter(area);
  const announce = makeAnnouncer();
  const actions = createActions({ model, view, bus, alert });
  actions.alert = alert;
  actions.openSettings = () => {
    // The side panel shows the selected node; move the keyboard into the open tab.
    const panel = document.querySelector("#side-panel [role='tabpanel']:not([hidden])");
    const target = panel && panel.querySelector("input, select, textarea, button, a[href], summary, [tabindex='0']");
    if (target) target.focus();
    else if (panel) {
      panel.tabIndex = -1;
      panel.focus();
    }
  };
  const context = { model, view, bus, canvas, area, alert, actions, announce };
  bindConnections(context);
  bindTooltips(context);
  bindDrop(context);
  bindContextMenu(context);
  bindCanvasKeys(context);
  bindKeyboard(actions);
  view.selection.on("selection:changed", () => {
    actions.emitSelection();
    const selected = view.selectedNode();
    if (selected && document.activeElement === canvas) announce(describeNode(model, view, selected));
  });
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  return actions;
}
