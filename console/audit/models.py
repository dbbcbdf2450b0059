"""The audit log: who did what, for which node, when, and whether it was allowed."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", "Login"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logout"
        UPLOAD = "upload", "Upload"
        PREVIEW = "preview", "Preview"
        DOWNLOAD = "download", "Download"
        DELETE = "delete", "Delete"
        AUTHORIZE = "authorize", "Authorise"
        REVOKE = "revoke", "Revoke"
        PROJECT_CREATE = "project_create", "Project created"
        PROJECT_UPDATE = "project_update", "Project updated"
        MEMBER_ADD = "member_add", "Member added"
        MEMBER_REMOVE = "member_remove", "Member removed"
        NODE_REGISTER = "node_register", "Node registered"
        TOKEN_CREATE = "token_create", "API token created"
        ACCESS_DENIED = "access_denied", "Access denied"
        PIPELINE_CREATE = "pipeline_create", "Pipeline created"
        PIPELINE_UPDATE = "pipeline_update", "Pipeline edited"
        RUN_START = "run_start", "Run started"
        RUN_REFUSED = "run_refused", "Run refused"
        POLICY_UPDATE = "policy_update", "Disclosure policy set"
        APPROVAL_REQUEST = "approval_request", "Approval requested"
        APPROVAL_APPROVE = "approval_approve", "Disclosure approved"
        APPROVAL_REJECT = "approval_reject", "Disclosure rejected"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        FAILED = "failed", "Failed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    # Kept as text so the record survives the user's deletion and names failed-login attempts.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_node = models.ForeignKey(
        "nodes.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The node whose object the event touched (the owner of a dataset, a project, ...).
    node = models.ForeignKey(
        "nodes.Node", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"
