"""The PrivPad version a node announces to its peers."""

from functools import cache
from importlib import metadata


@cache
def privpad_version() -> str:
    try:
        return metadata.version("privpad")
    except metadata.PackageNotFoundError:
        return "unknown"
