// What the column choices of a pipeline become when something upstream changes: the dataset of
// a read node, or a new connection. Pure data, like model.js (which applies the results as part
// of the same undo step): no DOM, no X6, run by Node in the tests.
//
// Candidates come from the authorised datasets (page data: id, name, party, columns with name,
// type and role) of the read nodes upstream of a parameter's input port. That is exact only
// while the path keeps columns as they are, so the walk crosses only the categories below
// (splits, joins, fills, scalers) and gives up at anything else (a model, a prediction):
// there the server's validation, which propagates schemas exactly, is the one to flag.
//
// Rules, for the `columns` parameters of every node downstream of a changed read node:
// - "All of them" follows, for feature lists: a choice equal to every candidate upstream (or
//   every numeric / model-typed one: the templates leave out text) becomes every candidate of
//   the new upstream.
// - Otherwise, chosen columns of the old dataset that the new one lacks are removed, and the
//   parameter is flagged stale ("check the choice"); keys or a label left with nothing take
//   the single candidate of the new upstream when there is exactly one.
// - An empty choice of keys or a label (roles id / label only) that the node needs (required,
//   or on an optional input that is connected, like PSI's third table) is set when exactly one
//   candidate exists: PSI keys when each input has one ID column, the label when one label
//   exists upstream. Feature lists are never filled from nothing: that choice is the user's.

const PASS_THROUGH = new Set(["io", "data_prep", "data_filter", "preprocessing"]);
const MODEL_TYPES = ["int", "float", "bool"];
const NUMERIC_TYPES = ["int", "float"];
const READ_COMPONENT = "read/dataset";
const PICKED_ROLES = ["id", "label"]; // an empty choice of these may take a single candidate

/** Column names, each once: a name held by several parties is one choice (as on the server). */
function names(columns) {
  return [...new Set(columns.map((column) => column.name))];
}

/** Whether two lists of distinct names hold the same names, in any order. */
function sameSet(left, right) {
  const known = new Set(left);
  return left.length === right.length && right.every((name) => known.has(name));
}

function quoted(list) {
  return list.map((name) => `'${name}'`).join(", ");
}

/** The columns of `datasets` that `param` accepts (its roles and types; never protected). */
export function eligibleColumns(param, datasets) {
  const columns = datasets.flatMap((dataset) => dataset.columns);
  return columns.filter(
    (column) =>
      column.role !== "protected" &&
      (!param.roles || param.roles.includes(column.role)) &&
      (!param.types || param.types.includes(column.type)),
  );
}

/**
 * The read nodes feeding input `port` of `nodeId`, in input order, or null when the path
 * crosses a component that may change the columns (see the file comment).
 */
export function upstreamReads(graph, nodeId, port) {
  const reads = [];
  const seen = new Set();
  const walk = (edge) => {
    const source = graph.nodes.get(edge.source.node);
    if (!source || seen.has(source.id)) return true;
    seen.add(source.id);
    if (source.component === READ_COMPONENT) {
      reads.push(source.id);
      return true;
    }
    const component = graph.components.get(source.component);
    if (!component || !PASS_THROUGH.has(component.category)) return false;
    const inputs = component.inputs.map((input) => input.name);
    return graph.edges
      .filter((item) => item.target.node === source.id && inputs.includes(item.target.port))
      .sort((a, b) => inputs.indexOf(a.target.port) - inputs.indexOf(b.target.port))
      .every(walk);
  };
  const edge = graph.edges.find((item) => item.target.node === nodeId && item.target.port === port);
  if (!edge) return [];
  return walk(edge) ? reads : null;
}

/** Node ids reachable from `nodeId` along edges (not itself). */
export function downstreamOf(graph, nodeId) {
  const found = new Set();
  const stack = [nodeId];
  while (stack.length) {
    const current = stack.pop();
    for (const edge of graph.edges) {
      if (edge.source.node === current && !found.has(edge.target.node)) {
        found.add(edge.target.node);
        stack.push(edge.target.node);
      }
    }
  }
  found.delete(nodeId);
  return [...found];
}

/** The "all of them" rule a multiple choice follows, or null (see the file comment). */
function allRule(value, before) {
  const rules = [null, MODEL_TYPES, NUMERIC_TYPES].map((types) => (columns) =>
    names(columns.filter((column) => !types || types.includes(column.type))),
  );
  return rules.find((rule) => rule(before).length && sameSet(value, rule(before))) || null;
}

/** Whether an empty `param` of `node` may be filled with a single candidate (file comment). */
function fillable(graph, node, component, param) {
  if (!param.roles || !param.roles.every((role) => PICKED_ROLES.includes(role))) return false;
  if (param.required || (param.min_count || 0) > 0) return true;
  const input = component.inputs.find((item) => item.name === param.port);
  const connected = graph.edges.some((edge) => edge.target.node === node.id && edge.target.port === param.port);
  return Boolean(input && input.optional && connected);
}

