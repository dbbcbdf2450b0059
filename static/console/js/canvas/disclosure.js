// The Disclosure tab of the canvas and the badges on nodes that disclose something.
//
// Editing: each validate response carries the pipeline's disclosure plan (what reaches which
// party, from whose columns, in which form) and each source party's consent state; the tab
// lists it in words, grouped by source party, and every node that discloses gets a badge
// (green: allowed by the owners' standing policies; amber: needs an owner's approval; red:
// refused). A run that waits for approvals (HTTP 409) shows its pending requests here.
// A past run (the run page): its privacy ledger, what each party actually received.
//
// mountDisclosure({data, bus, view, root}) is called by the page entry; it listens on the bus
// for "disclosure" (a plan, or null), "consent" (a 409 body) and "tab:show".

import { apiFetch } from "../lib/api.js";
import { el } from "./run/dom.js";
import { format, gettext } from "../lib/i18n.js";

const FORMS = { aggregate: gettext("aggregate"), model: gettext("model"), ids: gettext("ids"), row_level: gettext("row-level") };
const DECISIONS = {
  allow: [gettext("Allowed by policy"), "is-allowed"],
  ask: [gettext("Needs approval"), "is-asked"],
  refuse: [gettext("Refused by policy"), "is-refused"],
};
const CONSENT = {
  policy: gettext("allowed by its standing policy"),
  not_requested: gettext("approval needed: it is requested when the pipeline is run"),
  pending: gettext("approval requested, waiting for a decision"),
  approved: gettext("approved this exact plan"),
  rejected: gettext("rejected this plan"),
};
const BADGE_COLOURS = { allow: "#1d7a4c", ask: "#b7791f", refuse: "#b42a2a", ran: "#3d6fb0" };

function worst(entries) {
  if (entries.some((e) => e.decision === "refuse")) return "refuse";
  return entries.some((e) => e.decision === "ask") ? "ask" : "allow";
}

function nodeButton(node, bus, view) {
  return el("button", {
    type: "button",
    className: "link-button disclosure-node",
    onclick: () => {
      view.selectNode(node);
      bus.dispatchEvent(new CustomEvent("node:selected", { detail: { node } }));
    },
  }, node);
}

function entryItem(entry, bus, view) {
  const [label, kind] = DECISIONS[entry.decision] || DECISIONS.ask;
  return el("li", { className: `disclosure-entry ${kind}`, dataset: { node: entry.node, form: entry.form } },
    el("span", { className: `disclosure-decision ${kind}` }, label),
    el("p", { className: "disclosure-sentence" }, entry.sentence),
    el("p", { className: "help" }, gettext("Through "), nodeButton(entry.node, bus, view), entry.reason ? ` · ${entry.reason}` : ""));
}

function approvalsLink(data, approval) {
  const href = data.urls.approval_page ? data.urls.approval_page.replace(/0\/$/, `${approval}/`) : "#";
  return el("a", { href }, format(gettext("request #%(id)s"), { id: approval }));
}

function consentLine(data, party, state) {
  return el("p", { className: `disclosure-consent is-${state.state}` },
    el("strong", {}, party), `: ${CONSENT[state.state] || state.state}`,
    state.approval ? [" (", approvalsLink(data, state.approval), ")"] : "");
}

/** One line: does the pipeline run at once, wait for approvals, or not run at all? */
function verdict(plan, bySource) {
  const refusing = [...bySource].filter(([, entries]) => worst(entries) === "refuse").map(([source]) => source);
  const asking = Object.entries(plan.consent).filter(([, state]) => !["policy", "approved"].includes(state.state)).map(([source]) => source);
  if (refusing.length) return el("p", { className: "disclosure-verdict is-refused" }, `Refused by the standing policy of ${refusing.join(", ")}: the pipeline cannot run until the marked nodes change.`);
  if (asking.length) return el("p", { className: "disclosure-verdict is-asked" }, `Runs once ${asking.join(", ")} approve${asking.length > 1 ? "" : "s"} this plan.`);
  return el("p", { className: "disclosure-verdict is-allowed" }, gettext("Every disclosure is allowed by its owner's standing policy or approved: the pipeline runs at once."));
}

function planSection(data, plan, bus, view) {
  if (!plan) return [el("p", { className: "help" }, gettext("The plan appears once the pipeline's nodes are configured."))];
  if (!plan.entries.length) {
    return [el("p", { className: "disclosure-none" }, gettext("Nothing derived from one party's data reaches another party."))];
  }
  const bySource = new Map();
  for (const entry of plan.entries) {
    if (!bySource.has(entry.source)) bySource.set(entry.source, []);
    bySource.get(entry.source).push(entry);
  }
  // Sources whose every disclosure their policy allows start folded: what needs a decision shows.
  const sections = [...bySource].map(([source, entries]) =>
    el("details", { className: "disclosure-source", dataset: { source }, open: worst(entries) !== "allow" },
      el("summary", {}, el("h3", {}, format(gettext("From %(source)s's data"), { source: source })),
        el("span", { className: "help" }, ` · ${entries.length} disclosure${entries.length > 1 ? "s" : ""} · ${DECISIONS[worst(entries)][0].toLowerCase()}`)),
      consentLine(data, source, plan.consent[source] || { state: "policy" }),
      el("ul", { className: "disclosure-list" }, entries.map((entry) => entryItem(entry, bus, view)))));
  return [
    verdict(plan, bySource),
    el("p", { className: "help" }, format(gettext("Aggregates sent to parties other than the data owner cover groups of at least %(min_group)s rows. Plan fingerprint %(slice)s…"), { min_group: plan.min_group, slice: plan.fingerprint.slice(0, 12) })),
    ...sections,
  ];
}

