"""The bodies of federation messages: each read into a typed value, bounded, or refused.

Every message rides in the node envelope (`console.nodes.link.envelope`: msgpack, 64 KiB,
sender, nonce, timestamp) and carries a `message` id (32 hex digits) that makes a re-delivery
after a lost reply harmless. Documents (a pipeline graph, a disclosure plan) travel as JSON
text of bounded length, parsed with `json` (never pickle) and checked here.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from console.nodes.link.envelope import EnvelopeError, text_field
from workflows.messages import translatable

MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")
NODE_NAME = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
MAX_MEMBERS = 64
MAX_COLUMNS = 512
MAX_DOCUMENT = 48 * 1024
ROLES = ("id", "feature", "label", "protected")
COLUMN_TYPES = ("int", "float", "str", "bool")


def message_id(body: dict) -> str:
    value = body.get("message")
    if not isinstance(value, str) or not MESSAGE_ID.match(value):
        raise EnvelopeError(translatable("the message's 'message' id is not 32 hex digits"))
    return value


def uid_field(body: dict, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(text_field(body, key, 36))
    except ValueError:
        raise EnvelopeError(
            translatable("the message's '%(key)s' is not a UUID", key=key)
        ) from None


def int_field(body: dict, key: str, minimum: int = 0) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < 2**62:
        raise EnvelopeError(
            translatable(
                "the message's '%(key)s' is not a whole number >= %(minimum)s",
                key=key,
                minimum=minimum,
            )
        )
    return value


def optional_text(body: dict, key: str, max_length: int) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or len(value) > max_length:
        raise EnvelopeError(
            translatable(
                "the message's '%(key)s' is not text of at most %(max)s", key=key, max=max_length
            )
        )
    return value


def stated_name(body: dict, key: str) -> str:
    """A user's name as the sending node states it (who started a run, who asked): text of at
    most 150 printable characters, "" when not given (an older node). Shown as that node's
    statement ("alice (at node alice)"), never taken as a user of this node."""
    value = optional_text(body, key, 150).strip()
    if not value.isprintable():
        raise EnvelopeError(
            translatable("the message's '%(key)s' holds characters that are not printable", key=key)
        )
    return value


def choice_field(body: dict, key: str, choices) -> str:
    value = body.get(key)
    if value not in choices:
        raise EnvelopeError(
            translatable(
                "the message's '%(key)s' is not one of %(choices)s", key=key, choices=list(choices)
            )
        )
    return value


def map_field(body: dict, key: str) -> dict:
    value = body.get(key)
    if not isinstance(value, dict):
        raise EnvelopeError(translatable("the message's '%(key)s' is not a map", key=key))
    return value


def node_name(value) -> str:
    if not isinstance(value, str) or not NODE_NAME.match(value):
        raise EnvelopeError(translatable("'%(value)s' is not a node name", value=str(value)[:60]))
    return value


def document_field(body: dict, key: str) -> dict:
    """A JSON document sent as text: parsed with `json`, a map, at most MAX_DOCUMENT bytes."""
    text = text_field(body, key, MAX_DOCUMENT)
    try:
        document = json.loads(text)
    except ValueError:
        raise EnvelopeError(translatable("the message's '%(key)s' is not JSON", key=key)) from None
    if not isinstance(document, dict):
        raise EnvelopeError(translatable("the message's '%(key)s' is not a JSON object", key=key))
    return document


def as_document(value: dict) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if len(text) > MAX_DOCUMENT:
        raise EnvelopeError(
            translatable(
                "the document is %(size)s bytes; the limit is %(max)s",
                size=len(text),
                max=MAX_DOCUMENT,
            )
        )
    return text


def dealer_field(body: dict) -> str:
    """A dealer node's name, or "" (none given: the trusted first party)."""
    value = body.get("dealer", "")
    return "" if value == "" else node_name(value)


