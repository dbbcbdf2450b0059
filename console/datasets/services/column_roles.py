"""Column roles of an authorisation: checking the owner's choice, and suggesting one.

Every column has one role (`Authorization.Role`); a column the owner leaves out is a
`feature`. Roles are suggested from the file (`suggested_roles`, owner only) and pre-filled on
the form; the owner confirms them. Roles without an ID column or a label carry warnings
(`role_suggestions.role_warnings`): the page asks the owner to confirm, the API answers them
in the authorisation's `warnings` field.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from console.datasets.models import Authorization, Dataset
from console.datasets.role_suggestions import Suggestion, candidates, scan_facts, suggest_roles
from console.datasets.schema import pandas_read_options
from console.datasets.services.errors import field_error

ROLES = tuple(Authorization.Role.values)
logger = logging.getLogger(__name__)


def clean_column_roles(dataset: Dataset, column_roles) -> dict[str, str]:
    """A role for every column in file order: given ones checked, missing ones `feature`."""
    if column_roles is None:
        column_roles = {}
    if not isinstance(column_roles, dict):
        raise field_error(
            "column_roles",
            _("Column roles must be an object mapping column names to roles."),
            "invalid",
        )
    names = dataset.column_names
    unknown = [str(column) for column in column_roles if column not in names]
    if unknown:
        listed = ", ".join(repr(column) for column in unknown)
        raise field_error(
            "column_roles",
            _("Dataset '%(dataset)s' has no column %(columns)s.")
            % {"dataset": dataset.name, "columns": listed},
            "unknown_column",
        )
    bad = {column: role for column, role in column_roles.items() if role not in ROLES}
    if bad:
        listed = ", ".join(
            _("%(role)r for %(column)r") % {"role": role, "column": column}
            for column, role in bad.items()
        )
        raise field_error(
            "column_roles",
            _("Unknown role %(roles)s; roles are %(choices)s.")
            % {"roles": listed, "choices": ", ".join(ROLES)},
            "invalid_role",
        )
    return {name: column_roles.get(name, Authorization.Role.FEATURE.value) for name in names}


def suggested_roles(dataset: Dataset) -> dict[str, Suggestion]:
    """A suggested role per column from the file (callers check the user owns the dataset).

    Reads only the columns named like an ID or a target. A file that cannot be read as
    profiled gives no ID or label suggestion (logged), never an error: suggestions are help.
    """
    names = candidates(dataset.columns)
    try:
        facts = scan_facts(dataset.path, names, pandas_read_options(dataset.encoding))
    except (OSError, ValueError) as error:
        logger.warning("no role suggestions for dataset %s: %s", dataset.pk, error)
        facts = {}
    return suggest_roles(dataset.columns, facts)
