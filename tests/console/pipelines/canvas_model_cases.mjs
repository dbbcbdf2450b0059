// Cases for the canvas model (static/console/js/canvas/model.js), run by Node from
// test_canvas_model.py. The model is pure data (no DOM, no X6), so it runs here as in the page.
// Prints one JSON object: {case name: null when it passed, else the failure message}.

import { pathToFileURL } from "node:url";

const modelUrl = pathToFileURL(process.argv[2]).href;
const { PipelineModel, needsConfiguration, nextNodeId, paramProblem, nearestNode, typeNames } = await import(modelUrl);

const table = ["table.individual", "table.vertical"];
const components = [
  { key: "read/dataset", version: "1.0.0", category: "io", label: "Dataset", inputs: [], outputs: [{ name: "output_ds", types: ["table.individual"], type_labels: ["table"], label: "Table" }], params: [{ name: "dataset", kind: "dataset", required: true }] },
  { key: "data_prep/psi", version: "1.0.0", category: "data_prep", label: "PSI", inputs: [{ name: "input_ds1", types: ["table.individual"], label: "Table 1" }, { name: "input_ds2", types: ["table.individual"], label: "Table 2" }], outputs: [{ name: "output_ds", types: ["table.vertical"], label: "Joined" }, { name: "report", types: ["report"], type_labels: ["report"], label: "Report" }], params: [{ name: "keys1", kind: "columns", required: true, multiple: true, min_count: 1, port: "input_ds1" }] },
  { key: "data_filter/feature_filter", version: "1.0.0", category: "data_filter", label: "Filter", inputs: [{ name: "input_ds", types: table, type_labels: ["table", "vertical table"], label: "Table" }], outputs: [{ name: "output_ds", types: table, label: "Table" }], params: [{ name: "epochs", kind: "int", required: false, default: 10, minimum: 1, maximum: 100 }, { name: "rate", kind: "float", required: false, minimum: 0, exclusive_minimum: true }] },
];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function build() {
  const model = new PipelineModel(components);
  const a = model.addNode("read/dataset", { x: 0, y: 0 });
  const b = model.addNode("read/dataset", { x: 0, y: 200 });
  const psi = model.addNode("data_prep/psi", { x: 200, y: 100 });
  return { model, a, b, psi };
}