@dataclass(frozen=True)
class ProjectState:
    """What every node's copy of a shared project holds: name, members, status, and the
    source of SEMI2K's Beaver triples in its runs (`dealer`: "" for the trusted first party,
    also when an older owner node sends none)."""

    uid: uuid.UUID
    name: str
    description: str
    status: str
    version: int
    members: tuple[str, ...]
    dealer: str = ""

    @classmethod
    def read(cls, body: dict) -> ProjectState:
        project = map_field(body, "project")
        members = project.get("members")
        if not isinstance(members, list) or not 0 < len(members) <= MAX_MEMBERS:
            raise EnvelopeError(
                translatable("a project lists 1 to %(max)s member nodes", max=MAX_MEMBERS)
            )
        names, dealer = tuple(dict.fromkeys(node_name(m) for m in members)), dealer_field(project)
        if dealer in names:
            raise EnvelopeError(
                translatable(
                    "the project's dealer node %(dealer)s is one of its members: a dealer "
                    "must be a third node",
                    dealer=dealer,
                )
            )
        return cls(
            uid=uid_field(project, "uid"),
            name=text_field(project, "name", 120),
            description=optional_text(project, "description", 5000),
            status=choice_field(project, "status", ("active", "archived")),
            version=int_field(project, "version", 1),
            members=names,
            dealer=dealer,
        )

    def to_body(self) -> dict:
        return {
            "uid": str(self.uid),
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "version": self.version,
            "members": list(self.members),
            "dealer": self.dealer,
        }


@dataclass(frozen=True)
class DatasetSchema:
    """A dataset as members see it: names, types and roles of its columns; nothing else."""

    remote_id: int
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    authorization_id: int
    version: int
    roles: dict
    # Columns the owner's upload profile found gaps in; None: not published (an older node).
    missing: tuple[str, ...] | None = None
    # The owner's standing policy on the authorisation, every setting filled in; None: not
    # published (an older node).
    policy: dict | None = None

    @classmethod
    def read(cls, body: dict) -> DatasetSchema:
        dataset = map_field(body, "dataset")
        columns = dataset.get("columns")
        if not isinstance(columns, list) or not 0 < len(columns) <= MAX_COLUMNS:
            raise EnvelopeError(translatable("a dataset has 1 to %(max)s columns", max=MAX_COLUMNS))
        pairs = []
        for column in columns:
            if not isinstance(column, list) or len(column) != 2:
                raise EnvelopeError(translatable("a column is [name, type]"))
            name = column[0]
            if not isinstance(name, str) or not 0 < len(name) <= 200:
                raise EnvelopeError(translatable("a column name is text of 1 to 200 characters"))
            if column[1] not in COLUMN_TYPES:
                raise EnvelopeError(
                    translatable("column '%(column)s' has an unknown type", column=name)
                )
            pairs.append((name, column[1]))
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise EnvelopeError(translatable("the dataset names a column twice"))
        roles = map_field(dataset, "roles")
        if set(roles) != set(names) or any(role not in ROLES for role in roles.values()):
            raise EnvelopeError(translatable("the roles must give one known role to every column"))
        return cls(
            remote_id=int_field(dataset, "id", 1),
            name=text_field(dataset, "name", 120),
            description=optional_text(dataset, "description", 5000),
            columns=tuple(pairs),
            authorization_id=int_field(dataset, "authorization", 1),
            version=int_field(dataset, "version", 1),
            roles=dict(roles),
            missing=_missing_columns(dataset, names),
            policy=_standing_policy(dataset),
        )


def _missing_columns(dataset: dict, names: list[str]) -> tuple[str, ...] | None:
    if "missing" not in dataset:
        return None
    missing = dataset["missing"]
    if not isinstance(missing, list) or not all(isinstance(name, str) for name in missing):
        raise EnvelopeError(translatable("'missing' lists columns of the dataset"))
    if not set(missing) <= set(names):
        raise EnvelopeError(translatable("'missing' lists columns of the dataset"))
    return tuple(missing)


def _standing_policy(dataset: dict) -> dict | None:
    """The published policy, checked as the owner's own form checks it (any node names in
    `row_level_to`: the owner checked them against its members); ValidationError naming the
    bad setting."""
    from console.datasets.policies import clean_policy

    if "policy" not in dataset:
        return None
    return clean_policy(dataset["policy"], None)
