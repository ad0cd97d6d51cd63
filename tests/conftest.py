"""Shared pytest fixtures: the build, the fake Entra ID, configs, PAM stacks, pamtester.

Every test talks to 127.0.0.1 only and writes only below its tmp_path.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("EL_BUILD", ROOT / "build"))
sys.path.insert(0, str(ROOT / "tests" / "fakeidp"))

from entra_fake import CLIENT_ID, TENANT, FakeEntra  # noqa: E402
from isolated import san_preload  # noqa: E402
from sshd_env import SshdEnv, host_config  # noqa: E402
from syslog_capture import SyslogCapture  # noqa: E402

PAM_SO = BUILD / "pam_entra.so"
# The module execs its root-owned helper (pam/helper_run.c); the build's copy, not the installed
# one. PAM_MODULE is what stacks write after the control word: path plus helper= argument.
PAM_HELPER = BUILD / "pam-helper"
PAM_MODULE = f"{PAM_SO} helper={PAM_HELPER}"
# EL_PAM_WRAPPER="valgrind ... --error-exitcode=99" runs every pamtester under it (make valgrind);
# exit code 99 from the wrapper fails the test whatever it expected.
PAM_WRAPPER_CMD = os.environ.get("EL_PAM_WRAPPER", "").split()
WRAPPER_ERROR_EXIT = 99
NSS_MODULE = BUILD / "libnss_entra.so.2"
CLI = BUILD / "entra-login"


def asan_preload():
    """LD_PRELOAD entries for running our sanitized .so inside uninstrumented programs."""
    return san_preload(BUILD)


# make check runs pytest with -n (pytest-xdist, --dist loadgroup). A module's tests stay on one
# worker (module fixtures are set up once). The modules that run `make` on the tree or the build
# directory (packages, demo, selinux policy) or share the installed-package namespace and its
# fixed paths (/run/entra-test) form one group, "pkg", run one after another on one worker; they
# go first, as the longest group, so the other worker takes the rest meanwhile.
SERIAL_PKG_MODULES = {"test_packaging.py", "test_rpm.py", "test_selinux.py", "test_installed.py",
                      "test_installed_cert.py", "test_installed_env.py", "test_upgrade.py", "test_demo.py"}


def xdist_group_of(item):
    name = item.path.name
    return "pkg" if name in SERIAL_PKG_MODULES else name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group_of(item)))
    items.sort(key=lambda item: xdist_group_of(item) != "pkg")      # stable: keeps the order within


# Sanitizer builds: where our executables write their reports (tests/san/san_hooks.c).
SAN_LOG_DIR = pathlib.Path("/tmp/entra-login-san")


@pytest.fixture(autouse=True)
def sanitizer_reports():
    """Under make check-san: a sanitizer report written by one of our executables while a test ran
    fails that test, whatever the test expected of the program's exit (the PAM helper's stderr is
    /dev/null, and a refusal looks the same as a crash to a test that expects a refusal)."""
    if "build-san" not in str(BUILD):
        yield
        return
    SAN_LOG_DIR.mkdir(exist_ok=True)
    os.chmod(SAN_LOG_DIR, 0o1777)      # the CLI runs as test users too
    before = set(os.listdir(SAN_LOG_DIR))
    yield
    new = sorted(set(os.listdir(SAN_LOG_DIR)) - before)
    if new:
        text = "".join(f"--- {n}\n" + (SAN_LOG_DIR / n).read_text(errors="replace")[-6000:] for n in new[:3])
        pytest.fail(f"sanitizer report(s) from our programs during this test: {new}\n{text}", pytrace=False)


def write_config(path, fake=None, state_dir=None, **keys):
    """Write an entra-login config (root-owned, 0644). keys override defaults; None drops a key."""
    conf = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "domains": "contoso.com, fabrikam.example",
        "clock_skew": "120",
        "http_timeout": "5",
        "login_timeout": "20",
    }
    if fake is not None:
        conf.update(authority=fake.authority, ca_file=fake.ca_file, imds_url=fake.imds_url,
                    arm_url=fake.arm_url)
    if state_dir is not None:
        conf["state_dir"] = str(state_dir)
    conf.update(keys)
    text = "".join(f"{k} = {v}\n" for k, v in conf.items() if v is not None)
    path = pathlib.Path(path)
    path.write_text(text)
    os.chmod(path, 0o644)
    return path


@pytest.fixture(scope="session")
def fake_material(tmp_path_factory):
    """Keys and certificates generated once per run, copied into each test's fake."""
    d = tmp_path_factory.mktemp("fake-material")
    fe = FakeEntra().start(d)
    fe.stop()
    return d


@pytest.fixture
def fake(tmp_path, fake_material):
    """A running fake Entra ID with Entra's device-code values (interval 5 s, expires_in 900 s).
    Approve before the user presses Enter (fake.auto(..) with after_polls=0) and the first poll
    succeeds; a test that needs pending polls to be quick overrides the interval explicitly
    (fake.set_interval(..)) and says why."""
    fe = FakeEntra().start(tmp_path / "fake", material_from=fake_material)
    yield fe
    fe.stop()


