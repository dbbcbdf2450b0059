"""The README's `make_keys.py`, as written there, makes key pairs the engine's TLS accepts."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from core.comm.tls import TlsConfig, fingerprint

ROOT = Path(__file__).resolve().parents[3]


def test_the_readme_key_script_makes_private_keys_and_pinnable_certificates(tmp_path):
    text = (ROOT / "README.md").read_text()
    script = re.search(r"```python\n(# make_keys\.py.*?)```", text, re.S).group(1)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.umask(0o022),  # a usual shell's: the script itself keeps keys private
    )
    assert done.returncode == 0, done.stderr
    names = ["alice", "bob", "carol"]
    for name in names:
        assert stat.S_IMODE((tmp_path / f"{name}.key").stat().st_mode) == 0o600
    config = TlsConfig.from_dict(
        {
            "key": str(tmp_path / "alice.key"),
            "cert": str(tmp_path / "alice.crt"),
            "peers": {p.capitalize(): str(tmp_path / f"{p}.crt") for p in names[1:]},
        },
        ["Bob", "Carol"],
    )
    assert config.identity_problem("Bob", (tmp_path / "bob.crt").read_bytes()) is None
    assert fingerprint(config.cert) != fingerprint(config.peer_certs["Bob"])
