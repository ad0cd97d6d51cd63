"""Smoke run of the NSS benchmark (tests/bench/run_nss.sh): every row is produced. The figures
themselves are for `make bench`, not pass/fail."""
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "nss"))
from nss_env import BUILD, ROOT, SAN, san_preload  # noqa: E402


def test_nss_benchmark_smoke():
    env = dict(os.environ, EL_BUILD=str(BUILD), NSS_BENCH_SIZES="10 200", NSS_BENCH_IMPORTED="200")
    if SAN:     # the bench program is sanitized too; glibc then loads the sanitized module into it
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    p = subprocess.run(["bash", str(ROOT / "tests" / "bench" / "run_nss.sh"), "2"], capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = {line[:22].strip(): line[22:].split() for line in p.stdout.splitlines() if len(line) > 22}
    for label in ("floor", "files (stock)", "entra 10 users", "entra 200 users", "entra 200 imported"):
        assert label in rows and len(rows[label]) == 8 and all(x.isdigit() for x in rows[label]), p.stdout
    assert "users.db with 200 users" in p.stdout


def test_nss_cold_process_benchmark_smoke():
    """The cold-process rows (tests/bench/run_nss_cold.sh): a whole process per lookup, each case
    answered (the driver fails the run otherwise), every row with its ratio, and the memory table."""
    env = dict(os.environ, EL_BUILD=str(BUILD), NSS_BENCH_SIZES="10 200")
    if SAN:     # getent and getpw1 are not instrumented: the sanitized module needs its runtimes first
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        env["NSS_COLD_PRELOAD"] = " ".join(san_preload())
    p = subprocess.run(["bash", str(ROOT / "tests" / "bench" / "run_nss_cold.sh"), "3"], capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = [line[:26].strip() for line in p.stdout.splitlines()]
    for label in ("local user (files)", "entra 10 hit", "entra 10 miss", "entra 200 hit", "entra 200 miss"):
        assert rows.count(label) == 3, p.stdout     # wall, CPU, memory tables
    for line in p.stdout.splitlines():
        if line.startswith("entra 200 hit"):
            assert all(x.replace(".", "").isdigit() for x in line[26:].split()), line
    assert "users.db with 200 users" in p.stdout
