"""Keep BLAS single-threaded inside party threads of a local simulation.

Simulated parties already run concurrently, one thread each; if every party's float matmul
(`ring_matmul`) also starts its own BLAS thread team, the teams spin against each other and a
512 x 512 ring matmul gets ~3x slower on two cores. OpenBLAS >= 0.3.27 offers a per-thread
setting, which numpy's bundled OpenBLAS exports; without it this is a no-op.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import cache

import numpy as np


@cache
def _setter():
    libs = glob.glob(
        os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*.so*")
    )
    for path in libs:
        try:
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
        return fn
    return None


def limit_blas_threads(count: int = 1) -> bool:
    """Limit BLAS threads for the calling thread only; True if the setting was applied."""
    setter = _setter()
    if setter is None:
        return False
    setter(count)
    return True