const cases = {
  "ids are readable and unique"() {
    const { a, b, psi } = build();
    check(a === "dataset_1" && b === "dataset_2" && psi === "psi_1", `got ${a}, ${b}, ${psi}`);
    check(nextNodeId(new Set(["psi_1", "psi_2"]), "data_prep/psi") === "psi_3", "psi_3 expected");
  },
  "connections are checked with reasons"() {
    const { model, a, b, psi } = build();
    check(model.connect(a, "output_ds", psi, "input_ds1").ok, "a valid edge was refused");
    const taken = model.connect(b, "output_ds", psi, "input_ds1");
    check(!taken.ok && taken.reason.includes("already has a connection"), `second edge: ${taken.reason}`);
    const filter = model.addNode("data_filter/feature_filter", { x: 400, y: 0 });
    const wrong = model.connect(psi, "report", filter, "input_ds");
    check(!wrong.ok && wrong.reason.includes("Type mismatch"), `wrong type: ${wrong.reason}`);
    check(wrong.reason.includes("gives a report") && wrong.reason.includes("accepts a table or vertical table"), `type names: ${wrong.reason}`);
    check(!wrong.reason.includes("table.individual"), `engine type keys in: ${wrong.reason}`);
    const backwards = model.connect(psi, "input_ds1", filter, "input_ds");
    check(!backwards.ok && backwards.reason.includes("Connect an output"), `direction: ${backwards.reason}`);
    const loop = model.connect(filter, "output_ds", filter, "input_ds");
    check(!loop.ok && loop.reason.includes("itself"), `self loop: ${loop.reason}`);
    const second = model.addNode("data_filter/feature_filter", { x: 600, y: 0 });
    check(model.connect(psi, "output_ds", filter, "input_ds").ok, "psi -> filter refused");
    check(model.connect(filter, "output_ds", second, "input_ds").ok, "filter -> filter refused");
    const third = model.addNode("data_filter/feature_filter", { x: 800, y: 0 });
    check(model.connect(second, "output_ds", third, "input_ds").ok, "second -> third refused");
    model.remove([], [`${filter}:output_ds->${second}:input_ds`]);
    const cycle = model.connect(third, "output_ds", second, "input_ds");
    check(!cycle.ok && cycle.reason.includes("cycle"), `cycle: ${cycle.reason}`);
  },
  "keyboard: connection options and arrow navigation"() {
    const { model, a, b, psi } = build();
    const key = (option) => `${option.source.node}:${option.source.port}->${option.target.node}:${option.target.port}`;
    const fromA = model.connectionOptions(a).map(key);
    check(JSON.stringify(fromA) === JSON.stringify([`${a}:output_ds->${psi}:input_ds1`, `${a}:output_ds->${psi}:input_ds2`]), `from a: ${fromA}`);
    const intoPsi = model.connectionOptions(psi).map(key);
    check(intoPsi.length === 4 && intoPsi.every((k) => k.endsWith("input_ds1") || k.endsWith("input_ds2")), `into psi: ${intoPsi}`);
    model.connect(a, "output_ds", psi, "input_ds1");
    const left = model.connectionOptions(b).map(key);
    check(JSON.stringify(left) === JSON.stringify([`${b}:output_ds->${psi}:input_ds2`]), `taken input still offered: ${left}`);
    check(model.connectionOptions("nope").length === 0, "options for an unknown node");
    check(typeNames({ types: ["x.y"] }) === "x.y", "typeNames without labels");
    check(nearestNode(model.nodes, null, "right") === a, "no selection: the top-left node");
    check(nearestNode(model.nodes, a, "right") === psi, `right of a: ${nearestNode(model.nodes, a, "right")}`);
    check(nearestNode(model.nodes, a, "down") === b, `below a: ${nearestNode(model.nodes, a, "down")}`);
    check(nearestNode(model.nodes, a, "up") === null, "something above the top node");
    check(nearestNode(model.nodes, psi, "left") === a || nearestNode(model.nodes, psi, "left") === b, "left of psi");
    check(nearestNode(model.nodes, b, "up") === a, `above b: ${nearestNode(model.nodes, b, "up")}`);
  },
  "needs configuration and inline problems"() {
    const { model, a } = build();
    const node = model.nodes.get(a);
    const component = model.component(node);
    check(needsConfiguration(node, component), "a dataset node without a dataset is configured");
    model.setParam(a, "dataset", 3);
    check(!needsConfiguration(model.nodes.get(a), component), "still needs configuration");
    const [epochs, rate] = components[2].params;
    check(paramProblem(epochs, 0) === "Must be at least 1.", `epochs 0: ${paramProblem(epochs, 0)}`);
    check(paramProblem(epochs, 2.5) === "Enter a whole number.", "2.5 epochs accepted");
    check(paramProblem(epochs, undefined) === "", "an optional empty value is a problem");
    check(paramProblem(rate, 0) === "Must be greater than 0.", `rate 0: ${paramProblem(rate, 0)}`);
    check(paramProblem(components[1].params[0], []) === "Required.", "empty required list accepted");
  },
  "undo and redo restore snapshots"() {
    const { model, a, psi } = build();
    model.connect(a, "output_ds", psi, "input_ds1");
    model.remove([psi]);
    check(model.nodes.size === 2 && model.edges.length === 0, "remove kept the node or its edge");
    model.undo();
    check(model.nodes.size === 3 && model.edges.length === 1, "undo did not restore the node and edge");
    model.redo();
    check(model.nodes.size === 2 && model.edges.length === 0, "redo did not remove again");
    model.moveNodes({ [a]: { x: 10, y: 10 } });
    model.moveNodes({ [a]: { x: 10, y: 10 } });
    model.undo();
    check(model.nodes.get(a).position.x === 0, "a no-op move took an undo step");
  },
  "copy and paste keep internal edges with new ids"() {
    const { model, a, b, psi } = build();
    model.connect(a, "output_ds", psi, "input_ds1");
    model.connect(b, "output_ds", psi, "input_ds2");
    model.setParam(psi, "keys1", ["id"]);
    const pasted = model.paste(model.copy([a, psi]));
    check(pasted.length === 2 && pasted.every((id) => ![a, b, psi].includes(id)), `pasted ${pasted}`);
    check(model.edges.length === 3, `one internal edge expected, edges: ${JSON.stringify(model.edges)}`);
    const copy = model.nodes.get(pasted[1]);
    check(copy.params.keys1[0] === "id" && copy.position.x === 240, `copy: ${JSON.stringify(copy)}`);
  },
  "tidy lays out by depth and JSON round trips"() {
    const { model, a, b, psi } = build();
    model.connect(a, "output_ds", psi, "input_ds1");
    model.connect(b, "output_ds", psi, "input_ds2");
    model.moveNodes({ [psi]: { x: -500, y: 900 } });
    model.tidy();
    const x = (id) => model.nodes.get(id).position.x;
    check(x(a) === x(b) && x(psi) > x(a), `positions ${x(a)}, ${x(b)}, ${x(psi)}`);
    const again = PipelineModel.fromJSON(components, JSON.parse(JSON.stringify(model.toJSON())));
    check(JSON.stringify(again.toJSON()) === JSON.stringify(model.toJSON()), "round trip changed the graph");
  },
  "malformed documents are refused"() {
    let message = "";
    try {
      new PipelineModel(components, { nodes: [{ id: "has space", component: "read/dataset" }], edges: [] });
    } catch (error) {
      message = error.message;
    }
    check(message.includes("has space"), `no refusal naming the id: ${message}`);
  },
};

const results = {};
for (const [name, run] of Object.entries(cases)) {
  try {
    run();
    results[name] = null;
  } catch (error) {
    results[name] = error.message;
  }
}
console.log(JSON.stringify(results));
