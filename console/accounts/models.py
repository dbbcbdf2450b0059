"""Users of the console: each belongs to one node, as its admin or as a member.

Superusers are platform admins: they register nodes and see every node's audit log, but they
are not a party and see no node's rows unless they also belong to that node.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Role(models.TextChoices):
        NODE_ADMIN = "admin", _("Node admin")
        MEMBER = "member", _("Member")

    node = models.ForeignKey(
        "nodes.Node",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("The party this user acts for. Empty only for platform admins."),
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
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

    def __str__(self) -> str:
        return self.username
