"""The heap of a process that executes runs is settled once, after its first run."""

from __future__ import annotations

import gc

from workflows import heap


def test_the_first_call_collects_and_freezes_later_ones_do_nothing(monkeypatch):
    monkeypatch.setattr(heap, "_settled", False)
    frozen = gc.get_freeze_count()
    try:
        assert heap.settle_after_first_run() is True
        assert gc.get_freeze_count() > frozen
        assert heap.settle_after_first_run() is False
    finally:
        gc.unfreeze()  # this test process's heap, as it was
