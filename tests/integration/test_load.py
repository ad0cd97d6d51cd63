"""Load: many concurrent logins against the fake Entra ID, and `entra-login refresh` racing logins.

1. EL_LOAD_N (default 200) pamtester logins at once, into one user database: mixed users, mixed
   roles (admin / user from the token's roles claim), pasted tokens plus EL_LOAD_DEVICE (10)
   device-code logins (auto-approved by the fake, one distinct user each), and a few users logging
   in several times concurrently. Every login succeeds; every user is recorded once, with its role;
   every UID is distinct.
2. EL_LOAD_RACES (default 100) `entra-login refresh` runs racing as many new logins, under a
   configuration that makes refresh promote users (static_admins): every refresh and login
   succeeds, no user is lost or duplicated, UIDs stay distinct and stable, promotions stick.

Figures (logins/s, p50/p99 latency) go to $EL_BUILD/reports/load.txt (`make bench` prints them;
tests/bench/run_load.sh runs this file alone).
"""
import concurrent.futures
import os
import statistics
import subprocess
import threading
import time

import pytest

from conftest import BUILD, CLI, PAM_MODULE, asan_preload, token_parts, write_config
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE
from isolated import Isolated, q
from syslog_capture import SyslogCapture

N = int(os.environ.get("EL_LOAD_N", "200"))
N_DEVICE = int(os.environ.get("EL_LOAD_DEVICE", "10"))
RACES = int(os.environ.get("EL_LOAD_RACES", "100"))
REPEAT_USERS = 5          # users that log in 4 times each, concurrently
TIMEOUT = 240
FIGURES = {}


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def write_report():
    d = BUILD / "reports"
    d.mkdir(parents=True, exist_ok=True)
    lines = ["%-44s %10s %8s %8s %8s %8s" % ("phase", "logins", "wall s", "per s", "p50 s", "p99 s")]
    for name, f in FIGURES.items():
        lines.append("%-44s %10d %8.2f %8.1f %8.3f %8.3f" % (name, f["n"], f["wall"], f["n"] / f["wall"],
                                                            f["p50"], f["p99"]))
    lines.append(f"(cores: {os.cpu_count()}; build: {BUILD.name}; fake Entra ID: one Python process)")
    text = "\n".join(lines) + "\n"
    (d / "load.txt").write_text(text)
    print("\n" + text)


