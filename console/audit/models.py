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
        TOKEN_REVOKE = "token_revoke", "API token revoked"
        USER_CREATE = "user_create", "User created"
        USER_UPDATE = "user_update", "User changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        PASSWORD_CHANGE = "password_change", "Password changed"
        SESSION_REVOKE = "session_revoke", "Session revoked"
        TWO_FACTOR_ENABLE = "two_factor_enable", "Second factor turned on"
        TWO_FACTOR_DISABLE = "two_factor_disable", "Second factor turned off"
        TWO_FACTOR_POLICY = "two_factor_policy", "Second factor requirement changed"
        ACCESS_DENIED = "access_denied", "Access denied"
        PIPELINE_CREATE = "pipeline_create", "Pipeline created"
        PIPELINE_UPDATE = "pipeline_update", "Pipeline edited"
        RUN_START = "run_start", "Run started"
        RUN_REFUSED = "run_refused", "Run refused"
        POLICY_UPDATE = "policy_update", "Disclosure policy set"
        APPROVAL_REQUEST = "approval_request", "Approval requested"
        APPROVAL_APPROVE = "approval_approve", "Disclosure approved"
        APPROVAL_REJECT = "approval_reject", "Disclosure rejected"
        NODE_INIT = "node_init", "Node identity created"
        INVITATION_CREATE = "invitation_create", "Pairing invitation created"
        INVITATION_REVOKE = "invitation_revoke", "Pairing invitation revoked"
        NODE_PAIR = "node_pair", "Node paired"
        ROUTE_UPDATE = "route_update", "Route changed"
        NODE_CALL = "node_call", "Node-to-node call"

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
