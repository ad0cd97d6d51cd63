"""Runs every cmocka unit test binary that `make unit` built (one pytest case each)."""
import os
import pathlib
import subprocess

import pytest

BUILD = pathlib.Path(os.environ.get("EL_BUILD", pathlib.Path(__file__).resolve().parent.parent / "build"))
SRC = pathlib.Path(__file__).resolve().parent / "unit"
UNITS = sorted(p.stem for p in SRC.glob("test_*.c"))


@pytest.mark.parametrize("name", UNITS)
def test_unit_binary(name):
    exe = BUILD / "tests" / name
    assert exe.exists(), f"{exe} not built: run make unit"
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300,
                          cwd=str(SRC.parent.parent))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[  PASSED  ]" in proc.stdout + proc.stderr
