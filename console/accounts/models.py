"""Users of the console, their roles, API tokens and signed-in sessions.

Every user belongs to one node and holds one role there (see `console.accounts.roles` for what
each role may do). Superusers are platform admins: they register nodes and manage node admins,
and see every node's audit log, but they are not a party and see no node's rows unless they also
belong to that node.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device


class User(AbstractUser):
    class Role(models.TextChoices):
        NODE_ADMIN = "admin", _("Node admin")
        APPROVER = "approver", _("Approver")
        ANALYST = "analyst", _("Analyst")
        VIEWER = "viewer", _("Viewer")

    node = models.ForeignKey(
        "nodes.Node",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("The party this user acts for. Empty only for platform admins."),
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("The console's language for this user; empty follows the browser."),
    )

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser

    @property
    def is_node_admin(self) -> bool:
        return self.node_id is not None and self.role == self.Role.NODE_ADMIN

    @property
    def is_approver(self) -> bool:
        """Decides on disclosures of the node's data (node admins do too)."""
        return self.node_id is not None and self.role in (self.Role.NODE_ADMIN, self.Role.APPROVER)

    @property
    def is_read_only(self) -> bool:
        """Viewers open results but neither run nor edit anything."""
        return self.role == self.Role.VIEWER and not self.is_superuser

    def __str__(self) -> str:
        return self.username


class ApiToken(models.Model):
    """A named API token of one user, stored as a SHA-256 digest of its secret.

    The key is `pp_<prefix>_<secret>` with a 256-bit random secret: a plain SHA-256 of such a
    key cannot be brute-forced, so no slow password hash is needed and a lookup stays one index
    probe. The prefix is stored in clear so a user can tell their tokens apart.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read (safe methods only)")
        RUN = "run", _("Run (read, plus starting and cancelling runs)")
        ADMIN = "admin", _("Admin (everything the user may do)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        # Never the secret: the prefix identifies the token in lists and the audit log.
        return f"{self.name} (pp_{self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class LoginSession(models.Model):
    """One signed-in browser session, so its user can list and revoke it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class NodeSecurityPolicy(models.Model):
    """Per-node sign-in rules set by the node's admins (kept here so nodes stay unaware)."""

    node = models.OneToOneField("nodes.Node", on_delete=models.CASCADE, related_name="security")
    require_two_factor = models.BooleanField(
        default=False, help_text=_("Every user of the node must sign in with a second factor.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"security policy of {self.node}"


class Passkey(Device):
    """A WebAuthn credential (ES256) of a user, usable as their second factor.

    A django-otp device so that signing in with it marks the session verified like a code
    does; it has no codes of its own (`verify_token` is always False).
    """

    credential_id = models.CharField(max_length=1400, unique=True)  # base64url
    public_key = models.BinaryField(max_length=200)  # DER SubjectPublicKeyInfo
    sign_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def verify_token(self, token) -> bool:
        return False
