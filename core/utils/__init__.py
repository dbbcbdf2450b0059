"""Utilities of the engine API (`core.utils.testing`)."""

from core.utils import testing

__all__ = ["testing"]
