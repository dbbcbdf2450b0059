"""Django admin for projects and their member nodes."""

from django.contrib import admin

from console.projects.models import Project, ProjectMember


class ProjectMemberInline(admin.TabularInline):
    model = ProjectMember
    extra = 0
    autocomplete_fields = ["node"]
    readonly_fields = ["added_by", "added_at"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_node", "status", "created_by", "created_at"]
    list_filter = ["status", "owner_node"]
    search_fields = ["name", "description"]
    list_select_related = ["owner_node", "created_by"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [ProjectMemberInline]
