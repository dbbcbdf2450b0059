"""Full garbage collections kept off a run's critical path, in a process that executes runs.

A process that executes runs (a console's worker threads, a node service) holds Django, the
component library and the engine: hundreds of thousands of objects that Python's cyclic
collector walks at every full (generation 2) collection, whenever allocations trigger one, e.g.
in the middle of a run's start. Measured with the timeline's `gc` marks
(`benchmarks/network_console.py`, loaded machine): 90-110 ms of CPU per full collection at a
member node, falling in the start of the third run at both members (their workers' start took
0.33 s instead of 0.06-0.1 s), and 190-245 ms in a console during the components.

`settle_after_first_run()`: once per process, after its first run (by then everything a run
imports is loaded), collect, then freeze what is alive (`gc.freeze`): later full collections
walk only what later runs allocate. What is frozen (modules, classes, caches) lives as long as
the process anyway; a cycle of the first run that was still alive then and dies later is never
collected, a bounded one-time cost. Reference counting frees frozen objects as usual.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_settled = False


def settle_after_first_run() -> bool:
    """Collect and freeze the heap the first time this process calls it (see the module
    docstring); whether it did now."""
    global _settled
    with _lock:
        if _settled:
            return False
        _settled = True
    gc.collect()
    gc.freeze()
    return True
