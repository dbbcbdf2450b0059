"""What a component's `run` receives: `RunContext`.

It gives the component, and nothing more:
- `params` (cleaned), `parties` (the project's parties), `infos` (inferred output schemas);
- `inputs[port]`: an `ArtifactData` whose per-party files are read one party at a time
  (`read_table(party)`), so data-processing code runs "at" the party holding the data;
- `progress(percent)`: reports progress and is the cancel point (raises `RunCancelled`);
- `log(message)`; `warn(message, party=...)`: a problem that does not stop the node (shown on
  the node and in the log; it names columns and parties, never data values). `party` is the
  party whose data it is about: its users read the text, the others a redacted one
  (`workflows.redaction`); `party=None` for a warning about no party's data, shown to all.
  A message is best a `workflows.messages.translatable(...)` (stored as msgid and params,
  read in each reader's language); plain text is stored and shown as it is;
- `comm`: a `CommStats` that engine components hand to their link hub, so the executor can
  record bytes sent per party;
- `write_table(port, party, frame)` / `write_json(port, party, obj)`: outputs land in the
  owning party's storage only; tables as Arrow files with the port's schema in their metadata
  (`workflows.tabular.files`: the one reader and writer of tables);
- streaming, so that a party's memory stays a small multiple of one slice of rows:
  `ArtifactData.iter_arrow` / `iter_numeric` / `take` read a table slice by slice and
  `write_table_parts(port, party, parts)` writes one given in parts;
- `at(party, fn, *args)`: call `fn` as that party; errors become `PartyFailure(party, ...)`;
- `placement` (`workflows.placement`): where each party's code runs. Embedded (the default),
  every party runs here; in a network run this process is one party, `at` runs `fn` only for
  it (returning None for the others, whose own processes make their calls), `here(parties)`
  lists the parties whose parts this process reads and writes, and `publish(owner, fn, ...)`
  is how a value computed by one party (a row count, a report built for the others) reaches
  every party: as a typed frame over the run's links, or simply returned when embedded;
- `sources`: the datasets authorised to the project (`workflows.ports.SourceTable`), for
  source components.

It is plain Python (no Django), so components can be run and tested without a database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from core.comm import CommStats
from core.errors import PartyFailure
from workflows.components.schema import ArtifactInfo, Column
from workflows.placement import EMBEDDED, Placement
from workflows.tabular import files


class RunCancelled(Exception):
    """The run was cancelled; raised at the next progress point."""


@dataclass
class ArtifactData:
    info: ArtifactInfo
    files: dict[str, Path]

    def path(self, party: str) -> Path:
        if party not in self.files:
            raise PartyFailure(party, LookupError(f"party {party!r} holds no part of this input"))
        return self.files[party]

    def read_table(self, party: str, columns: list[str] | None = None) -> pd.DataFrame:
        """This party's columns of the table, or the named ones (only this party's file is
        opened, memory-mapped)."""
        held = self.info.columns_at(party)
        names = [column.name for column in held] if columns is None else list(columns)
        types = {column.name: column.type for column in held}
        return files.read_frame(self.path(party), names, types)

    def read_arrow(self, party: str, columns: list[str] | None = None) -> pa.Table:
        """This party's columns (or the named ones) as an Arrow table, memory-mapped: the
        fast path for components that select, reorder or replace whole columns."""
        held = self.info.columns_at(party)
        names = [column.name for column in held] if columns is None else list(columns)
        types = {column.name: column.type for column in held}
        return files.read_arrow(self.path(party), names, types)

    def read_numeric(self, party: str, columns: list[str]) -> np.ndarray:
        """This party's `columns` as one float64 matrix, missing values as NaN."""
        return files.read_numeric(self.path(party), columns)

    def _names_and_types(self, party: str, columns: list[str] | None):
        held = self.info.columns_at(party)
        names = [column.name for column in held] if columns is None else list(columns)
        return names, {column.name: column.type for column in held}

    def iter_arrow(
        self, party: str, columns: list[str] | None = None, batch_rows: int | None = None
    ) -> Iterator[pa.Table]:
        """This party's columns (or the named ones) in consecutive slices of rows."""
        names, types = self._names_and_types(party, columns)
        return files.iter_batches(self.path(party), names, types, batch_rows)

    def iter_numeric(
        self, party: str, columns: list[str], batch_rows: int | None = None
    ) -> Iterator[np.ndarray]:
        """This party's `columns` as float64 matrices of consecutive rows, NaN for missing."""
        return files.iter_numeric(self.path(party), columns, batch_rows)

    def take(
        self,
        party: str,
        indices: np.ndarray,
        columns: list[str] | None = None,
        batch_rows: int | None = None,
    ) -> Iterator[pa.Table]:
        """This party's rows at `indices`, in that order, in consecutive parts."""
        names, types = self._names_and_types(party, columns)
        return files.take_rows(self.path(party), indices, names, types, batch_rows)

    def rows(self, party: str) -> int:
        return files.count_rows(self.path(party))

    def read_json(self, party: str) -> Any:
        return json.loads(self.path(party).read_text(encoding="utf-8"))


