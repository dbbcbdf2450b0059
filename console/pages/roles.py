"""Column roles of an authorisation, arranged for the role badges of the pages."""

from console.datasets.models import Authorization

ROLE_LABELS = dict(Authorization.Role.choices)


def with_roles(authorization: Authorization) -> dict:
    """`{"authorization", "roles": [{"column", "role", "label"}, ...]}` in column order."""
    roles = [
        {"column": column["name"], "role": role, "label": ROLE_LABELS.get(role, role)}
        for column in authorization.dataset.columns
        if (role := authorization.column_roles.get(column["name"], ""))
    ]
    return {"authorization": authorization, "roles": roles}
