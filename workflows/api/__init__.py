"""REST API of pipelines, runs, artifacts and the component catalogue (under /api/v1/)."""
