// Rendering the pipeline model with AntV X6 (global `X6`, loaded by the page as a classic
// script). The view never decides what a graph may contain: it mirrors the model (`sync`) and
// paints what others tell it (run states, server problems). Its API object is the contract
// the run tools rely on: setRunState, clearRunState, setProblems, selectNode, selectedNode,
// graph, flushSave (attached by the page entry) and readonly.
//
// Text on a node meets WCAG AA (4.5:1 on the white card): categories and states are written
// in darker shades of the accent colours, which stay as the (non-text) accent bar and ports.
// Fitting: the canvas element is exactly the area beside the palette and side panel and above
// the log drawer, so fitting the graph into the element fits it into what the user sees. Until
// the user zooms, pans or drags, the view keeps the graph fitted when that area changes size
// (the log drawer opens, a banner appears, the window is resized).

import { edgeKey, needsConfiguration } from "./model.js";
import { durationText } from "../lib/format.js";
import { STATUS_LABELS } from "./run/dom.js";

const NODE_WIDTH = 172;
const PORT_SPACING = 20;
// Fit shows the whole graph; below this scale it would be a blur of dots, so it stops there.
const MIN_FIT_SCALE = 0.2;
const FIT_PADDING = 24;
const CATEGORY_COLOURS = {
  io: "#3d8bd9",
  data_prep: "#7b5cd6",
  data_filter: "#0f9aa8",
  preprocessing: "#c98a12",
  stats: "#2f9e6b",
  ml: "#c2417a",
  evaluation: "#5d6b7e",
};
// The same hues darkened to at least 4.5:1 on white, for text (category line, state).
const CATEGORY_TEXT_COLOURS = {
  io: "#1f6bb8",
  data_prep: "#6b4ec4",
  data_filter: "#0b7580",
  preprocessing: "#8a5a00",
  stats: "#216e4c",
  ml: "#ad3569",
  evaluation: "#5d6b7e",
};
const TYPE_COLOURS = {
  "table.individual": "#3d8bd9",
  "table.vertical": "#1f5fa8",
  model: "#c2417a",
  report: "#2f9e6b",
  rule: "#c98a12",
};
const STATUS_COLOURS = {
  pending: "#9aa5b4",
  running: "#1f5fa8",
  succeeded: "#1d7a4c",
  failed: "#b42a2a",
  interrupted: "#b42a2a",
  revoked: "#b42a2a",
  cancelled: "#c98a12",
  skipped: "#c98a12",
};
const STATUS_TEXT_COLOURS = { ...STATUS_COLOURS, pending: "#5d6b7e", cancelled: "#8a5a00", skipped: "#8a5a00" };
const MUTED_TEXT = "#5d6b7e";
const IDLE_STROKE = "#c8cfda";
const NEEDS_STROKE = "#c98a12";
const WARNED_FILL = "#8a5a00"; // amber dark enough for 4.5:1 on white
const NEEDS_TEXT = "#8a5a00";
let registered = false;
// A run across nodes: each party's part of a node as a segment of the node's progress track,
// in the parties' order (the results panel names them). Up to MAX_PARTS segments are drawn.
const MAX_PARTS = 4;
const PART_GAP = 3;
const PART_TRACK = "#e3e7ee";
const PART_SELECTORS = Array.from({ length: MAX_PARTS }, (_, index) => [`part${index}Track`, `part${index}Fill`]);

function registerShapes() {
  if (registered) return;
  registered = true;
  X6.Graph.registerNode("pp-node", {
    markup: [
      { tagName: "rect", selector: "body" },
      { tagName: "rect", selector: "accent" },
      { tagName: "rect", selector: "progress" },
      ...PART_SELECTORS.flatMap(([track, fill]) => [{ tagName: "rect", selector: track }, { tagName: "rect", selector: fill }]),
      { tagName: "text", selector: "category" },
      { tagName: "text", selector: "label" },
      { tagName: "text", selector: "sub" },
      { tagName: "text", selector: "state" },
      { tagName: "circle", selector: "badge" },
      { tagName: "text", selector: "badgeText" },
    ],
    ports: {
      groups: {
        in: { position: "left", markup: [{ tagName: "circle", selector: "circle" }] },
        out: { position: "right", markup: [{ tagName: "circle", selector: "circle" }] },
      },
    },
  }, true);
}

