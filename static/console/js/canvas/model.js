// The pipeline as plain data: nodes, edges, the checks a connection must pass, undo/redo,
// copy/paste and tidy layout. No DOM and no X6 here: the view renders this model and the
// interaction layer changes it, so every rule about what a valid graph looks like lives in one
// place the tests can reason about. The saved JSON is the server's format (workflows/graph.py):
// component keys, versions, parameters and positions only; the server re-validates it.
// Column choices follow upstream changes (dependants.js): the model applies them in the same
// undo step and keeps notes (updated / stale) per node and parameter until the user edits it.

import { downstreamOf, fillSingleCandidates, followDatasetChange } from "./dependants.js";

const HISTORY_LIMIT = 100;
const LAYER_GAP_X = 230;
const ROW_GAP_Y = 110;
const LAYOUT_ORIGIN = { x: 40, y: 40 };
const PASTE_OFFSET = 40;
const NODE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A stable id for an edge, derived from its ends (one edge per input makes it unique). */
export function edgeKey(edge) {
  return `${edge.source.node}:${edge.source.port}->${edge.target.node}:${edge.target.port}`;
}

/** What a port carries, as people say it ("table or vertical table"): the catalogue's
 * `type_labels`, else the raw type keys. */
export function typeNames(port) {
  return (port.type_labels && port.type_labels.length ? port.type_labels : port.types).join(" or ");
}