@pytest.fixture
def state_dir(tmp_path):
    d = tmp_path / "state"
    d.mkdir(mode=0o755)
    return d


@pytest.fixture
def public_state_dir():
    """A state directory for sshd tests: the user database must be readable by the logged-in
    user's own processes (their `id` resolves names through NSS), so it may not sit below
    pytest's 0700 tmp_path."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="entra-state-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sshd(tmp_path, fake, public_state_dir):
    """An sshd of tests/sshd_env.py on the fake tenant (host_config); a module that needs
    another configuration defines its own `sshd` fixture."""
    env = SshdEnv(tmp_path, BUILD, host_config(fake, public_state_dir)).start()
    yield env
    env.stop()


@pytest.fixture
def config(tmp_path, fake, state_dir):
    """Path of a config pointing at the fake; call config_with(**keys) for variants."""
    return write_config(tmp_path / "entra-login.conf", fake, state_dir)


@pytest.fixture
def config_with(tmp_path, fake, state_dir):
    def make(**keys):
        return write_config(tmp_path / "entra-login.conf", fake, state_dir, **keys)
    return make


class PamStack:
    """A PAM service file in a private directory, run through pam_wrapper + pamtester."""

    def __init__(self, directory, service="entra-test"):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.service = service
        self.prefix = None   # e.g. SyslogCapture.wrap: run pamtester inside a wrapper
        self.extra_env = {}

    def write(self, lines):
        (self.dir / self.service).write_text("\n".join(lines) + "\n")
        return self

    def env(self):
        env = dict(os.environ)
        env.update(PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=str(self.dir))
        env["LD_PRELOAD"] = ":".join(asan_preload() + ["libpam_wrapper.so"])
        env.update(self.extra_env)
        return env

    def run(self, user, ops=("authenticate",), stdin="", timeout=60):
        """pamtester: returns CompletedProcess (stdout = info text, stderr = prompts + result)."""
        argv = [*PAM_WRAPPER_CMD, "pamtester", "-v", self.service, user, *ops]
        if self.prefix:
            argv = self.prefix(argv)
        res = subprocess.run(argv, input=stdin,
                             text=True, capture_output=True, env=self.env(), timeout=timeout)
        if PAM_WRAPPER_CMD and res.returncode == WRAPPER_ERROR_EXIT:
            pytest.fail(f"{PAM_WRAPPER_CMD[0]} reported errors in pamtester:\n{res.stderr[-6000:]}")
        return res

    def popen(self, user, ops=("authenticate",)):
        argv = [*PAM_WRAPPER_CMD, "pamtester", "-v", self.service, user, *ops]
        return subprocess.Popen(self.prefix(argv) if self.prefix else argv,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env())


@pytest.fixture
def pam_stack(tmp_path):
    return PamStack(tmp_path / "pam.d")


@pytest.fixture
def syslog(tmp_path, pam_stack):
    """Every syslog line (all priorities) of pam_stack.run()'s pamtester: see syslog_capture.py."""
    cap = SyslogCapture(tmp_path)
    pam_stack.prefix = cap.wrap
    # pam_wrapper's own pam_syslog writes only LOG_ERR and above to stderr; with this it calls
    # libpam's pam_vsyslog, i.e. syslog(3), for every priority.
    pam_stack.extra_env["PAM_WRAPPER_USE_SYSLOG"] = "1"
    yield cap
    cap.close()


def token_parts(token, size=1000):
    """The answers a user gives for a pasted token: parts of <= size bytes, then an empty line."""
    parts = [token[i:i + size] for i in range(0, len(token), size)]
    return "\n".join(parts) + "\n\n"


@pytest.fixture(scope="session")
def built_rpms():
    """`make rpm` once per session (test_packaging.py and test_rpm.py share it): the main package,
    the -selinux subpackage and the seconds the build took."""
    import re
    import time
    if os.geteuid() != 0:
        pytest.skip("package tests need root")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS", "SAN", "O",
                        "CFLAGS", "LDFLAGS")}
    build = BUILD.resolve()
    t0 = time.monotonic()
    res = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "rpm", f"O={build}"],
                         env=env, capture_output=True, text=True, timeout=600)
    secs = time.monotonic() - t0
    logs = build / "pkg-logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "rpm.log").write_text(res.stdout + res.stderr)
    assert res.returncode == 0, "make rpm failed:\n" + (res.stdout + res.stderr)[-4000:]
    # compiled in the package's own tree, not taken from $(O) of the calling make
    assert re.search(r"(  CC      |-c -o build/)common/base/", res.stdout + res.stderr), "make rpm compiled nothing"
    rpms = build / "pkg" / "rpm" / "RPMS"
    main = sorted(rpms.glob("*/entra-login-[0-9]*.rpm"))
    selinux = sorted(rpms.glob("noarch/entra-login-selinux-[0-9]*.noarch.rpm"))
    assert len(main) == 1 and len(selinux) == 1, sorted(rpms.glob("*/*.rpm"))
    assert len(list(rpms.glob("*/*.rpm"))) == 2, sorted(rpms.glob("*/*.rpm"))
    return {"rpm": main[0], "selinux": selinux[0], "secs": secs}
