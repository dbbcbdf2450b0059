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
- `run(ctx: RunContext)`: the work.

In `run`, a component reads a party's part of an input with `ctx.inputs[port].read_table(party)`
(or `.read_json(party)` / `.path(party)`), only ever in code acting for that party, and writes
each party's part of an output with `ctx.write_table(port, party, frame)` /
`ctx.write_json(port, party, obj)` (the files land in that party's storage). It reports
progress with `ctx.progress(percent)`, which is also where a cancelled run stops (it raises
`RunCancelled`), and logs with `ctx.log(message)`. `ctx.parties` lists the project's parties;
`ctx.at(party, fn, ...)` runs plaintext code as a party so that errors name it.

Engine-backed components (PSI, SPU statistics, SS-LR) never build links themselves: they hand
the run's traffic counters (`ctx.comm`) to the engine (`run_local_psi(..., stats=ctx.comm)`,
`spu_session`), which runs one program per party over its links, and pass `ctx.progress` to the
engine as its progress callback (epochs,
chunks, rounds): a cancel raised there inside a party's thread reaches the executor as
`PartyFailure(party, RunCancelled)` and cancels the node; any other `PartyFailure` fails it with
the party's name. Bytes sent per party are recorded on the node run from `ctx.comm`.

Components on the SecretFlow-style devices (SPU statistics, SS-LR) open an SPU with
`workflows.components.secure.spu_session(ctx, parties)` (a simulated cluster of its own,
traffic counted in `ctx.comm`), load each party's columns at that party with `at_party`, and
persist secret-shared results share by share (`SPU.export_shares` / `import_shares`). SS-LR and
PSI call `ctx.progress` from the component's own thread (between epochs; while polling the
engine's threads), which keeps run-state writes on the executor's thread.
"""