function portItems(component, group) {
  const ports = component ? component[group === "in" ? "inputs" : "outputs"] : [];
  return ports.map((port) => ({
    id: port.name,
    group,
    attrs: {
      circle: {
        r: 6,
        magnet: group === "out" ? true : "passive",
        stroke: "#fff",
        strokeWidth: 2,
        fill: TYPE_COLOURS[port.types[0]] || "#5d6b7e",
        "data-port": port.name,
        "data-port-group": group,
        class: "pp-port",
      },
    },
  }));
}

function nodeHeight(component) {
  const ports = component ? Math.max(component.inputs.length, component.outputs.length) : 1;
  return Math.max(68, ports * PORT_SPACING + 24);
}

// English keeps the short capitalised key ("DATA PREP"); other languages show the category's
// translated name from the catalogue.
function categoryText(component) {
  const english = document.documentElement.lang.startsWith("en");
  if (component && !english && component.category_label) return component.category_label;
  return (component ? component.category : "unknown").replace("_", " ").toUpperCase();
}

function categoryColour(component) {
  return component ? CATEGORY_COLOURS[component.category] || MUTED_TEXT : "#9aa5b4";
}

function categoryTextColour(component) {
  return (component && CATEGORY_TEXT_COLOURS[component.category]) || MUTED_TEXT;
}

