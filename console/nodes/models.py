"""Nodes: the parties of a PrivPad deployment, each with storage of its own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A certificate (this node's or a peer's) closer than this to its expiry is shown with a warning.
EXPIRY_WARNING_DAYS = 30


class Node(models.Model):
    class Kind(models.TextChoices):
        EMBEDDED = "embedded", _("Embedded (runs in this process)")
        REMOTE = "remote", _("Remote (its own installation, at an address)")

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")
        DISABLED = "disabled", _("Disabled")

    name = models.SlugField(max_length=40, unique=True, help_text=_("Short id, e.g. 'alice'."))
    display_name = models.CharField(max_length=120)
    institution = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EMBEDDED)
    address = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("Where the node's installation answers (remote nodes only)."),
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ONLINE)
    # The node this installation *is* (`manage.py node init`): its key pair and certificate live
    # under NODE_IDENTITY_DIR, and its address is where `manage.py node serve` listens.
    # db_default: rows written without it (older code, raw SQL) are not this node.
    is_self = models.BooleanField(default=False, db_default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_self"], condition=Q(is_self=True), name="nodes_one_self_node"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        if self.kind == self.Kind.REMOTE and not self.address:
            raise ValidationError(
                {"address": "A remote node needs the address of its installation."}
            )
        if self.kind == self.Kind.EMBEDDED and self.address and not self.is_self:
            raise ValidationError({"address": "Embedded nodes run in this process: no address."})

    @property
    def storage_root(self) -> Path:
        """This node's private directory under the data directory (never shown to others)."""
        return Path(settings.NODE_STORAGE_DIR) / self.name

    def route_or_none(self):
        """The pinned route to this node if it is a paired peer."""
        try:
            return self.route
        except PeerRoute.DoesNotExist:
            return None

    def ensure_storage(self) -> Path:
        root = self.storage_root
        (root / "datasets").mkdir(parents=True, exist_ok=True)
        return root


class PeerRouteQuerySet(models.QuerySet):
    def pinned_to(self, fingerprint: str) -> PeerRouteQuerySet:
        """Routes whose peer may present this certificate now (pinned, or replaced in grace)."""
        from django.utils import timezone

        in_grace = Q(previous_fingerprint=fingerprint, previous_valid_until__gt=timezone.now())
        return self.filter(Q(fingerprint=fingerprint) | in_grace) if fingerprint else self.none()


class PeerRoute(models.Model):
    """A paired peer node: where to call it and the certificate it must present.

    Created when a pairing completes (on both sides). Calls in either direction are refused
    while `enabled` is false. Health fields are what the last `Health` call measured. When the
    peer rotates its certificate (`console.nodes.rotation`) the new one is pinned and the
    replaced one stays accepted as `previous_certificate` until `previous_valid_until`.
    """

    class Origin(models.TextChoices):
        INVITED = "invited", "We invited them"
        ACCEPTED = "accepted", "We accepted their invitation"

    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="route")
    address = models.CharField(max_length=255, help_text="host:port of the peer's node service.")
    fingerprint = models.CharField(max_length=64, unique=True, help_text="SHA-256 of its cert.")
    certificate = models.TextField(help_text="The peer's certificate (PEM), pinned.")
    certificate_expires_at = models.DateTimeField()
    origin = models.CharField(max_length=16, choices=Origin.choices)
    enabled = models.BooleanField(default=True)
    paired_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    peer_version = models.CharField(max_length=40, blank=True)
    previous_certificate = models.TextField(blank=True)
    previous_fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    certificate_rotated_at = models.DateTimeField(null=True, blank=True)

    objects = PeerRouteQuerySet.as_manager()

    class Meta:
        ordering = ["node__name"]

    def __str__(self) -> str:
        return f"route to {self.node.name} ({self.address})"

    @property
    def expires_soon(self) -> bool:
        """The pinned certificate expires within 30 days (the peer must rotate it)."""
        from django.utils import timezone

        warning = timedelta(days=EXPIRY_WARNING_DAYS)
        return self.certificate_expires_at < timezone.now() + warning

    @property
    def previous_in_grace(self) -> bool:
        from django.utils import timezone

        until = self.previous_valid_until
        return bool(self.previous_certificate) and until is not None and until > timezone.now()

    def trusted_certificates(self) -> bytes:
        """The peer's certificates this node accepts now, PEM (the pinned one first)."""
        pems = [self.certificate]
        if self.previous_in_grace:
            pems.append(self.previous_certificate)
        return "".join(pems).encode()


class Invitation(models.Model):
    """An invitation this node issued. Its secret is shown once and never stored.

    The secret is the private key of a one-time certificate authority (`authority_certificate`)
    that this node's service trusts while the invitation is open: the acceptor proves it holds
    the invitation by presenting, in its TLS handshake, its own node key certified by it.
    """

    public_id = models.CharField(max_length=24, unique=True)
    authority_certificate = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        PeerRoute, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation {self.public_id}"

    @property
    def is_open(self) -> bool:
        from django.utils import timezone

        return self.used_at is None and self.expires_at > timezone.now()


class SeenNonce(models.Model):
    """Nonces of node-to-node calls received within the timestamp window (replays refused)."""

    fingerprint = models.CharField(max_length=64)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fingerprint", "nonce"], name="nodes_nonce_once")
        ]

    def __str__(self) -> str:
        return f"nonce {self.nonce} from {self.fingerprint[:16]}"


class CertificateRotation(models.Model):
    """This node replaced its key pair and certificate (`manage.py node rotate-certificate`).

    The replaced key stays on disk (`previous.key`) until `grace_until`: peers told of the
    rotation accept the old certificate until then, and peers not told yet can still be told
    over the old, still-pinned link. After it the old key is deleted.
    """

    old_fingerprint = models.CharField(max_length=64)
    new_fingerprint = models.CharField(max_length=64, unique=True)
    rotated_at = models.DateTimeField(auto_now_add=True)
    grace_until = models.DateTimeField()
    rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-rotated_at", "-pk"]
        get_latest_by = ["rotated_at", "pk"]

    def __str__(self) -> str:
        return f"rotation to {self.new_fingerprint[:16]}"

    @property
    def in_grace(self) -> bool:
        from django.utils import timezone

        return self.grace_until > timezone.now()


class RotationNotice(models.Model):
    """Whether one peer was told of a rotation and pinned the new certificate."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Not told yet")
        CONFIRMED = "confirmed", _("Pinned the new certificate")
        FAILED = "failed", _("Could not be told")

    rotation = models.ForeignKey(
        CertificateRotation, on_delete=models.CASCADE, related_name="notices"
    )
    route = models.ForeignKey(PeerRoute, on_delete=models.CASCADE, related_name="rotation_notices")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["route__node__name"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "route"], name="nodes_one_notice_per_peer")
        ]

    def __str__(self) -> str:
        return f"{self.rotation} told to {self.route.node.name}: {self.status}"
