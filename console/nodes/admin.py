"""Django admin for nodes: registering one here also creates its storage and is audited."""

from django.contrib import admin

from console.audit.log import Action, actor_of, record
from console.nodes.models import Node


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["name", "display_name", "institution", "kind", "status", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "display_name", "institution"]

    def get_readonly_fields(self, request, obj=None):
        # The name is the node's identity and its storage directory: fixed once registered.
        return ["name", "created_at"] if obj is not None else ["created_at"]

    def save_model(self, request, obj: Node, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        obj.ensure_storage()
        if change:
            record(
                actor_of(request),
                Action.NODE_REGISTER,
                target=obj,
                node=obj,
                updated=sorted(form.changed_data),
                via="admin",
            )
        else:
            record(
                actor_of(request),
                Action.NODE_REGISTER,
                target=obj,
                node=obj,
                kind=obj.kind,
                via="admin",
            )
