"""Dataset use cases shared by the pages and the REST API: upload, delete, preview, authorise.

Each function takes the actor first (`workflows.actors.Actor`: who acts, for the access checks
and the audit log) and raises `django.core.exceptions.ValidationError` with a message naming
the problem, or `Http404` (via `console.datasets.access`, audited) when the actor's node may not
touch the object.

- `upload`: a CSV profiled, converted once to its typed table and stored, all or nothing;
  `upload_checks`: what the upload must be before anything is written.
- `deletion`: a dataset removed with what runs derived from it at its node.
- `row_preview`: the only way rows are read back (`preview`), for the owning node's users.
- `authorizations`: authorising a dataset to a project, new versions of its column roles,
  revoking it; `column_roles`: checking the roles and suggesting them from the file.
- `errors`: validation errors that name the field at fault.

Import these names from here (`from console.datasets import services`, then
`services.create_dataset`); the modules are this package's inside. A test that replaces a
module-level name patches the module that reads it (`services.upload.move_file`).
"""

from console.datasets.services.authorizations import (
    authorize_dataset,
    inactive_reason,
    revoke_authorization,
    update_column_roles,
)
from console.datasets.services.column_roles import clean_column_roles, suggested_roles
from console.datasets.services.deletion import delete_dataset
from console.datasets.services.errors import field_error
from console.datasets.services.row_preview import delimiter_of, preview
from console.datasets.services.upload import create_dataset, move_file
from console.datasets.services.upload_checks import check_file_name

__all__ = [
    "authorize_dataset",
    "check_file_name",
    "clean_column_roles",
    "create_dataset",
    "delete_dataset",
    "delimiter_of",
    "field_error",
    "inactive_reason",
    "move_file",
    "preview",
    "revoke_authorization",
    "suggested_roles",
    "update_column_roles",
]
