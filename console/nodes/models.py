"""Nodes: the parties of a PrivPad deployment, each with storage of its own."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Node(models.Model):
    class Kind(models.TextChoices):
        EMBEDDED = "embedded", "Embedded (runs in this process)"
        REMOTE = "remote", "Remote (party agent at an address)"

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")
        DISABLED = "disabled", _("Disabled")

    name = models.SlugField(max_length=40, unique=True, help_text=_("Short id, e.g. 'alice'."))
    display_name = models.CharField(max_length=120)
    institution = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EMBEDDED)
    address = models.CharField(
        max_length=255, blank=True, help_text=_("Party agent address (remote nodes only).")
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ONLINE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        if self.kind == self.Kind.REMOTE and not self.address:
            raise ValidationError({"address": "A remote node needs the address of its agent."})
        if self.kind == self.Kind.EMBEDDED and self.address:
            raise ValidationError({"address": "Embedded nodes run in this process: no address."})

    @property
    def storage_root(self) -> Path:
        """This node's private directory under the data directory (never shown to others)."""
        return Path(settings.NODE_STORAGE_DIR) / self.name

    def ensure_storage(self) -> Path:
        root = self.storage_root
        (root / "datasets").mkdir(parents=True, exist_ok=True)
        return root
