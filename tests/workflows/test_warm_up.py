"""Opening a pipeline with a PSI node warms the PSI workers when runs execute in-process."""

from __future__ import annotations

import threading

from workflows import services


def test_it_warms_up_only_for_psi_pipelines_run_in_this_process(settings, monkeypatch):
    warmed = threading.Event()
    monkeypatch.setattr(services, "warm_shared_pool", warmed.set)
    settings.PRIVPAD_RUN_EXECUTION = "embedded"
    services.warm_up_engines({"nodes": [{"id": "r", "component": "read/dataset"}]})
    assert not warmed.wait(0.2)
    settings.PRIVPAD_RUN_EXECUTION = "worker"
    services.warm_up_engines({"nodes": [{"id": "p", "component": "data_prep/psi"}]})
    assert not warmed.wait(0.2)
    settings.PRIVPAD_RUN_EXECUTION = "embedded"
    services.warm_up_engines({"nodes": [{"id": "p", "component": "data_prep/psi"}]})
    assert warmed.wait(5)
