// Cases for column choices following upstream changes (static/console/js/canvas/dependants.js,
// applied by model.js), run by Node from test_canvas_dependants.py with the real component
// catalogue, the demo datasets as the page gets them, and the credit-risk template built while
// alice had no dataset. Prints one JSON object: {case name: null when it passed, else why}.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const { PipelineModel } = await import(pathToFileURL(process.argv[2]).href);
const fixture = JSON.parse(readFileSync(process.argv[3], "utf-8"));
const { components, datasets, template } = fixture;
const ALICE = 1;
const ALICE_EXTRA = 4;
const BOB = 2;
const CAROL = 3;
const TWO_KEYS = 5;
const CAROL_WITH_INCOME = 6;
const CAROL_BY_POLICY = 7;
const ALICE_FEATURES = ["age", "income", "debt_ratio", "credit_lines", "late_payments_12m"];

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function fresh() {
  const model = new PipelineModel(components, template);
  model.setDatasets(datasets);
  return model;
}

const params = (model, id) => model.nodes.get(id).params;
const readOf = (model, datasetId) => [...model.nodes.values()].find((n) => n.component === "read/dataset" && n.params.dataset === datasetId);
const emptyRead = (model) => [...model.nodes.values()].find((n) => n.component === "read/dataset" && n.params.dataset === undefined);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const keysOf = (model, read) => params(model, "psi")[`keys${read.replace("read_", "")}`];

function withAlice() {
  const model = fresh();
  const read = emptyRead(model);
  model.setParam(read.id, "dataset", ALICE);
  return { model, read: read.id };
}