def users_table(conf):
    res = subprocess.run([str(CLI), "--config", str(conf), "users"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    rows = {}
    names = []
    for line in res.stdout.splitlines()[1:]:
        f = line.split()
        names.append(f[0])
        rows[f[0]] = {"uid": int(f[1]), "role": f[2], "oid": f[3]}
    assert len(names) == len(set(names)), "a user listed twice"
    uids = [r["uid"] for r in rows.values()]
    assert len(uids) == len(set(uids)), "two users share a UID"
    return rows


class NsPam:
    """pamtester with the real libpam and /etc/pam.d/<service> from an overlay, in a mount namespace
    kept alive by a holder process and entered with nsenter. (pam_wrapper cannot: its per-process
    config dir is /tmp/pam.<one character>, so at most ~60 of them run at once.)"""

    def __init__(self, tmp, service, lines):
        self.service = service
        self.iso = Isolated(tmp, BUILD)
        self.iso.add_etc(f"pam.d/{service}", "\n".join(lines) + "\n")
        # Every helper's log line (why a login failed) lands in self.syslog: the holder's
        # namespace has the capture socket over /dev/log, and nsenter joins that namespace.
        self.syslog = SyslogCapture(tmp)
        hold = " ".join(q(a) for a in self.syslog.wrap(["sleep", "3600"])[1:])
        self.holder = self.iso.popen(f"exec unshare {hold}", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.env = dict(os.environ)
        pre = asan_preload()
        if pre:
            self.env.update(LD_PRELOAD=":".join(pre), ASAN_OPTIONS="detect_leaks=0")
        deadline = time.monotonic() + 60
        while subprocess.run(self.enter("sh", "-c", f"test -f /etc/pam.d/{service} && test -S /dev/log")).returncode:
            assert time.monotonic() < deadline and self.holder.poll() is None, "namespace did not come up"
            time.sleep(0.05)

    def enter(self, *cmd):
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--", *cmd]

    def pamtester(self, user, ops):
        return self.enter("pamtester", "-v", self.service, user, *ops)

    def close(self):
        self.holder.kill()
        self.holder.wait()
        self.syslog.close()

    def log_of(self, user):
        """The helper's syslog lines that name user (for a failure's message)."""
        return [text for _, _, text in self.syslog.messages() if f"'{user}'" in text]


class Load:
    def __init__(self, fake, tmp, conf):
        self.fake = fake
        self.pam = NsPam(tmp, "entra-load", [f"auth required {PAM_MODULE} config={conf}",
                                             f"account required {PAM_MODULE} config={conf}"])

    def close(self):
        self.pam.close()

    def mint(self, user, role):
        return self.fake.mint("access_v2", upn=user, roles=[role])

    def token_login(self, user, tok):
        t0 = time.monotonic()
        res = subprocess.run(self.pam.pamtester(user, ("authenticate", "acct_mgmt")), input=token_parts(tok),
                             text=True, capture_output=True, env=self.pam.env, timeout=TIMEOUT)
        return user, res, time.monotonic() - t0

    def device_login(self, user, role, issued_before):
        """Queue the fake's approval for the next code, start the login, and wait until its code is
        issued, so each queued approval goes to its own login (the caller serializes these)."""
        self.fake.auto("approve", upn=user, roles=[role])
        t0 = time.monotonic()
        p = subprocess.Popen(self.pam.pamtester(user, ("authenticate", "acct_mgmt")), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.pam.env)
        p.stdin.write("\n\n")
        p.stdin.flush()
        deadline = time.monotonic() + 60
        while len(self.fake.codes()) <= issued_before and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.02)
        return p, t0


def run_logins(load, jobs, device_jobs):
    """jobs: [(user, role)] pasted-token logins; device_jobs: [(user, role)]. All at once.
    Returns (results [(user, CompletedProcess-like, seconds)], wall seconds)."""
    results = []
    tokens = [(u, load.mint(u, r)) for u, r in jobs]     # minted first: the logins start together
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs) + 1) as ex:
        futs = [ex.submit(load.token_login, u, tok) for u, tok in tokens]
        # Device-code logins, started one after another (each approval must meet its own code)
        # while the token logins run.
        procs = []
        for u, r in device_jobs:
            procs.append((u, *load.device_login(u, r, len(load.fake.codes()))))
        for f in futs:
            results.append(f.result())
        for u, p, start in procs:
            out, err = p.communicate(timeout=TIMEOUT)
            results.append((u, subprocess.CompletedProcess(p.args, p.returncode, out, err),
                            time.monotonic() - start))
    return results, time.monotonic() - t0


def record(name, results, wall):
    lat = [t for _, _, t in results]
    FIGURES[name] = {"n": len(results), "wall": wall, "p50": pct(lat, 50), "p99": pct(lat, 99)}


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if FIGURES:
        write_report()


@pytest.fixture
def make_load(fake):
    made = []

    def make(tmp, conf):
        made.append(Load(fake, tmp, conf))
        return made[-1]
    yield make
    for load in made:
        load.close()


