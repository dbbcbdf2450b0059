"""What an upload must be before anything is written: who uploads, the dataset's name and
description, and the uploaded file (present, within the size limit, a plain file name).

Every refusal is a `ValidationError` on the field at fault (`field_error`) whose message names
the problem and the limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from console.datasets.models import Dataset
from console.datasets.services.errors import field_error
from console.datasets.uploads import limit_message
from workflows.actors import Actor

NAME_MAX_LENGTH = Dataset._meta.get_field("name").max_length
FILENAME_MAX_LENGTH = Dataset._meta.get_field("original_filename").max_length
DESCRIPTION_MAX_LENGTH = 5000


def uploader_node(actor: Actor):
    """The node the upload goes to: the actor's (an account of no node cannot upload)."""
    if not actor.is_authenticated or actor.node_id is None:
        raise ValidationError(
            _("Only users of a node can upload datasets; your account belongs to no node."),
            code="no_node",
        )
    return actor.node


def clean_name(node, name) -> str:
    name = str(name or "").strip()
    if not name:
        raise field_error("name", _("A dataset needs a name."), "required")
    if len(name) > NAME_MAX_LENGTH:
        raise field_error(
            "name",
            _("The name is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(name), "limit": NAME_MAX_LENGTH},
            "max_length",
        )
    if Dataset.objects.filter(node=node, name__iexact=name).exists():
        raise field_error("name", name_taken(node, name), "duplicate_name")
    return name


def name_taken(node, name: str) -> str:
    return _("Node '%(node)s' already has a dataset named '%(name)s'; choose another name.") % {
        "node": node.name,
        "name": name,
    }


def clean_description(description) -> str:
    description = str(description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise field_error(
            "description",
            _("The description is %(length)s characters long; the limit is %(limit)s.")
            % {"length": len(description), "limit": DESCRIPTION_MAX_LENGTH},
            "max_length",
        )
    return description


def clean_upload(uploaded_file) -> str:
    """The client's file name, once the upload is known to be present and within limits."""
    if uploaded_file is None:
        raise field_error("file", _("Choose a CSV file to upload."), "required")
    rejection = getattr(uploaded_file, "rejection", None)
    if rejection:
        raise field_error("file", rejection, "file_too_large")
    if uploaded_file.size is not None and uploaded_file.size > settings.PRIVPAD_UPLOAD_MAX_BYTES:
        raise field_error("file", limit_message(uploaded_file.size), "file_too_large")
    name = getattr(uploaded_file, "client_name", None) or uploaded_file.name or ""
    check_file_name(name)
    return name


def check_file_name(name: str) -> None:
    """Refuse names that are paths or carry control characters: they name nothing safely."""
    problem = None
    if not name.strip():
        problem = _("is empty")
    elif "/" in name or "\\" in name:
        problem = _("contains a path separator (/ or \\)")
    elif ".." in name:
        problem = _("contains '..'")
    elif any(ord(char) < 32 or 127 <= ord(char) < 160 for char in name):
        problem = _("contains a control character")
    elif len(name) > FILENAME_MAX_LENGTH:
        problem = _("is longer than %(limit)s characters") % {"limit": FILENAME_MAX_LENGTH}
    if problem:
        raise field_error(
            "file",
            _("The file name %(name)r %(problem)s; upload a plain file name like data.csv.")
            % {"name": name, "problem": problem},
            "invalid_file_name",
        )
