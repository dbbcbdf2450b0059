"""Django admin for users; the admin site as a whole is for platform admins only."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from console.accounts.models import ApiToken, NodeSecurityPolicy, User


def _platform_admins_only(request) -> bool:
    # Django opens the admin to any `is_staff` user; here only superusers (platform admins)
    # manage the deployment. Node admins use the console's own pages.
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _platform_admins_only
admin.site.site_header = "PrivPad administration"
admin.site.site_title = "PrivPad admin"


@admin.register(User)
class PrivPadUserAdmin(UserAdmin):
    list_display = ["username", "node", "role", "is_superuser", "is_active", "last_login"]
    list_filter = ["node", "role", "is_superuser", "is_active"]
    list_select_related = ["node"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("PrivPad", {"fields": ["node", "role"]}),
    ]
    add_fieldsets = [
        *UserAdmin.add_fieldsets,
        ("PrivPad", {"fields": ["node", "role"]}),
    ]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued on the account page or by `create_api_token`; here they are revoked."""

    list_display = ["name", "user", "prefix", "scope", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "scope", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "scope", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # a key shown once cannot be issued from a form that keeps no secret


@admin.register(NodeSecurityPolicy)
class NodeSecurityPolicyAdmin(admin.ModelAdmin):
    list_display = ["node", "require_two_factor", "updated_at"]