@dataclass
class RunContext:
    params: dict[str, Any]
    parties: tuple[str, ...]
    inputs: dict[str, ArtifactData]
    infos: dict[str, ArtifactInfo]
    output_dir: Callable[[str], Path]
    on_progress: Callable[[int], None] = lambda percent: None
    on_log: Callable[[str], None] = lambda message: None
    on_warn: Callable[[str, str | None], None] = lambda message, party: None
    cancelled: Callable[[], bool] = lambda: False
    comm: CommStats = field(default_factory=CommStats)
    sources: dict = field(default_factory=dict)
    # The party whose user started the run: the consent behind choices that reveal something
    # (e.g. SS-LR weights) is that party's, not any project member's.
    requested_by: str | None = None
    # The fewest rows behind an aggregate that a party's data gives another party
    # (`workflows.components.aggregates`); the executor sets it from settings.
    min_group_rows: int = 20
    written: dict[str, dict[str, Path]] = field(default_factory=dict)
    placement: Placement = EMBEDDED
    node_id: str = ""

    def progress(self, percent: float) -> None:
        """Report progress (0..100) and stop here if the run was cancelled."""
        if self.cancelled():
            raise RunCancelled("cancelled by the user")
        self.on_progress(max(0, min(100, int(percent))))

    def log(self, message: str) -> None:
        self.on_log(message)

    def warn(self, message: str, *, party: str | None) -> None:
        """A warning on the node about `party`'s data (None: no party's), shown with its
        results and in the log, in full to `party`'s users only; the node goes on."""
        self.on_warn(message, party)

    def here(self, parties) -> list[str]:
        """The parties among `parties` whose parts this process reads and writes (all of
        them when embedded; only this process's party in a network run)."""
        return self.placement.here(parties)

    def at(self, party: str, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` as `party`; None without calling it when `party` runs elsewhere."""
        if not self.placement.runs_here(party):
            return None
        try:
            return fn(*args)
        except (RunCancelled, PartyFailure):
            raise
        except Exception as error:
            raise PartyFailure(party, error) from error

    def publish(self, owner: str, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` computed by `owner` (as `at`), its value received by every party.

        Only for what the component's disclosure lets every party have (row counts, sizes, a
        manifest, a report built for the others); every party calls it in the same order."""
        return self.placement.publish(owner, lambda: self.at(owner, fn, *args), self.node_id)

    def _target(self, port: str, party: str, suffix: str) -> Path:
        if port not in self.infos:
            raise KeyError(f"component has no output port {port!r}")
        if not self.placement.runs_here(party):
            # A party's storage is written only by its own process.
            raise PartyFailure(
                party, PermissionError(f"output {port!r} of {party!r} is written by {party!r}")
            )
        if party not in self.infos[port].parties:
            raise PartyFailure(party, LookupError(f"output {port!r} has no part at {party!r}"))
        directory = self.output_dir(party)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{port}.{suffix}"
        self.written.setdefault(port, {})[party] = path
        return path

    def write_table(self, port: str, party: str, frame: pd.DataFrame | pa.Table) -> None:
        """Write this party's part of a table output (pandas or Arrow), typed as declared."""
        self.write_table_parts(port, party, [frame])

    def write_table_parts(
        self, port: str, party: str, parts: Iterable[pd.DataFrame | pa.Table]
    ) -> None:
        """Write this party's part of a table output given as consecutive parts of rows
        (pandas or Arrow, consumed one at a time), typed as declared."""
        columns = self.infos[port].columns_at(party)
        expected = [column.name for column in columns]

        def checked(part):
            names = part.column_names if isinstance(part, pa.Table) else list(part.columns)
            if names != expected:
                raise PartyFailure(
                    party, ValueError(f"output {port!r} has columns {names}, not {expected}")
                )
            return part

        stored = [_stored(column) for column in columns]
        target = self._target(port, party, "arrow")
        try:
            files.write_parts(target, (checked(part) for part in parts), stored, {"party": party})
        except (RunCancelled, PartyFailure):
            raise
        except ValueError as error:
            raise PartyFailure(party, ValueError(f"output {port!r}: {error}")) from None
        except Exception as error:  # computing a part happens at the party too
            raise PartyFailure(party, error) from error

    def write_json(self, port: str, party: str, obj: Any) -> None:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_jsonable)
        self._target(port, party, "json").write_text(text, encoding="utf-8")


def _stored(column: Column) -> files.TableColumn:
    return files.TableColumn(column.name, column.type, column.party, column.role)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