function staticAttrs(node, component, height) {
  const colour = categoryColour(component);
  const text = { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", textAnchor: "start", textVerticalAnchor: "middle" };
  return {
    body: { width: NODE_WIDTH, height, rx: 8, ry: 8, fill: "#fff", class: "pp-node-body", "data-node-id": node.id, "data-component": node.component },
    accent: { x: 0, y: 0, width: 5, height, rx: 2, ry: 2, fill: colour, class: "pp-decor" },
    progress: { x: 5, y: height - 5, height: 4, width: 0, fill: STATUS_COLOURS.running, opacity: 0.85, class: "pp-decor" },
    ...Object.fromEntries(PART_SELECTORS.flatMap(([track, fill]) => [
      [track, { y: height - 5, height: 4, width: 0, fill: PART_TRACK, display: "none", class: "pp-decor" }],
      [fill, { y: height - 5, height: 4, width: 0, fill: STATUS_COLOURS.running, display: "none", class: "pp-decor" }],
    ])),
    category: { ...text, x: 16, y: 16, fontSize: 10, fontWeight: 600, letterSpacing: 0.6, fill: categoryTextColour(component), text: categoryText(component) },
    label: { ...text, x: 16, y: height / 2 + 1, fontSize: 13, fontWeight: 600, fill: "#1d2633", textWrap: { text: component ? component.label : node.component, width: NODE_WIDTH - 26, height: 30, ellipsis: true } },
    sub: { ...text, x: 16, y: height - 15, fontSize: 11, fill: MUTED_TEXT, textWrap: { text: node.id, width: NODE_WIDTH - 28, height: 24, ellipsis: true } },
    state: { ...text, x: NODE_WIDTH - 10, y: height - 15, textAnchor: "end", fontSize: 11, fontWeight: 600, fill: MUTED_TEXT, text: "" },
    badge: { cx: NODE_WIDTH - 2, cy: 2, r: 10, fill: "#b42a2a", stroke: "#fff", strokeWidth: 2, display: "none", class: "pp-badge" },
    badgeText: { x: NODE_WIDTH - 2, y: 2, textAnchor: "middle", textVerticalAnchor: "middle", fontSize: 11, fontWeight: 700, fill: "#fff", text: "", display: "none", pointerEvents: "none" },
  };
}

/** Create the X6 graph inside `container` and return the view API (see file comment). */
export function createView({ container, model, readonly }) {
  registerShapes();
  // X6's styles come from static/vendor/x6/x6.css: the CSP refuses the <style> it would add.
  // (Its selection plugin adds one regardless; the browser blocks it, the file has its rules.)
  X6.Config.autoInsertCSS = false;
  const graph = new X6.Graph({
    container,
    autoResize: true,
    background: { color: "#f8fafc" },
    grid: { visible: true, size: 10, type: "dot", args: { color: "#cdd5df", thickness: 1 } },
    panning: { enabled: true, eventTypes: ["rightMouseDown"] },
    mousewheel: { enabled: true, modifiers: ["ctrl", "meta"], minScale: MIN_FIT_SCALE, maxScale: 2 },
    scaling: { min: MIN_FIT_SCALE, max: 2 },
    interacting: readonly ? { nodeMovable: false, edgeMovable: false, magnetConnectable: false } : { edgeMovable: false, edgeLabelMovable: false },
    connecting: {
      snap: { radius: 24 },
      allowBlank: false,
      allowLoop: true,
      allowNode: false,
      allowEdge: false,
      allowMulti: true,
      highlight: true,
      connector: { name: "smooth" },
      connectionPoint: "anchor",
      // Every drop on a port reaches the model, which accepts it or says why not.
      validateMagnet: ({ magnet }) => !readonly && magnet.getAttribute("data-port-group") === "out",
      validateConnection: ({ targetMagnet }) => Boolean(targetMagnet),
      createEdge: () => graph.createEdge(edgeStyle()),
    },
    highlighting: {
      magnetAdsorbed: { name: "stroke", args: { attrs: { stroke: "#1f5fa8", strokeWidth: 3 } } },
    },
  });

  // The UMD bundle does not add the selection methods to Graph: talk to the plugin itself.
  const selection = new X6.Selection({
    enabled: true,
    multiple: true,
    rubberband: !readonly,
    movable: !readonly,
    showNodeSelectionBox: true,
    showEdgeSelectionBox: false,
    pointerEvents: "none",
  });
  graph.use(selection);
  const state = { runs: new Map(), problems: new Map(), ticker: null, moving: false };
  // While nodes are dragged, a sync triggered by a late server answer must not snap them back.
  graph.on("node:move", () => {
    state.moving = true;
  });
  graph.on("node:moved", () => {
    state.moving = false;
  });

  function edgeStyle() {
    return {
      attrs: { line: { stroke: "#8a97a8", strokeWidth: 1.6, targetMarker: { name: "block", width: 8, height: 6 } } },
      connector: { name: "smooth" },
      zIndex: 0,
    };
  }

  /**
   * Each party's segment: its track, and a fill as long as its progress (running) or whole in
   * its status colour once finished. Node attributes say the same for tests and tools
   * (`data-parts`: "alice:running:40 bob:pending:0").
   */
  function partAttrs(parts) {
    const shown = parts.slice(0, MAX_PARTS);
    const width = shown.length ? (NODE_WIDTH - 10 - PART_GAP * (shown.length - 1)) / shown.length : 0;
    const attrs = {};
    PART_SELECTORS.forEach(([track, fill], index) => {
      const part = shown[index];
      if (!part) {
        attrs[track] = { display: "none" };
        attrs[fill] = { display: "none" };
        return;
      }
      const x = 5 + index * (width + PART_GAP);
      const done = part.status !== "running" && part.status !== "pending";
      const share = part.status === "running" ? Math.max(0.03, Math.min(1, part.progress)) : done ? 1 : 0;
      attrs[track] = { display: null, x, width };
      attrs[fill] = { display: share ? null : "none", x, width: share * width, fill: STATUS_COLOURS[part.status] || STATUS_COLOURS.running };
    });
    return attrs;
  }

  function paint(node) {
    const cell = graph.getCellById(node.id);
    if (!cell) return;
    const component = model.component(node);
    const height = cell.getSize().height;
    const run = state.runs.get(node.id);
    const problems = state.problems.get(node.id) || [];
    const needs = needsConfiguration(node, component);
    const status = run ? run.status : "";
    const stroke = status ? STATUS_COLOURS[status] || IDLE_STROKE : needs ? NEEDS_STROKE : IDLE_STROKE;
    const parts = (run && run.parts) || [];
    const progress = status === "running" && !parts.length ? Math.max(0.03, Math.min(1, Number(run.progress) || 0)) : 0;
    let stateText = "";
    if (run && (run.started_at || status !== "pending")) stateText = run.started_at ? durationText(run.started_at, run.finished_at) : status;
    // A node that finished with warnings says so beside its time (the results list them).
    const warned = run && run.warnings > 0;
    if (warned) stateText = `⚠ ${stateText}`;
    // The marker takes the category line (the accent bar still shows the category).
    const marked = needs && !status;
    cell.attr({
      body: {
        stroke,
        strokeWidth: status || needs ? 2 : 1.2,
        strokeDasharray: needs && !status ? "5 3" : null,
        "data-status": status || "idle",
        "data-config": needs ? "needs" : "ok",
        "data-problems": String(problems.length),
        "data-warnings": String(warned ? run.warnings : 0),
        "data-parts": parts.map((part) => `${part.party}:${part.status}:${Math.round(part.progress * 100)}`).join(" "),
        title: parts.map((part) => `${part.party}: ${STATUS_LABELS[part.status] || part.status}${part.status === "running" ? ` ${Math.round(part.progress * 100)}%` : ""}`).join(" · "),
      },
      progress: { width: progress * (NODE_WIDTH - 10) },
      ...partAttrs(parts),
      state: { text: stateText, fill: warned ? WARNED_FILL : STATUS_TEXT_COLOURS[status] || MUTED_TEXT },
      category: marked
        ? { text: "⚠ Needs configuration", fill: NEEDS_TEXT, letterSpacing: 0 }
        : { text: categoryText(component), fill: categoryTextColour(component), letterSpacing: 0.6 },
      sub: { textWrap: { text: node.id, width: NODE_WIDTH - (stateText ? 84 : 28), height: 24, ellipsis: true } },
      badge: { display: problems.length ? null : "none" },
      badgeText: { text: String(problems.length), display: problems.length ? null : "none" },
    });
  }

  function addCell(node) {
    const component = model.component(node);
    const height = nodeHeight(component);
    graph.addNode({
      id: node.id,
      shape: "pp-node",
      x: node.position.x,
      y: node.position.y,
      width: NODE_WIDTH,
      height,
      attrs: staticAttrs(node, component, height),
      ports: { items: [...portItems(component, "in"), ...portItems(component, "out")] },
    });
  }

  /** Make the X6 graph match the model: add, remove and move nodes, edges and marks. */
  function sync() {
    for (const cell of graph.getNodes()) if (!model.nodes.has(cell.id)) graph.removeCell(cell);
    for (const node of model.nodes.values()) {
      const cell = graph.getCellById(node.id);
      if (!cell) addCell(node);
      else {
        const at = cell.getPosition();
        const moved = at.x !== node.position.x || at.y !== node.position.y;
        if (moved && !state.moving) cell.setPosition(node.position.x, node.position.y);
      }
      paint(node);
    }
    const wanted = new Map(model.edges.map((edge) => [edgeKey(edge), edge]));
    // Model edges have "a:port->b:port" ids; any other edge is one the user is dragging right
    // now (the interaction layer replaces it once dropped), which a late sync must not remove.
    for (const cell of graph.getEdges()) if (cell.id.includes("->") && !wanted.has(cell.id)) graph.removeCell(cell);
    for (const [key, edge] of wanted) {
      if (graph.getCellById(key)) continue;
      if (!graph.getCellById(edge.source.node) || !graph.getCellById(edge.target.node)) continue;
      graph.addEdge({ id: key, ...edgeStyle(), source: { cell: edge.source.node, port: edge.source.port }, target: { cell: edge.target.node, port: edge.target.port } });
    }
  }

  function tick() {
    const running = [...state.runs.values()].some((run) => run.status === "running" && run.started_at);
    if (running && !state.ticker) {
      state.ticker = setInterval(() => {
        for (const [id, run] of state.runs) if (run.status === "running" && model.nodes.has(id)) paint(model.nodes.get(id));
        tick();
      }, 1000);
    } else if (!running && state.ticker) {
      clearInterval(state.ticker);
      state.ticker = null;
    }
  }

  const banner = document.createElement("div");
  banner.className = "canvas-banner";
  banner.setAttribute("role", "status");
  banner.hidden = true;
  container.parentElement.insertBefore(banner, container);

  const view = {
    x6: graph,
    selection,
    model,
    readonly: Boolean(readonly),
    sync,
    problemsFor: (id) => state.problems.get(id) || [],
    runStateFor: (id) => state.runs.get(id) || null,
    setRunState(nodeId, run) {
      state.runs.set(nodeId, { ...(state.runs.get(nodeId) || {}), ...run });
      if (model.nodes.has(nodeId)) paint(model.nodes.get(nodeId));
      tick();
    },
    clearRunState() {
      state.runs.clear();
      sync();
      tick();
    },
    setProblems(problems) {
      state.problems.clear();
      const general = [];
      for (const problem of problems || []) {
        if (problem.node && model.nodes.has(problem.node)) {
          if (!state.problems.has(problem.node)) state.problems.set(problem.node, []);
          state.problems.get(problem.node).push(problem);
        } else general.push(problem);
      }
      banner.replaceChildren(...general.map((problem) => {
        const line = document.createElement("p");
        line.textContent = problem.node ? `${problem.node}: ${problem.message}` : problem.message;
        return line;
      }));
      banner.hidden = general.length === 0;
      sync();
    },
    selectNode(nodeId) {
      const cell = nodeId ? graph.getCellById(nodeId) : null;
      selection.reset(cell ? [cell] : []);
    },
    selectedNode() {
      const nodes = selection.getSelectedCells().filter((cell) => cell.isNode());
      return nodes.length === 1 ? nodes[0].id : null;
    },
    selectedIds() {
      const cells = selection.getSelectedCells();
      return { nodes: cells.filter((cell) => cell.isNode()).map((cell) => cell.id), edges: cells.filter((cell) => cell.isEdge()).map((cell) => cell.id) };
    },
    graph: () => model.toJSON(),
    flushSave: () => Promise.resolve(),
    /** Fit the whole graph into the visible canvas, now and (until the user zooms or pans)
     * whenever the canvas changes size. */
    fit() {
      autoFit.enabled = true;
      // After layout: the container may not have its final size yet when the page starts.
      requestAnimationFrame(fitNow);
    },
    zoom(delta) {
      autoFit.enabled = false;
      graph.zoom(delta, { minScale: MIN_FIT_SCALE, maxScale: 2 });
    },
    /** Bring a node into view if it is outside the visible canvas (keyboard navigation). */
    reveal(nodeId) {
      const cell = graph.getCellById(nodeId);
      if (!cell) return;
      const box = graph.localToGraph(cell.getBBox());
      const { width, height } = container.getBoundingClientRect();
      if (box.x < 0 || box.y < 0 || box.x + box.width > width || box.y + box.height > height) {
        fitting(() => graph.centerCell(cell));
        autoFit.enabled = false;
      }
    },
  };

  const autoFit = { enabled: true, busy: false };
  function fitting(change) {
    autoFit.busy = true;
    try {
      change();
    } finally {
      autoFit.busy = false;
    }
  }
  function fitNow() {
    const { width, height } = container.getBoundingClientRect();
    if (!graph.getNodes().length || width < 10 || height < 10) return;
    fitting(() => {
      // X6 may still hold the previous container size: fit into the size the page shows now.
      graph.resize(width, height);
      graph.zoomToFit({ padding: FIT_PADDING, maxScale: 1, minScale: MIN_FIT_SCALE });
    });
  }
  // A zoom or pan by the user (wheel, right-drag) ends automatic fitting; the view's own do not.
  graph.on("scale", () => {
    if (!autoFit.busy) autoFit.enabled = false;
  });
  graph.on("translate", () => {
    if (!autoFit.busy) autoFit.enabled = false;
  });
  new ResizeObserver(() => {
    if (autoFit.enabled) requestAnimationFrame(fitNow);
  }).observe(container);
  return view;
}
