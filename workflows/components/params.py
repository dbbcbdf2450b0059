"""Typed component parameters: one declaration feeds the catalogue, the forms and validation.

Each parameter knows its default, bounds or choices and help text, turns a JSON value into a
Python value (`clean`) and reports every problem as a sentence naming the parameter. Column
pickers name the input port they draw from and the roles and types they accept; they are
checked against the columns that schema propagation says exist upstream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from workflows.components.schema import ROLES, ArtifactInfo, alternatives
from workflows.messages import Message, translatable, translatable_plural

MISSING: Any = object()


@dataclass(frozen=True)
class ParamEnv:
    """What a parameter may be checked against: project parties, authorised sources, inputs."""

    parties: tuple[str, ...] = ()
    inputs: dict[str, ArtifactInfo | None] = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


class ParamError(ValueError):
    """A parameter value is invalid; the message names the parameter and the value. It is a
    `workflows.messages` message (read in each reader's language wherever it is stored, e.g.
    inside a run's "the pipeline is not valid any more") or plain text; `str(error)` renders it
    in the active language."""

    def __init__(self, message: Message | str, code: str = "invalid_param"):
        super().__init__(message)
        self.message = message
        self.code = code


# Labels of parameters whose declaration gives none, in the console's language: one table for
# the library, so a name used by several components (`features`, `label`) reads the same.
PARAM_LABELS = {
    "allow_duplicates": _("Allow duplicate keys"),
    "allow_empty_result": _("Allow an empty result"),
    "batch_size": _("Batch size"),
    "bool_strategy": _("True/false fill strategy"),
    "bucket_size": _("Bucket count"),
    "dataset": _("Dataset"),
    "drop_features": _("Columns to drop"),
    "epochs": _("Epochs"),
    "eps": _("Convergence tolerance"),
    "features": _("Feature columns"),
    "fill_value_bool": _("True/false fill value"),
    "fill_value_float": _("Float fill value"),
    "fill_value_int": _("Integer fill value"),
    "fill_value_str": _("Text fill value"),
    "float_strategy": _("Float fill strategy"),
    "int_strategy": _("Integer fill strategy"),
    "l2_norm": _("L2 penalty strength"),
    "label": _("Label column"),
    "learning_rate": _("Learning rate"),
    "method": _("Method"),
    "penalty": _("Penalty"),
    "pred_name": _("Prediction column name"),
    "prediction": _("Prediction column"),
    "protocol": _("Protocol"),
    "random_state": _("Random seed"),
    "receiver": _("Receiver"),
    "reg_type": _("Regression type"),
    "report_weights": _("Report weights"),
    "save_ids": _("Keep ID columns"),
    "save_label": _("Keep label column"),
    "shuffle": _("Shuffle"),
    "sig_type": _("Sigmoid approximation"),
    "sort_result": _("Sort result"),
    "str_strategy": _("Text fill strategy"),
    "test_size": _("Test fraction"),
    "threshold": _("Threshold"),
    "train_size": _("Train fraction"),
}


def default_label(name: str):
    """A parameter's label when its declaration gives none: translated if known, else its name."""
    return PARAM_LABELS.get(name) or name.replace("_", " ").capitalize()


@dataclass(frozen=True, kw_only=True)
class Param:
    name: str
    label: str = ""
    help: str = ""
    default: Any = MISSING
    kind: ClassVar[str] = "param"

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def describe(self) -> dict:
        described = {
            "name": self.name,
            "kind": self.kind,
            "label": str(self.label or default_label(self.name)),
            "help": str(self.help),
            "required": self.required,
        }
        if not self.required:
            described["default"] = self.default
        return described | self.extra()

    def extra(self) -> dict:
        return {}

    def clean(self, value: Any, env: ParamEnv) -> Any:
        """Return the value in Python form; raise ParamError naming the problem."""
        return value

    def fail(self, message: Message | str, code: str = "invalid_param") -> ParamError:
        return ParamError(
            translatable("parameter '%(param)s': %(problem)s", param=self.name, problem=message),
            code,
        )


@dataclass(frozen=True, kw_only=True)
class IntParam(Param):
    minimum: int | None = None
    maximum: int | None = None
    kind: ClassVar[str] = "int"

    def extra(self) -> dict:
        return {"minimum": self.minimum, "maximum": self.maximum}

    def clean(self, value: Any, env: ParamEnv) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise self.fail(translatable("%(value)s is not a whole number", value=repr(value)))
        value = int(value)
        if self.minimum is not None and value < self.minimum:
            raise self.fail(
                translatable(
                    "%(value)s is below the minimum %(minimum)s", value=value, minimum=self.minimum
                ),
                "out_of_range",
            )
        if self.maximum is not None and value > self.maximum:
            raise self.fail(
                translatable(
                    "%(value)s is above the maximum %(maximum)s", value=value, maximum=self.maximum
                ),
                "out_of_range",
            )
        return value


@dataclass(frozen=True, kw_only=True)
class FloatParam(Param):
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    kind: ClassVar[str] = "float"

    def extra(self) -> dict:
        return {
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusive_minimum": self.exclusive_minimum,
            "exclusive_maximum": self.exclusive_maximum,
        }

    def clean(self, value: Any, env: ParamEnv) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(translatable("%(value)s is not a number", value=repr(value)))
        value = float(value)
        if not math.isfinite(value):
            raise self.fail(translatable("%(value)s is not finite", value=str(value)))
        low, high = self.minimum, self.maximum
        if low is not None and (value < low or (self.exclusive_minimum and value == low)):
            message = (
                "%(value)s is out of range: it must be above %(bound)s"
                if self.exclusive_minimum
                else "%(value)s is out of range: it must be at least %(bound)s"
            )
            raise self.fail(translatable(message, value=value, bound=low), "out_of_range")
        if high is not None and (value > high or (self.exclusive_maximum and value == high)):
            message = (
                "%(value)s is out of range: it must be below %(bound)s"
                if self.exclusive_maximum
                else "%(value)s is out of range: it must be at most %(bound)s"
            )
            raise self.fail(translatable(message, value=value, bound=high), "out_of_range")
        return value


@dataclass(frozen=True, kw_only=True)
class BoolParam(Param):
    kind: ClassVar[str] = "bool"

    def clean(self, value: Any, env: ParamEnv) -> bool:
        if not isinstance(value, bool):
            raise self.fail(translatable("%(value)s is not true or false", value=repr(value)))
        return value


@dataclass(frozen=True, kw_only=True)
class StrParam(Param):
    max_length: int = 200
    allow_empty: bool = True
    kind: ClassVar[str] = "str"

    def extra(self) -> dict:
        return {"max_length": self.max_length}

    def clean(self, value: Any, env: ParamEnv) -> str:
        if not isinstance(value, str):
            raise self.fail(translatable("%(value)s is not text", value=repr(value)))
        if len(value) > self.max_length:
            raise self.fail(
                translatable_plural(
                    "text longer than %(limit)s character",
                    "text longer than %(limit)s characters",
                    "limit",
                    limit=self.max_length,
                )
            )
        if not value and not self.allow_empty:
            raise self.fail(translatable("must not be empty"))
        return value


@dataclass(frozen=True, kw_only=True)
class ChoiceParam(Param):
    choices: tuple[str, ...]
    multiple: bool = False
    kind: ClassVar[str] = "choice"

    def extra(self) -> dict:
        return {"choices": list(self.choices), "multiple": self.multiple}

    def clean(self, value: Any, env: ParamEnv) -> str | list[str]:
        values = _as_list(self, value) if self.multiple else [value]
        for item in values:
            if item not in self.choices:
                raise self.fail(
                    translatable(
                        "%(value)s is not one of %(choices)s",
                        value=repr(item),
                        choices=", ".join(self.choices),
                    )
                )
        return values if self.multiple else value


@dataclass(frozen=True, kw_only=True)
class PartyParam(Param):
    """One or several parties of the project (receivers, model owners)."""

    multiple: bool = False
    kind: ClassVar[str] = "party"

    def extra(self) -> dict:
        return {"multiple": self.multiple}

    def clean(self, value: Any, env: ParamEnv) -> str | list[str]:
        values = _as_list(self, value) if self.multiple else [value]
        for item in values:
            if not isinstance(item, str) or item not in env.parties:
                raise self.fail(
                    translatable(
                        "party %(party)s is not a member of the project", party=repr(item)
                    ),
                    "party_not_member",
                )
        return values if self.multiple else value


@dataclass(frozen=True, kw_only=True)
class DatasetParam(Param):
    """A dataset authorised to the project (by id)."""

    kind: ClassVar[str] = "dataset"

    def clean(self, value: Any, env: ParamEnv) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(translatable("%(value)s is not a dataset id", value=repr(value)))
        if value not in env.sources:
            raise self.fail(
                translatable(
                    "dataset %(dataset)s is not authorised to this project", dataset=value
                ),
                "dataset_not_authorised",
            )
        return value


@dataclass(frozen=True, kw_only=True)
class ColumnsParam(Param):
    """Columns picked from the table on input `port`, restricted by role and type.

    `party_param` names a PartyParam whose party must hold every picked column (a label chosen
    at the party that trains or evaluates); `same_party` requires all picks at one party;
    `refuses_missing`: the component fails on missing values in these columns, so validation
    refuses columns that may hold some (see `Column.missing`) and suggests filling them.
    """

    port: str
    roles: tuple[str, ...] = ROLES
    types: tuple[str, ...] | None = None
    multiple: bool = True
    min_count: int = 0
    max_count: int | None = None
    party_param: str | None = None
    same_party: bool = False
    refuses_missing: bool = False
    kind: ClassVar[str] = "columns"

    def extra(self) -> dict:
        return {
            "port": self.port,
            "roles": list(self.roles),
            "types": list(self.types) if self.types else None,
            "multiple": self.multiple,
            "min_count": self.min_count,
            "max_count": self.max_count,
            "party_param": self.party_param,
            "refuses_missing": self.refuses_missing,
        }

    def clean(self, value: Any, env: ParamEnv) -> list[str] | str:
        names = _as_names(self, value) if self.multiple else _single_name(self, value)
        if len(set(names)) != len(names):
            raise self.fail(translatable("a column is picked twice"))
        if len(names) < self.min_count:
            raise self.fail(
                translatable_plural(
                    "pick at least %(count)s column",
                    "pick at least %(count)s columns",
                    "count",
                    count=self.min_count,
                )
            )
        if self.max_count is not None and len(names) > self.max_count:
            raise self.fail(
                translatable_plural(
                    "pick at most %(count)s column",
                    "pick at most %(count)s columns",
                    "count",
                    count=self.max_count,
                )
            )
        info = env.inputs.get(self.port)
        if info is not None:
            self._check_upstream(names, info)
        return names if self.multiple else names[0]

    def _check_upstream(self, names: list[str], info: ArtifactInfo) -> None:
        missing = [name for name in names if not info.find(name)]
        if missing:
            # All of them at once: after an upstream dataset or column choice changes, the
            # user fixes the whole list in one go instead of one column per validation.
            listed = ", ".join(repr(name) for name in missing)
            message = translatable_plural(
                "column %(columns)s does not exist on input '%(port)s' (the dataset or a column "
                "choice upstream changed, or the column is protected); choose the columns again",
                "columns %(columns)s do not exist on input '%(port)s' (the dataset or a column "
                "choice upstream changed, or the column is protected); choose the columns again",
                "count",
                columns=listed,
                port=self.port,
                count=len(missing),
            )
            raise self.fail(message, "column_missing")
        for name in names:
            for column in info.find(name):
                if column.role not in self.roles:
                    raise self.fail(
                        translatable(
                            "column %(column)s has role %(role)s; expected %(expected)s",
                            column=repr(name),
                            role=repr(column.role),
                            expected=alternatives(self.roles),
                        ),
                        "column_role",
                    )
                if self.types and column.type not in self.types:
                    raise self.fail(
                        translatable(
                            "column %(column)s has type %(type)s; expected %(expected)s",
                            column=repr(name),
                            type=repr(column.type),
                            expected=alternatives(self.types),
                        ),
                        "column_type",
                    )
        if self.same_party:
            parties = {column.party for name in names for column in info.find(name)}
            if len(parties) > 1:
                raise self.fail(
                    translatable(
                        "columns must be held by one party, not %(parties)s",
                        parties=sorted(parties),
                    ),
                    "column_party",
                )


def _as_list(param: Param, value: Any) -> list:
    if not isinstance(value, list):
        raise param.fail(translatable("%(value)s is not a list", value=repr(value)))
    return value


def _as_names(param: Param, value: Any) -> list[str]:
    names = _as_list(param, value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise param.fail(translatable("%(value)s is not a column name", value=repr(name)))
    return names


def _single_name(param: Param, value: Any) -> list[str]:
    if not isinstance(value, str) or not value:
        raise param.fail(translatable("%(value)s is not a column name", value=repr(value)))
    return [value]
