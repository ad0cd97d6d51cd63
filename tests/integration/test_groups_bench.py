"""Smoke run of the mapped-groups benchmark (tests/bench/run_groups.sh, issue 21): every row is
produced and the 200-group user gets all of them from getgrouplist. Figures are for
`make bench`, not pass/fail."""
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "nss"))
from nss_env import BUILD, ROOT, SAN  # noqa: E402


def test_group_benchmark_smoke():
    env = dict(os.environ, EL_BUILD=str(BUILD), GROUP_BENCH_USERS="500", GROUP_BENCH_GROUPS="250")
    if SAN:
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    p = subprocess.run(["bash", str(ROOT / "tests" / "bench" / "run_groups.sh"), "2"], capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = {line[:26].strip(): line[26:].split() for line in p.stdout.splitlines()
            if len(line) > 26 and all(x.isdigit() for x in line[26:].split())}
    assert len(rows["floor"]) == 6, p.stdout
    big = [v for k, v in rows.items() if k.startswith("entra grp-0")]
    assert big and len(big[0]) == 6 and int(big[0][5]) == 1 + 200 + 2, p.stdout   # own gid, 200 mapped, 2 role
    assert "getgrnam" in p.stdout and "x floor" in p.stdout