/**
 * The new value of one `columns` parameter after its upstream columns change from `before` to
 * `after` (column lists), given the names the changed dataset no longer has (`removedNames`)
 * and whether an empty choice may take a single candidate (`fillEmpty`): {value, note} where
 * `value` is undefined to clear, `note` is null or {level, message}.
 */
export function followColumnChoice(param, value, before, after, removedNames, fillEmpty = false) {
  const label = param.label || param.name;
  const chosen = [].concat(value ?? []).filter((name) => name !== "" && name !== null);
  const candidates = names(after);
  const only = fillEmpty && candidates.length === 1 ? candidates[0] : null;
  const asValue = (list) => (list.length ? (param.multiple ? list : list[0]) : undefined);
  const updated = (message) => ({ level: "updated", message });
  const rule = param.multiple && (param.roles || []).includes("feature") && chosen.length ? allRule(chosen, before) : null;
  if (rule) {
    const next = rule(after);
    if (sameSet(next, chosen)) return { value, note: null };
    return { value: asValue(next), note: updated(`“${label}” follows the new upstream table: all ${next.length} column(s) it offers are chosen.`) };
  }
  const gone = chosen.filter((name) => removedNames.has(name) && !candidates.includes(name));
  const kept = chosen.filter((name) => !gone.includes(name));
  if (gone.length && !kept.length && only) {
    return { value: asValue([only]), note: updated(`“${label}” changed from ${quoted(gone)} to '${only}', the only candidate in the new upstream table.`) };
  }
  if (gone.length) {
    const message = param.multiple
      ? `${quoted(gone)} removed from “${label}”: the new upstream table has no such column. Check the choice.`
      : `'${gone[0]}' is not in the new upstream table: choose “${label}” again.`;
    return { value: asValue(kept), note: { level: "stale", message } };
  }
  if (!chosen.length && only) {
    return { value: asValue([only]), note: updated(`“${label}” set to '${only}', the only candidate upstream.`) };
  }
  return { value, note: null };
}

/**
 * Changes to the column choices of the nodes downstream of read node `readId` when its dataset
 * goes from `oldId` to `newId` (either may be undefined). `graph` is {nodes, edges,
 * components}; `datasets` a Map of dataset id -> dataset. Returns [{node, param, value, note}].
 */
export function followDatasetChange(graph, datasets, readId, oldId, newId) {
  const removedNames = new Set(names((datasets.get(oldId) || { columns: [] }).columns));
  for (const column of (datasets.get(newId) || { columns: [] }).columns) removedNames.delete(column.name);
  const datasetOf = (id, chosen) => datasets.get(id === readId ? chosen : graph.nodes.get(id).params.dataset);
  const changes = [];
  for (const nodeId of downstreamOf(graph, readId)) {
    const node = graph.nodes.get(nodeId);
    const component = graph.components.get(node.component);
    for (const param of component ? component.params.filter((item) => item.kind === "columns") : []) {
      const reads = upstreamReads(graph, nodeId, param.port);
      if (!reads || !reads.includes(readId)) continue;
      const upstream = (chosen) => eligibleColumns(param, reads.map((id) => datasetOf(id, chosen)).filter(Boolean));
      const fill = fillable(graph, node, component, param);
      const result = followColumnChoice(param, node.params[param.name], upstream(oldId), upstream(newId), removedNames, fill);
      if (result.note || JSON.stringify(result.value) !== JSON.stringify(node.params[param.name])) {
        changes.push({ node: nodeId, param: param.name, ...result });
      }
    }
  }
  return changes;
}

/** Required column choices of `nodeIds` left empty that have exactly one candidate upstream. */
export function fillSingleCandidates(graph, datasets, nodeIds) {
  const changes = [];
  for (const nodeId of nodeIds) {
    const node = graph.nodes.get(nodeId);
    const component = node && graph.components.get(node.component);
    for (const param of component ? component.params.filter((item) => item.kind === "columns") : []) {
      const reads = upstreamReads(graph, nodeId, param.port);
      if (!reads || !reads.length || reads.some((id) => !datasets.has(graph.nodes.get(id).params.dataset))) continue;
      const after = eligibleColumns(param, reads.map((id) => datasets.get(graph.nodes.get(id).params.dataset)));
      const fill = fillable(graph, node, component, param);
      const result = followColumnChoice(param, node.params[param.name], after, after, new Set(), fill);
      if (result.note) changes.push({ node: nodeId, param: param.name, ...result });
    }
  }
  return changes;
}
