"""Django admin for the audit log: read-only, nobody edits or deletes history."""

from django.contrib import admin

from console.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_username", "actor_node", "action", "target_repr", "outcome"]
    list_filter = ["action", "outcome", "node"]
    search_fields = ["actor_username", "target_repr"]
    list_select_related = ["actor_node"]
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
