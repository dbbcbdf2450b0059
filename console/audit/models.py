"""The audit log: who did what, for which node, when, and whether it was allowed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")
        UPLOAD = "upload", _("Upload")
        PREVIEW = "preview", _("Preview")
        DOWNLOAD = "download", _("Download")
        DELETE = "delete", _("Delete")
        AUTHORIZE = "authorize", _("Authorise")
        REVOKE = "revoke", _("Revoke")
        PROJECT_CREATE = "project_create", _("Project created")
        PROJECT_UPDATE = "project_update", _("Project updated")
        MEMBER_ADD = "member_add", _("Member added")
        MEMBER_REMOVE = "member_remove", _("Member removed")
        NODE_REGISTER = "node_register", _("Node registered")
        TOKEN_CREATE = "token_create", _("API token created")
        TOKEN_REVOKE = "token_revoke", _("API token revoked")
        USER_CREATE = "user_create", _("User created")
        USER_UPDATE = "user_update", _("User changed")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PASSWORD_CHANGE = "password_change", _("Password changed")
        SESSION_REVOKE = "session_revoke", _("Session revoked")
        TWO_FACTOR_ENABLE = "two_factor_enable", _("Second factor turned on")
        TWO_FACTOR_DISABLE = "two_factor_disable", _("Second factor turned off")
        TWO_FACTOR_POLICY = "two_factor_policy", _("Second factor requirement changed")
        ACCESS_DENIED = "access_denied", _("Access denied")
        PIPELINE_CREATE = "pipeline_create", _("Pipeline created")
        PIPELINE_UPDATE = "pipeline_update", _("Pipeline edited")
        RUN_START = "run_start", _("Run started")
        RUN_REFUSED = "run_refused", _("Run refused")
        POLICY_UPDATE = "policy_update", _("Disclosure policy set")
        APPROVAL_REQUEST = "approval_request", _("Approval requested")
        APPROVAL_APPROVE = "approval_approve", _("Disclosure approved")
        APPROVAL_REJECT = "approval_reject", _("Disclosure rejected")
        NODE_INIT = "node_init", _("Node identity created")
        INVITATION_CREATE = "invitation_create", _("Pairing invitation created")
        INVITATION_REVOKE = "invitation_revoke", _("Pairing invitation revoked")
        NODE_PAIR = "node_pair", _("Node paired")
        ROUTE_UPDATE = "route_update", _("Route changed")
        NODE_CALL = "node_call", _("Node-to-node call")
        NODE_ROTATE = "node_rotate", _("Node certificate rotated")
        ROUTE_REPIN = "route_repin", _("Peer's new certificate pinned")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        DENIED = "denied", _("Denied")
        FAILED = "failed", _("Failed")

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
