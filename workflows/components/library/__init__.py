"""One module per component; each defines `COMPONENT` (see `workflows.components`)."""