const cases = {
  "the template starts without alice"() {
    const model = fresh();
    const read = emptyRead(model);
    check(read, "no empty read node");
    check(keysOf(model, read.id) === undefined, "alice's keys already set");
    check(!params(model, "train").label, "a label without alice");
    check(!params(model, "scale_train").features.includes("income"), "alice's income already scaled");
  },
  "choosing alice's dataset brings her features, keys and label downstream"() {
    const { model, read } = withAlice();
    check(same(keysOf(model, read), ["customer_id"]), `alice's keys: ${JSON.stringify(keysOf(model, read))}`);
    for (const id of ["fill_train", "fill_test", "scale_train", "scale_test", "train"]) {
      const features = params(model, id).features;
      check(ALICE_FEATURES.every((name) => features.includes(name)), `${id} lacks alice's features: ${features}`);
      check(features.includes("monthly_spend") && features.includes("premium"), `${id} lost others' features: ${features}`);
      check(!features.includes("default_flag") && !features.includes("地区"), `${id} took the label or a protected column`);
    }
    check(params(model, "train").label === "default_flag", `train label: ${params(model, "train").label}`);
    const notes = model.notesFor("scale_train");
    check(notes.length === 1 && notes[0].level === "updated", `scale notes: ${JSON.stringify(notes)}`);
    check(model.staleProblems().length === 0, `stale: ${JSON.stringify(model.staleProblems())}`);
  },
  "the whole change is one undo step"() {
    const { model, read } = withAlice();
    model.undo();
    check(params(model, read).dataset === undefined, "the dataset stayed");
    check(keysOf(model, read) === undefined, "alice's keys stayed");
    check(!params(model, "scale_train").features.includes("income"), "alice's features stayed");
    check(model.notesFor("scale_train").length === 0, "notes outlived the undo");
  },
  "all-features choices follow a dataset swap and a lost label is flagged"() {
    const { model, read } = withAlice();
    model.setParam(read, "dataset", ALICE_EXTRA);
    const features = params(model, "scale_train").features;
    check(!features.includes("age") && features.includes("savings"), `scale features: ${features}`);
    check(features.includes("monthly_spend"), "bob's features were dropped");
    check(params(model, "train").label === undefined, `label kept: ${params(model, "train").label}`);
    const stale = model.staleProblems();
    check(stale.some((p) => p.node === "train" && p.field === "label" && p.message.includes("'default_flag' is not in the new upstream table")), `stale: ${JSON.stringify(stale)}`);
    check(same(keysOf(model, read), ["customer_id"]), "alice's keys changed");
    const summary = model.followUpsOf(read);
    check(summary.some((c) => c.node === "train" && c.param === "label" && c.level === "stale"), `summary: ${JSON.stringify(summary)}`);
    check(summary.some((c) => c.node === "scale_train" && c.level === "updated"), "no update in the summary");
  },
  "a partial choice loses only the missing columns and is flagged stale"() {
    const { model, read } = withAlice();
    model.setParam("scale_train", "features", ["age", "income", "monthly_spend"]);
    model.setParam(read, "dataset", ALICE_EXTRA);
    check(same(params(model, "scale_train").features, ["income", "monthly_spend"]), `scale: ${params(model, "scale_train").features}`);
    const stale = model.staleProblems().filter((p) => p.node === "scale_train");
    check(stale.length === 1 && stale[0].field === "features" && stale[0].message.startsWith("'age' removed from"), `stale: ${JSON.stringify(stale)}`);
  },
  "editing a flagged setting clears its flag"() {
    const { model, read } = withAlice();
    model.setParam(read, "dataset", ALICE_EXTRA);
    check(model.staleProblems().some((p) => p.node === "train"), "no flag to clear");
    model.setParam("train", "label", "late_payments_12m");
    check(!model.staleProblems().some((p) => p.node === "train" && p.field === "label"), "the flag stayed");
  },
  "psi keys are pre-selected when each input has one id column"() {
    const model = new PipelineModel(components);
    model.setDatasets(datasets);
    const a = model.addNode("read/dataset", { x: 0, y: 0 }, { dataset: ALICE });
    const b = model.addNode("read/dataset", { x: 0, y: 100 }, { dataset: BOB });
    const psi = model.addNode("data_prep/psi", { x: 200, y: 50 });
    model.connect(a, "output_ds", psi, "input_ds1");
    model.connect(b, "output_ds", psi, "input_ds2");
    check(same(params(model, psi).keys1, ["customer_id"]) && same(params(model, psi).keys2, ["customer_id"]), `keys: ${JSON.stringify(params(model, psi))}`);
    const c = model.addNode("read/dataset", { x: 0, y: 200 });
    model.connect(c, "output_ds", psi, "input_ds3");
    check(params(model, psi).keys3 === undefined, "keys3 set without a dataset");
    model.setParam(c, "dataset", CAROL);
    check(same(params(model, psi).keys3, ["customer_id"]), `keys3 after choosing: ${JSON.stringify(params(model, psi).keys3)}`);
  },
  "psi keys are left to choose when an input has two id columns"() {
    const model = new PipelineModel(components);
    model.setDatasets(datasets);
    const a = model.addNode("read/dataset", { x: 0, y: 0 }, { dataset: TWO_KEYS });
    const psi = model.addNode("data_prep/psi", { x: 200, y: 50 });
    model.connect(a, "output_ds", psi, "input_ds1");
    check(params(model, psi).keys1 === undefined, `keys1: ${JSON.stringify(params(model, psi).keys1)}`);
  },
  "nothing past a model is guessed"() {
    const { model, read } = withAlice();
    const before = JSON.stringify(params(model, "evaluate"));
    model.setParam(read, "dataset", ALICE_EXTRA);
    check(JSON.stringify(params(model, "evaluate")) === before, `evaluate changed: ${JSON.stringify(params(model, "evaluate"))}`);
    check(model.notesFor("evaluate").length === 0, "evaluate got a note");
    check(readOf(model, ALICE_EXTRA), "the read node lost its dataset");
  },
  "a name two parties hold is chosen once"() {
    const { model } = withAlice();
    model.setParam(readOf(model, CAROL).id, "dataset", CAROL_WITH_INCOME);
    const features = params(model, "scale_train").features;
    check(features.filter((name) => name === "income").length === 1, `features: ${features}`);
  },
  "keys follow a renamed id column and stay when the old one remains"() {
    const { model } = withAlice();
    const carol = readOf(model, CAROL).id;
    model.setParam(carol, "dataset", CAROL_BY_POLICY);
    check(same(keysOf(model, carol), ["policy_id"]), `carol's keys: ${JSON.stringify(keysOf(model, carol))}`);
    const bob = readOf(model, BOB).id;
    model.setParam(bob, "dataset", TWO_KEYS);
    check(same(keysOf(model, bob), ["customer_id"]), `bob's keys: ${JSON.stringify(keysOf(model, bob))}`);
    check(model.staleProblems().every((p) => p.node !== "psi"), `psi flagged: ${JSON.stringify(model.staleProblems())}`);
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
