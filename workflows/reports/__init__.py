"""Run reports and model downloads: what a party takes away from a finished run.

- `collect`: the facts of a run as the requesting node may see them (pipeline, project,
  parties, who started it, per-node timings, communication and parameters, the report
  artifacts it received, and table/model outputs as schema plus its own row counts).
- `charts`: plotly figures (plain JSON: data + layout) and tables for each kind of report.
- `render`: one self-contained HTML file (plotly.js inlined, chart data in
  `<script type="application/json">` blocks, every user string escaped by the template).
- `model_zip`: a model artifact as a zip: manifest.json plus the requester's own part.

Privacy: reports are the explicit reveal of aggregates to every project party, so each party's
own copy is read; of tables and models only the public schema and the requester's own part
are used, never another party's file.
"""