function ledgerList(run) {
  const rows = run.ledger || [];
  if (!rows.length) return el("p", { className: "disclosure-none" }, gettext("No party received anything derived from another party's data in this run."));
  const consentText = (consents) => Object.entries(consents).map(([party, how]) => `${party}: ${how === "policy" ? gettext("standing policy") : format(gettext("approval #%(id)s"), { id: how })}`).join("; ");
  const scale = (row) => [FORMS[row.kind], row.min_group ? format(gettext("groups of at least %(size)s rows"), { size: row.min_group }) : "", row.rows === null ? "" : format(gettext("%(rows)s rows"), { rows: row.rows.toLocaleString() })].filter(Boolean).join(" · ");
  return el("ul", { className: "ledger-list" }, rows.map((row) => el("li", { className: "ledger-entry", dataset: { recipient: row.recipient, kind: row.kind } },
    el("p", {}, el("strong", {}, row.recipient), " ", format(gettext("received %(what)s"), { what: row.what_label || row.what })),
    el("p", { className: "help" }, `${scale(row)} · ${format(gettext("through %(port)s"), { port: `${row.node_id}.${row.port}` })}`),
    el("p", { className: "help" }, format(gettext("Derived from %(columns)s"), { columns: row.columns.map((c) => `${c.party}.${c.name}`).join(", ") })),
    el("p", { className: "help" }, format(gettext("Consent: %(consents)s"), { consents: consentText(row.consents) })))));
}

export function mountDisclosure({ data, bus, view, root }) {
  const state = { plan: null, waiting: null };
  const badged = new Set();

  function paintBadges() {
    for (const id of badged) view.x6.getCellById(id)?.removeTools();
    badged.clear();
    const nodes = new Map();
    for (const entry of state.plan?.entries || []) {
      if (!nodes.has(entry.node)) nodes.set(entry.node, []);
      nodes.get(entry.node).push(entry);
    }
    for (const [id, entries] of nodes) {
      const cell = view.x6.getCellById(id);
      if (!cell) continue;
      // A past run's badges mark what was disclosed (consent was checked when it started).
      const decision = data.mode === "run" ? "ran" : worst(entries);
      const recipients = [...new Set(entries.map((e) => e.recipient))].join(", ");
      cell.addTools([{
        name: "button",
        args: {
          x: "100%", y: 0, offset: { x: -10, y: -8 },
          markup: [
            { tagName: "rect", selector: "button", attrs: { x: -22, y: -9, width: 44, height: 18, rx: 9, fill: BADGE_COLOURS[decision], cursor: "pointer", "data-disclosure": decision } },
            { tagName: "text", selector: "icon", textContent: `⇢ ${entries.length}`, attrs: { fill: "#fff", "font-size": 11, "text-anchor": "middle", y: 4, "pointer-events": "none" } },
            { tagName: "title", textContent: format(gettext("Discloses to %(recipients)s"), { recipients }) + (DECISIONS[decision] ? `: ${DECISIONS[decision][0].toLowerCase()}` : "") },
          ],
          onClick: () => bus.dispatchEvent(new CustomEvent("tab:show", { detail: { tab: "disclosure" } })),
        },
      }]);
      badged.add(id);
    }
  }

  function waitingSection() {
    if (!state.waiting) return [];
    const rejected = state.waiting.code === "approval_rejected";
    return [el("div", { className: `disclosure-waiting${rejected ? " is-rejected" : ""}`, role: "status" },
      el("p", {}, el("strong", {}, state.waiting.detail)),
      el("ul", {}, state.waiting.approvals.map((a) => el("li", {},
        approvalsLink(data, a.id), ` to ${a.party}: ${a.status}`, a.comment ? ` — “${a.comment}”` : "")))),
    ];
  }

  function render() {
    if (data.mode === "run") {
      root.replaceChildren(el("h2", {}, gettext("Privacy ledger")),
        el("p", { className: "help" }, gettext("What each party actually received in this run, derived from other parties' data, and on whose consent.")),
        ledgerList(data.run || {}));
      return;
    }
    root.replaceChildren(el("h2", {}, gettext("What this pipeline discloses")), ...waitingSection(), ...planSection(data, state.plan, bus, view));
  }

  bus.addEventListener("disclosure", (event) => {
    state.plan = event.detail.plan;
    if (state.waiting && state.plan && state.waiting.approvals.every((a) => a.fingerprint !== state.plan.fingerprint)) state.waiting = null;
    render();
    paintBadges();
  });
  bus.addEventListener("consent", async (event) => {
    state.waiting = event.detail;
    render();
    // Starting the run requested approvals (or gave the starter's own): show the new states.
    const response = await apiFetch(data.urls.validate, { method: "POST" });
    if (response.ok && response.body.disclosure) {
      state.plan = response.body.disclosure;
      render();
      paintBadges();
    }
  });
  view.x6?.on("node:added", () => paintBadges());
  if (data.mode === "run" && data.run?.disclosure) {
    state.plan = { ...data.run.disclosure, consent: {}, min_group: 0 };
    paintBadges();
  }
  render();
}
