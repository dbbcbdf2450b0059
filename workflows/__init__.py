"""Pipelines: the component library, graph validation, runs, artifacts and live progress.

Layers: console -> workflows -> core. Workflows never imports the console. What it needs to
know from the console (the projects a user's node belongs to, a project's parties, the datasets
authorised to a project with their owner, file, schema and column roles) is declared in
`workflows.ports` as plain dataclasses and a `ConsolePort` protocol. The console implements it
in `console/datasets/pipeline_sources.py` and names it in the `PRIVPAD_PIPELINE_PORT` setting;
workflows resolves it lazily by dotted path (as Django resolves its back-ends). Database
relations to console models use string references ("projects.Project", "nodes.Node").

Map:
- `components/`: declarations (`spec`), parameters (`params`), schemas (`schema`), the run
  context (`context`) and the library (`components/library/`, one module per component,
  discovered automatically). Pure: no ORM.
- `graph`, `validation`: graph documents, order, scopes, and every check before a run. Pure.
- `models`: Pipeline, Run, NodeRun, Artifact.
- `services`: access and operations used by the API and the terminal command.
- `executor` (runs nodes), `party` (one party's part of a network run), `outputs` (a node's
  outputs recorded where they are held: artifact rows and ledger, for both), `state` (the only
  writer of run state, publishes every change),
  `events` (channel-layer publishing, thread-safe for the in-memory layer), `tasks` and
  `backends` (Django Tasks API: embedded thread pool or django-tasks-db workers),
  `recovery` (runs left behind by a dead process become "interrupted").
- `redaction` (a failure's text at its party, a redacted one elsewhere), `revocation` (runs
  stopped when consent is withdrawn), `ownership` (who changes a pipeline).
- `disclosure/`: the disclosure plan computed from every component's declarations, standing
  policies, owner consent (approvals bound to the plan's fingerprint) and the privacy ledger.
- `api/`, `api_urls`, `consumers`, `routing`: REST API and websocket.

Privacy: a party's data files are read only by code running "at" that party
(`RunContext.at`, `ArtifactData.read_table(party)`); outputs land in the owner's storage
(`NODE_STORAGE_DIR/<node>/runs/<run>/<node id>/`); each node's users download only their own
artifacts; every project party receives its own copy of a report: in full where the data is its
own, as aggregates of at least k rows otherwise (`components/aggregates`).
"""
