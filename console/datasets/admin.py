"""Django admin for datasets and authorisations: read-only, storage paths never shown.

Uploads, deletions, authorisations and revocations go through the console (pages or API), which
checks the rules, touches the node's storage and writes the audit log; the admin only looks.
"""

from django.contrib import admin

from console.datasets.models import Authorization, Dataset


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "node", "row_count", "size_bytes", "encoding", "created_at"]
    list_filter = ["node", "encoding"]
    search_fields = ["name", "description"]
    list_select_related = ["node"]
    # relative_path is left out on purpose: where a node keeps its files is nobody's business.
    fields = [
        "node",
        "name",
        "description",
        "original_filename",
        "size_bytes",
        "sha256",
        "encoding",
        "row_count",
        "columns",
        "uploaded_by",
        "created_at",
    ]
    readonly_fields = fields


@admin.register(Authorization)
class AuthorizationAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "project", "version", "created_at", "revoked_at"]
    list_filter = ["project"]
    list_select_related = ["dataset__node", "project"]
    fields = [
        "dataset",
        "project",
        "version",
        "supersedes",
        "column_roles",
        "granted_by",
        "created_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
