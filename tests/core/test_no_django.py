"""The engine imports no Django (nor the console or workflow layers)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_core_loads_no_django():
    probe = (
        "import sys, core, core.mpc.tensor, core.mpc.kernels.nonlinear, core.device\n"
        "layers = ('django', 'console', 'workflows')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in layers)\n"
        "print(','.join(bad))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"core imported {done.stdout.strip()}"