def test_concurrent_logins_and_refresh_races(tmp_path, fake, state_dir, make_load):
    conf = write_config(tmp_path / "entra-login.conf", fake, state_dir, http_timeout="20", login_timeout="120",
                        role_sources="claims")
    load = make_load(tmp_path / "ns-a", conf)

    # Phase 1: N logins at once.
    jobs, expect = [], {}
    n_single = N - N_DEVICE - REPEAT_USERS * 4
    for i in range(n_single):
        user, role = f"load{i:04d}@contoso.com", ADMIN_APP_ROLE if i % 5 == 0 else USER_APP_ROLE
        jobs.append((user, role))
        expect[user] = "admin" if role == ADMIN_APP_ROLE else "user"
    for i in range(REPEAT_USERS):
        user = f"again{i}@fabrikam.example"
        jobs += [(user, USER_APP_ROLE)] * 4
        expect[user] = "user"
    device = []
    for i in range(N_DEVICE):
        user, role = f"dev{i:02d}@contoso.com", ADMIN_APP_ROLE if i % 2 else USER_APP_ROLE
        device.append((user, role))
        expect[user] = "admin" if role == ADMIN_APP_ROLE else "user"
    results, wall = run_logins(load, jobs, device)
    failed = [(u, r.returncode, (r.stdout + r.stderr)[-300:], load.pam.log_of(u)) for u, r, _ in results
              if r.returncode != 0]
    assert not failed, failed[:5]
    # The capture that would explain a failure sees the helpers (a failure's message is not blind).
    assert any("authenticated" in t for t in load.pam.log_of("load0000@contoso.com")), load.pam.log_of("load0000@contoso.com")
    record(f"phase 1: {len(results)} concurrent logins ({N_DEVICE} device code)", results, wall)
    rows = users_table(conf)
    assert set(rows) == set(expect), (set(expect) ^ set(rows))
    assert {u: r["role"] for u, r in rows.items()} == expect
    uids_before = {u: r["uid"] for u, r in rows.items()}

    # Phase 2: refresh vs login. static_admins promotes every 4th phase-1 user at the next refresh
    # (static is asked first; claims cannot decide without a token, so the others keep their role).
    promoted = sorted(u for u, role in expect.items() if role == "user")[::4]
    conf_b = write_config(tmp_path / "entra-login-b.conf", fake, state_dir, http_timeout="20",
                          login_timeout="120", role_sources="static, claims", static_admins=", ".join(promoted))
    load_b = make_load(tmp_path / "ns-b", conf_b)
    new_jobs = [(f"race{i:04d}@contoso.com", ADMIN_APP_ROLE if i % 3 == 0 else USER_APP_ROLE) for i in range(RACES)]

    def refresh():
        t0 = time.monotonic()
        res = subprocess.run([str(CLI), "--config", str(conf_b), "refresh"], capture_output=True, text=True,
                             timeout=TIMEOUT)
        return "refresh", res, time.monotonic() - t0

    tokens = [(u, load_b.mint(u, r)) for u, r in new_jobs]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * RACES) as ex:
        futs = []
        for u, tok in tokens:
            futs.append(ex.submit(load_b.token_login, u, tok))
            futs.append(ex.submit(refresh))
        results = [f.result() for f in futs]
    wall = time.monotonic() - t0
    failed = [(u, r.returncode, (r.stdout + r.stderr)[-300:], load_b.pam.log_of(u)) for u, r, _ in results
              if r.returncode != 0]
    assert not failed, failed[:5]
    record(f"phase 2: {RACES} logins racing {RACES} refreshes", [x for x in results if x[0] != "refresh"], wall)
    rows = users_table(conf_b)
    for u, r in new_jobs:
        expect[u] = "admin" if r == ADMIN_APP_ROLE else "user"
    for u in promoted:
        expect[u] = "admin"
    assert set(rows) == set(expect), (set(expect) ^ set(rows))
    assert {u: r["role"] for u, r in rows.items()} == expect
    assert all(rows[u]["uid"] == uid for u, uid in uids_before.items()), "a UID changed"
    # One more refresh on the quiet database: nothing left to change.
    res = subprocess.run([str(CLI), "--config", str(conf_b), "refresh"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and " 0 changed" in res.stdout, res.stdout + res.stderr