/** True when a parameter value counts as "not set" (absent, empty text, empty list). */
export function isEmptyValue(value) {
  if (value === undefined || value === null) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

/** The value a parameter takes: the node's own, else the declared default (or undefined). */
export function effectiveValue(node, param) {
  const own = node.params ? node.params[param.name] : undefined;
  return own === undefined ? param.default : own;
}

/** Names of required parameters that have no value on `node` (empty when fully configured). */
export function missingParams(node, component) {
  if (!component) return [];
  return component.params
    .filter((param) => param.required && isEmptyValue(effectiveValue(node, param)))
    .map((param) => param.name);
}

/** Whether the node is drawn as "needs configuration": a required setting is missing. */
export function needsConfiguration(node, component) {
  return missingParams(node, component).length > 0;
}

function numberProblem(param, value) {
  if (typeof value !== "number" || Number.isNaN(value)) return "Enter a number.";
  if (param.kind === "int" && !Number.isInteger(value)) return "Enter a whole number.";
  const { minimum: min, maximum: max } = param;
  if (min !== undefined && min !== null) {
    if (param.exclusive_minimum ? value <= min : value < min) {
      return `Must be ${param.exclusive_minimum ? "greater than" : "at least"} ${min}.`;
    }
  }
  if (max !== undefined && max !== null) {
    if (param.exclusive_maximum ? value >= max : value > max) {
      return `Must be ${param.exclusive_maximum ? "less than" : "at most"} ${max}.`;
    }
  }
  return "";
}

/** What is wrong with one value, checked in the browser (the server checks again): "" if fine. */
export function paramProblem(param, value) {
  if (isEmptyValue(value)) return param.required ? "Required." : "";
  if (param.kind === "int" || param.kind === "float") return numberProblem(param, value);
  if (param.kind === "choice" && param.choices && !param.choices.includes(value)) {
    return `Choose one of: ${param.choices.join(", ")}.`;
  }
  if (param.kind === "str" && param.max_length && String(value).length > param.max_length) {
    return `At most ${param.max_length} characters.`;
  }
  if (param.kind === "columns" && param.multiple && Array.isArray(value)) {
    if (param.min_count && value.length < param.min_count) return `Choose at least ${param.min_count}.`;
    if (param.max_count && value.length > param.max_count) return `Choose at most ${param.max_count}.`;
  }
  return "";
}

/** {param name: message} for every parameter of `node` with a problem the browser can see. */
export function paramProblems(node, component) {
  const problems = {};
  if (!component) return problems;
  for (const param of component.params) {
    const message = paramProblem(param, effectiveValue(node, param));
    if (message) problems[param.name] = message;
  }
  return problems;
}

const DIRECTIONS = { left: [-1, 0], right: [1, 0], up: [0, -1], down: [0, 1] };

/**
 * Keyboard navigation on the canvas: the node to go to from `fromId` in `direction` ("left",
 * "right", "up", "down"), or null when none lies that way. Candidates are nodes whose position
 * is ahead in that direction; the nearest wins, a sideways offset counting double so that
 * "right" prefers the node on the same row. With no `fromId`, the top-left node.
 */
export function nearestNode(nodes, fromId, direction) {
  const all = [...nodes.values()];
  const from = fromId ? nodes.get(fromId) : null;
  if (!from) {
    const sorted = all.sort((a, b) => a.position.x + a.position.y - (b.position.x + b.position.y) || a.id.localeCompare(b.id));
    return sorted.length ? sorted[0].id : null;
  }
  const [dx, dy] = DIRECTIONS[direction] || [0, 0];
  let best = null;
  let bestScore = Infinity;
  for (const node of all) {
    if (node.id === from.id) continue;
    const x = node.position.x - from.position.x;
    const y = node.position.y - from.position.y;
    const ahead = x * dx + y * dy;
    if (ahead <= 0) continue;
    const sideways = Math.abs(x * dy) + Math.abs(y * dx);
    const score = ahead + 2 * sideways;
    if (score < bestScore || (score === bestScore && node.id.localeCompare(best) < 0)) {
      best = node.id;
      bestScore = score;
    }
  }
  return best;
}

/** A readable id not in `taken`: the component's name plus a counter ("psi_2"). */
export function nextNodeId(taken, componentKey) {
  const base = (componentKey.split("/").pop() || "node").replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 56);
  for (let counter = 1; ; counter += 1) {
    const candidate = `${base}_${counter}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

function normaliseNode(raw) {
  if (!raw || typeof raw.id !== "string" || !NODE_ID.test(raw.id)) {
    throw new Error(`A node needs an id of letters, digits, "_", "." or "-": ${JSON.stringify(raw && raw.id)}.`);
  }
  const position = raw.position || {};
  return {
    id: raw.id,
    component: String(raw.component || ""),
    version: raw.version || null,
    params: clone(raw.params || {}),
    position: { x: Number(position.x) || 0, y: Number(position.y) || 0 },
  };
}

function normaliseEdge(raw) {
  const source = raw && raw.source;
  const target = raw && raw.target;
  if (!source || !target || !source.node || !source.port || !target.node || !target.port) {
    throw new Error("An edge needs source and target, each with a node and a port.");
  }
  return {
    source: { node: String(source.node), port: String(source.port) },
    target: { node: String(target.node), port: String(target.port) },
  };
}

/**
 * The editable pipeline. Every change goes through a transaction that records an undo
 * snapshot and dispatches one "change" event ({detail: {reason}}) for the view and autosave.
 */
export class PipelineModel extends EventTarget {
  /** `components`: the catalogue list from /api/v1/components/. */
  constructor(components, graph = { nodes: [], edges: [] }) {
    super();
    this.components = new Map(components.map((component) => [component.key, component]));
    this.nodes = new Map();
    this.edges = [];
    this.past = [];
    this.future = [];
    this.pasteCount = 0;
    this.datasets = new Map();
    this.notes = new Map();
    this.followUps = new Map(); // node id -> what its last dataset change did downstream
    this.load(graph);
  }

  /** The project's authorised datasets ({id, name, party, columns}), for column follow-ups. */
  setDatasets(datasets) {
    this.datasets = new Map((datasets || []).map((dataset) => [dataset.id, dataset]));
  }

  /** Notes on a node's parameters after upstream changes: [{param, level, message}]. */
  notesFor(nodeId) {
    return [...(this.notes.get(nodeId) || new Map()).entries()].map(([param, note]) => ({ param, ...note }));
  }

  /** What the last dataset change on `nodeId` did downstream: [{node, param, level, message}]. */
  followUpsOf(nodeId) {
    return this.followUps.get(nodeId) || [];
  }

  /** The stale notes as problems ({node, field, code, message}) for the view's badges. */
  staleProblems() {
    return [...this.notes.keys()].flatMap((node) =>
      this.notesFor(node)
        .filter((note) => note.level === "stale")
        .map((note) => ({ node, field: note.param, code: "stale_choice", message: note.message })),
    );
  }

  note(nodeId, param, note) {
    if (!this.notes.has(nodeId)) this.notes.set(nodeId, new Map());
    if (note) this.notes.get(nodeId).set(param, note);
    else this.notes.get(nodeId).delete(param);
  }

  /** Apply [{node, param, value, note}] from dependants.js (inside a transaction). */
  applyFollowUps(changes) {
    for (const change of changes) {
      const node = this.nodes.get(change.node);
      if (change.value === undefined) delete node.params[change.param];
      else node.params[change.param] = clone(change.value);
      this.note(change.node, change.param, change.note);
    }
  }

  /** Replace the whole graph (no undo step); throws on a malformed document. */
  load(graph) {
    const nodes = new Map();
    for (const raw of (graph && graph.nodes) || []) {
      const node = normaliseNode(raw);
      if (nodes.has(node.id)) throw new Error(`Two nodes share the id "${node.id}".`);
      nodes.set(node.id, node);
    }
    const edges = ((graph && graph.edges) || []).map(normaliseEdge);
    this.nodes = nodes;
    this.edges = edges;
    this.notes = new Map();
    this.followUps = new Map();
    this.emit("load");
  }

  /** The saved format: {nodes: [...], edges: [...]}. */
  toJSON() {
    return {
      nodes: [...this.nodes.values()].map((node) => clone(node)),
      edges: this.edges.map((edge) => clone(edge)),
    };
  }

  /** A model with the same catalogue built from a saved document. */
  static fromJSON(components, graph) {
    return new PipelineModel(components, graph);
  }

  component(node) {
    return this.components.get(node.component) || null;
  }

  emit(reason) {
    this.dispatchEvent(new CustomEvent("change", { detail: { reason } }));
  }

  /** Run `change` as one undoable step; no step is recorded when nothing changed. */
  transact(reason, change) {
    const before = JSON.stringify(this.toJSON());
    const result = change();
    const after = JSON.stringify(this.toJSON());
    if (after !== before) {
      this.past.push(before);
      if (this.past.length > HISTORY_LIMIT) this.past.shift();
      this.future = [];
      this.emit(reason);
    }
    return result;
  }

  canUndo() {
    return this.past.length > 0;
  }

  canRedo() {
    return this.future.length > 0;
  }

  undo() {
    if (!this.canUndo()) return false;
    this.future.push(JSON.stringify(this.toJSON()));
    this.restore(this.past.pop(), "undo");
    return true;
  }

  redo() {
    if (!this.canRedo()) return false;
    this.past.push(JSON.stringify(this.toJSON()));
    this.restore(this.future.pop(), "redo");
    return true;
  }

  restore(snapshot, reason) {
    const graph = JSON.parse(snapshot);
    this.nodes = new Map(graph.nodes.map((node) => [node.id, node]));
    this.edges = graph.edges;
    this.notes = new Map(); // they described the state being left
    this.followUps = new Map();
    this.emit(reason);
  }

  /** Add a node of `componentKey` at `position`; returns its new id. */
  addNode(componentKey, position, params = {}) {
    const component = this.components.get(componentKey);
    if (!component) throw new Error(`Unknown component "${componentKey}".`);
    const id = nextNodeId(new Set(this.nodes.keys()), componentKey);
    this.transact("add", () => {
      this.nodes.set(id, {
        id,
        component: componentKey,
        version: component.version,
        params: clone(params),
        position: { x: Math.round(position.x), y: Math.round(position.y) },
      });
    });
    return id;
  }

  /** Remove nodes (with their edges) and edges by key, as one undo step. */
  remove(nodeIds = [], edgeKeys = []) {
    const nodes = new Set(nodeIds);
    const edges = new Set(edgeKeys);
    this.transact("remove", () => {
      for (const id of nodes) this.nodes.delete(id);
      this.edges = this.edges.filter(
        (edge) => !edges.has(edgeKey(edge)) && !nodes.has(edge.source.node) && !nodes.has(edge.target.node),
      );
    });
  }

  /** Move several nodes at once: {id: {x, y}}. */
  moveNodes(positions) {
    this.transact("move", () => {
      for (const [id, position] of Object.entries(positions)) {
        const node = this.nodes.get(id);
        if (node) node.position = { x: Math.round(position.x), y: Math.round(position.y) };
      }
    });
  }

  /**
   * Set (or with `undefined`, clear back to the default) one parameter. A new dataset on a
   * read node updates (or flags) the column choices downstream in the same undo step.
   */
  setParam(nodeId, name, value) {
    const node = this.nodes.get(nodeId);
    if (!node) throw new Error(`No node "${nodeId}".`);
    const param = (this.component(node)?.params || []).find((item) => item.name === name);
    this.transact("params", () => {
      const before = node.params[name];
      if (value === undefined) delete node.params[name];
      else node.params[name] = clone(value);
      this.note(nodeId, name, null); // the user has seen to it
      if (param && param.kind === "dataset" && before !== value) {
        const changes = followDatasetChange(this, this.datasets, nodeId, before, value);
        this.applyFollowUps(changes);
        const noted = changes.filter((change) => change.note);
        this.followUps.set(nodeId, noted.map((change) => ({ node: change.node, param: change.param, ...change.note })));
      }
    });
  }

  /** Why source.port -> target.port cannot be connected ("" when it can). */
  connectionProblem(sourceId, sourcePort, targetId, targetPort) {
    const source = this.nodes.get(sourceId);
    const target = this.nodes.get(targetId);
    if (!source || !target) return "Both ends of a connection must be nodes on the canvas.";
    if (sourceId === targetId) return "A node cannot be connected to itself.";
    const sourceComponent = this.component(source);
    const targetComponent = this.component(target);
    if (!sourceComponent || !targetComponent) return "A node of an unknown component cannot be connected.";
    const output = sourceComponent.outputs.find((port) => port.name === sourcePort);
    const input = targetComponent.inputs.find((port) => port.name === targetPort);
    if (!output || !input) return "Connect an output (right side of a node) to an input (left side).";
    const shared = output.types.filter((type) => input.types.includes(type));
    if (!shared.length) {
      return `Type mismatch: "${output.label}" gives a ${typeNames(output)}, but "${input.label}" accepts a ${typeNames(input)}.`;
    }
    const taken = this.edges.find((edge) => edge.target.node === targetId && edge.target.port === targetPort);
    if (taken) return `"${input.label}" of ${targetId} already has a connection (from ${taken.source.node}); remove it first.`;
    if (this.reaches(targetId, sourceId)) return `This connection would make a cycle: ${sourceId} already depends on ${targetId}.`;
    return "";
  }

  /** True when `to` is reachable from `from` along edges (or is `from`). */
  reaches(from, to) {
    const seen = new Set();
    const stack = [from];
    while (stack.length) {
      const current = stack.pop();
      if (current === to) return true;
      if (seen.has(current)) continue;
      seen.add(current);
      for (const edge of this.edges) if (edge.source.node === current) stack.push(edge.target.node);
    }
    return false;
  }

  /** Connect when allowed: {ok: true, edge} or {ok: false, reason}. */
  connect(sourceId, sourcePort, targetId, targetPort) {
    const reason = this.connectionProblem(sourceId, sourcePort, targetId, targetPort);
    if (reason) return { ok: false, reason };
    const edge = { source: { node: sourceId, port: sourcePort }, target: { node: targetId, port: targetPort } };
    this.transact("connect", () => {
      this.edges.push(edge);
      const affected = [targetId, ...downstreamOf(this, targetId)];
      this.applyFollowUps(fillSingleCandidates(this, this.datasets, affected));
    });
    return { ok: true, edge };
  }

  /**
   * Every connection that could be made now at `nodeId`, either way: its outputs to other
   * nodes' free inputs, and other nodes' outputs to its free inputs. Each is
   * {source: {node, port}, target: {node, port}}, ordered by the other node's position (left
   * to right, top to bottom) so a keyboard list reads like the canvas.
   */
  connectionOptions(nodeId) {
    const here = this.nodes.get(nodeId);
    const component = here && this.component(here);
    if (!component) return [];
    const others = [...this.nodes.values()]
      .filter((node) => node.id !== nodeId && this.component(node))
      .sort((a, b) => a.position.x - b.position.x || a.position.y - b.position.y || a.id.localeCompare(b.id));
    const options = [];
    const consider = (source, sourcePort, target, targetPort) => {
      if (!this.connectionProblem(source, sourcePort, target, targetPort)) {
        options.push({ source: { node: source, port: sourcePort }, target: { node: target, port: targetPort } });
      }
    };
    for (const other of others) {
      const otherComponent = this.component(other);
      for (const output of component.outputs) for (const input of otherComponent.inputs) consider(nodeId, output.name, other.id, input.name);
      for (const output of otherComponent.outputs) for (const input of component.inputs) consider(other.id, output.name, nodeId, input.name);
    }
    return options;
  }

  /** The edge feeding input `port` of `nodeId`, or null. */
  incoming(nodeId, port) {
    return this.edges.find((edge) => edge.target.node === nodeId && edge.target.port === port) || null;
  }

  /** A self-contained copy of the selected nodes and the edges between them. */
  copy(nodeIds) {
    const ids = new Set(nodeIds.filter((id) => this.nodes.has(id)));
    this.pasteCount = 0;
    return {
      nodes: [...ids].map((id) => clone(this.nodes.get(id))),
      edges: this.edges.filter((edge) => ids.has(edge.source.node) && ids.has(edge.target.node)).map(clone),
    };
  }

  /** Paste a copy with new ids and offset positions; returns the new node ids. */
  paste(clipboard) {
    if (!clipboard || !clipboard.nodes.length) return [];
    this.pasteCount += 1;
    const shift = PASTE_OFFSET * this.pasteCount;
    const renamed = new Map();
    return this.transact("paste", () => {
      for (const node of clipboard.nodes) {
        const id = nextNodeId(new Set(this.nodes.keys()), node.component);
        renamed.set(node.id, id);
        const position = { x: node.position.x + shift, y: node.position.y + shift };
        this.nodes.set(id, { ...clone(node), id, position });
      }
      for (const edge of clipboard.edges) {
        this.edges.push({
          source: { node: renamed.get(edge.source.node), port: edge.source.port },
          target: { node: renamed.get(edge.target.node), port: edge.target.port },
        });
      }
      return [...renamed.values()];
    });
  }

  /** Longest-path depth of every node (sources at 0). */
  depths() {
    const depth = new Map([...this.nodes.keys()].map((id) => [id, 0]));
    for (let round = 0; round < this.nodes.size; round += 1) {
      let changed = false;
      for (const edge of this.edges) {
        const next = (depth.get(edge.source.node) ?? 0) + 1;
        if (depth.has(edge.target.node) && next > depth.get(edge.target.node)) {
          depth.set(edge.target.node, next);
          changed = true;
        }
      }
      if (!changed) break;
    }
    return depth;
  }

  /**
   * Layered left-to-right layout: a node's column is its topological depth; within a column,
   * nodes are ordered by the mean row of their parents (then their current height) so edges
   * cross less.
   */
  tidy() {
    const depth = this.depths();
    const columns = new Map();
    for (const [id, level] of depth) {
      if (!columns.has(level)) columns.set(level, []);
      columns.get(level).push(id);
    }
    const row = new Map();
    const positions = {};
    for (const level of [...columns.keys()].sort((a, b) => a - b)) {
      const ids = columns.get(level);
      const weight = (id) => {
        const parents = this.edges.filter((edge) => edge.target.node === id && row.has(edge.source.node));
        if (!parents.length) return this.nodes.get(id).position.y / ROW_GAP_Y;
        return parents.reduce((sum, edge) => sum + row.get(edge.source.node), 0) / parents.length;
      };
      ids.sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
      ids.forEach((id, index) => {
        row.set(id, index);
        positions[id] = { x: LAYOUT_ORIGIN.x + level * LAYER_GAP_X, y: LAYOUT_ORIGIN.y + index * ROW_GAP_Y };
      });
    }
    this.transact("tidy", () => {
      for (const [id, position] of Object.entries(positions)) this.nodes.get(id).position = position;
    });
  }
}
