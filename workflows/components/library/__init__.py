"""The component library: one module per component, each defining `COMPONENT`.

Adding a component is adding a module here; discovery, the catalogue, the forms, validation
and the executor pick it up. A module declares (see `workflows.components.spec`):

- ports: `Port(name, (PortType...), label)`; tables accept `table.individual` and/or
  `table.vertical`; models, reports and rules have their own types;
- parameters (`workflows.components.params`): typed, with defaults, bounds, choices and help;
  column pickers name their input port and the roles/types they accept; a `PartyParam`
  (receiver, model owner) is checked against the project's parties, and a column picker with
  `party_param=` must pick columns held by that party (e.g. the label at the model owner);
- `infer(ctx) -> {output port: ArtifactInfo}`: the output schemas, from the inputs' infos and
  the parameters (columns with type, owner party and role), before anything runs;
- optionally `check(ctx) -> [message]` for rules across parameters;
- `disclosure`: for every output port, what it discloses and to whom
  (`workflows.components.disclosure`: parts kept by their holders, reports to every party with
  the form and minimum group size, lineage of new columns); the registry refuses a component
  with an undeclared output, and the pipeline's disclosure plan is computed from these;
- `run(ctx: RunContext)`: the work.

In `run`, a component reads a party's part of an input with `ctx.inputs[port].read_table(party)`
(pandas), `.read_arrow(party)` (an Arrow table, memory-mapped: for selecting, taking or
replacing whole columns), `.read_numeric(party, columns)` (a float64 matrix) or
`.read_json(party)`, only ever in code acting for that party, and writes each party's part of
an output with `ctx.write_table(port, party, frame or Arrow table)` /
`ctx.write_json(port, party, obj)` (the files land in that party's storage; tables as Arrow
files, `workflows.tabular`). Where the algorithm allows, it streams instead, so that a party's
memory stays a small multiple of one slice of rows: `.iter_arrow(party)` / `.iter_numeric(party,
columns)` (consecutive slices), `.take(party, positions)` (rows gathered slice by slice) and
`ctx.write_table_parts(port, party, parts)`; a fit that needs a whole column reads one column
at a time. It reports
progress with `ctx.progress(percent)`, which is also where a cancelled run stops (it raises
`RunCancelled`), and logs with `ctx.log(message)` (a `workflows.messages.translatable(...)`
message, so each reader reads it in their own language; likewise warnings and `CheckFailed`
refusals). `ctx.parties` lists the project's parties;
`ctx.at(party, fn, ...)` runs plaintext code as a party so that errors name it.

Every component runs under two placements (`workflows.placement`): embedded, all parties in
one process, and network, where every party's process runs the same `run` and is only its
own party. So a component reads and writes parties' parts in loops over
`ctx.here(parties)` (all parties embedded, only this process's party in a network run),
never gathers another party's plaintext, and gets what it needs from another party (a row
count, set sizes, a manifest, a report that party built for the others) with
`ctx.publish(owner, fn, ...)`: `owner` computes it, every party receives it (a typed frame over
the run's links). Only values its disclosure declares may be published; every process calls
`publish` in the same order, so control flow may depend only on parameters, schemas and
published values.

Each recipient of a report gets its own copy (`ctx.write_json("report", party, ...)` per
party): whatever is derived from a party's rows goes in full only to that party (the label
owner, for evaluations); other parties get aggregates over at least `ctx.min_group_rows` rows,
built with `workflows.components.aggregates` (no single row's value, no threshold equal to a
score). Code that reads or converts a party's data runs in `ctx.at(party, ...)`, so that an
error quoting a cell is that party's failure and reaches the others redacted
(`workflows.redaction`).

Engine-backed components (PSI, SPU statistics, SS-LR) never build links themselves: they hand
the run's traffic counters (`ctx.comm`) to the engine (`run_local_psi(..., stats=ctx.comm)`
embedded, `run_psi` in the run's session in a network run; `secure.session`), which runs one
program per party over its links, and pass `ctx.progress` to
the engine as its progress callback (epochs,
chunks, rounds): a cancel raised there inside a party's thread reaches the executor as
`PartyFailure(party, RunCancelled)` and cancels the node; any other `PartyFailure` fails it with
the party's name. Bytes sent per party are recorded on the node run from `ctx.comm`.

Components on the SecretFlow-style devices (SPU statistics, SS-LR) open an engine session
with `workflows.components.secure.session(ctx, parties)` (embedded: a simulated cluster of its
own, traffic counted in `ctx.comm`; network: the run's deployment), load each party's columns
at that party with `at_party` (SS-LR streams them: `measure_streamed`, then `streamed_blocks`
into `SSRegression.share_rows`), plan the SPU's precision from what the parties disclose about
them (`column_bounds`, `plan_spu`, `make_spu`), and persist secret-shared results share by
share (`SPU.export_shares` / `import_shares`). SS-LR and PSI call `ctx.progress` from the
component's own thread (between epochs; while polling the
engine's threads), which keeps run-state writes on the executor's thread.
"""
