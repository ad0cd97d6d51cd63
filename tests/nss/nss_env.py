"""Helpers for the NSS module and user database tests (tests/integration/test_nss*.py).

NssEnv: a private state directory and config, the udb_tool writer, nss_call (the module through
dlopen), nss_wrapper and the lead's Isolated namespace (real glibc: getent, id).
"""
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = pathlib.Path(os.environ.get("EL_BUILD", ROOT / "build"))
TOOLS = BUILD / "tests" / "nss"
NSS_SO = BUILD / "libnss_entra.so.2"
CLI = BUILD / "entra-login"
sys.path.insert(0, str(ROOT / "tests"))

from isolated import Isolated, q  # noqa: E402

TENANT = "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
CLIENT = "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
SAN = "build-san" in str(BUILD)


def oid(n):
    return f"{n:08x}-1111-4222-8333-444444444444"


def san_preload():
    """Sanitizer runtimes to preload into uninstrumented programs that load our sanitized .so."""
    if not SAN:
        return []
    out = []
    for name in ("libasan.so", "libubsan.so"):
        p = subprocess.run(["cc", "-print-file-name=" + name], capture_output=True, text=True).stdout.strip()
        if os.path.isabs(p):
            out.append(os.path.realpath(p))
    return out


class NssEnv:
    def __init__(self, tmp, **keys):
        self.tmp = pathlib.Path(tmp)
        self.state = self.tmp / "state"
        self.state.mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.tmp, 0o755)
        self.conf = self.tmp / "entra-login.conf"
        self.write_conf(**keys)

    def conf_text(self, **keys):
        conf = {"tenant_id": TENANT, "client_id": CLIENT, "domains": "contoso.com, fabrikam.example",
                "state_dir": str(self.state)}
        conf.update(keys)
        return "".join(f"{k} = {v}\n" for k, v in conf.items() if v is not None)

    def write_conf(self, **keys):
        self.conf.write_text(self.conf_text(**keys))
        os.chmod(self.conf, 0o644)

    @property
    def db(self):
        return self.state / "users.db"

    def env(self, **extra):
        env = dict(os.environ, ENTRA_LOGIN_CONF=str(self.conf))
        env.update(extra)
        return env

    def tool(self, *args, check=True):
        p = subprocess.run([str(TOOLS / "udb_tool"), str(self.conf), *map(str, args)], capture_output=True,
                           text=True, timeout=300)
        if check:
            assert p.returncode == 0, p.stdout + p.stderr
        return p

    def login(self, name, n=1, role="user", display="", tid=TENANT):
        return int(self.tool("login", name, oid(n), tid, role, display).stdout)

    def call(self, *args, env=None):
        """nss_call: returns (stdout lines, elapsed ns of the call)."""
        p = subprocess.run([str(TOOLS / "nss_call"), str(NSS_SO), *map(str, args)], capture_output=True,
                           text=True, timeout=60, env=env or self.env())
        assert p.returncode == 0, p.stdout + p.stderr
        ns = int(re.search(r"ns=(\d+)", p.stderr).group(1))
        return p.stdout.splitlines(), ns

    def first(self, *args):
        return self.call(*args)[0][0]

    def cli(self, *args):
        return subprocess.run([str(CLI), "--config", str(self.conf), *map(str, args)], capture_output=True,
                              text=True, timeout=60)

    # --- nss_wrapper: the module under the test process's own NSS view ---
    def wrapper_env(self, passwd_text, group_text):
        pw = self.tmp / "nw-passwd"
        gr = self.tmp / "nw-group"
        pw.write_text(passwd_text)
        gr.write_text(group_text)
        return self.env(LD_PRELOAD=":".join(san_preload() + ["libnss_wrapper.so"]),
                        NSS_WRAPPER_PASSWD=str(pw), NSS_WRAPPER_GROUP=str(gr),
                        NSS_WRAPPER_MODULE_SO_PATH=str(NSS_SO), NSS_WRAPPER_MODULE_FN_PREFIX="entra",
                        ASAN_OPTIONS="detect_leaks=0")

    # --- real glibc in a mount namespace ---
    def isolated(self, sources="files entra", passwd_extra="", group_extra=""):
        iso = Isolated(self.tmp / "iso", BUILD)
        iso.nsswitch(sources)
        iso.add_etc("entra-login.conf", self.conf_text())
        if passwd_extra:
            iso.add_etc("passwd", pathlib.Path("/etc/passwd").read_text() + passwd_extra)
        if group_extra:
            iso.add_etc("group", pathlib.Path("/etc/group").read_text() + group_extra)
        return iso

    @staticmethod
    def glibc_script(script):
        pre = san_preload()
        if pre:
            script = f"export LD_PRELOAD={q(':'.join(pre))} ASAN_OPTIONS=detect_leaks=0\n" + script
        return "unset ENTRA_LOGIN_CONF\n" + script
