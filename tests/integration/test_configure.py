"""entra-login configure: from flags or a terminal to a working configuration, against the fake
Entra ID and its IMDS/ARM.

- in a mount namespace with a writable /etc: `configure --tenant --client-id --domains` (plus the
  fake's endpoints) writes /etc/entra-login.conf and a device-code login then works, no other edit;
- interactive mode through a pty offers the tenant from the managed identity's token, asks again
  after a bad answer, and writes the same file as the flags;
- a bad tenant (common, not a GUID, the placeholder), a value with a newline: refused, nothing
  written; a working configuration is kept without --force, a placeholder one is replaced;
- IMDS: a stalled IMDS costs at most a few seconds; with role source arm, a VM identity that may
  not read role assignments is reported (exit 1).
"""
import os
import pathlib
import pty
import re
import select
import subprocess
import time

import pytest

from conftest import CLI, PAM_MODULE, PamStack, ROOT
from entra_fake import CLIENT_ID, TENANT, USER_APP_ROLE
from isolated import q

USER = "alice@contoso.com"
NIL = "00000000-0000-0000-0000-000000000000"


def fake_flags(fake, state_dir, **extra):
    flags = ["--authority", fake.authority, "--ca-file", fake.ca_file, "--imds-url", fake.imds_url,
             "--arm-url", fake.arm_url, "--state-dir", str(state_dir), "--login-timeout", "20"]
    for k, v in extra.items():
        flags += ["--" + k.replace("_", "-"), v]
    return flags


def required(tenant=TENANT, client=CLIENT_ID, domains="contoso.com"):
    return ["--tenant", tenant, "--client-id", client, "--domains", domains]


def configure(path, *args, stdin="", timeout=60, env=None):
    return subprocess.run([str(CLI), "--config", str(path), "configure", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=timeout, env=env)


def body(path):
    """The settings of a file (its comments carry the time and the path)."""
    return [line for line in pathlib.Path(path).read_text().splitlines() if not line.startswith("#")]


def test_configure_in_namespace_then_device_login(tmp_path, fake, state_dir):
    """/etc writable through an overlay in a private mount namespace; configure writes the default
    path, and pam_entra.so with config=/etc/entra-login.conf signs alice in by device code."""
    upper, work = tmp_path / "etc-upper", tmp_path / "etc-work"
    upper.mkdir()
    work.mkdir()
    stack = PamStack(tmp_path / "pam.d", service="configure-test").write(
        [f"auth required {PAM_MODULE} config=/etc/entra-login.conf mode=device"])
    fake.auto("approve", upn=USER, roles=[USER_APP_ROLE])
    cmd = " ".join(q(a) for a in [CLI, "configure", *required(), *fake_flags(fake, state_dir)])
    script = "\n".join([
        "set -e", "mount --make-rprivate /",
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc",
        "rm -f /etc/entra-login.conf /etc/entra-login.conf.bak",
        "set +e", f"env -u LD_PRELOAD {cmd} </dev/null; echo \"@@configure=$?\"",
        "stat -c '@@mode=%a %u' /etc/entra-login.conf",
        f"echo | pamtester -v {stack.service} {USER} authenticate; echo \"@@pam=$?\"",
    ])
    p = subprocess.run(["unshare", "--mount", "bash", "-c", script], env=stack.env(), capture_output=True,
                       text=True, timeout=120)
    out = p.stdout + p.stderr
    assert "@@configure=0" in out, out
    assert "@@mode=644 0" in out, out
    assert f"managed identity" in out and f"in tenant {TENANT}" in out, out
    assert "wrote /etc/entra-login.conf" in out and "reachable" in out and "next steps" in out, out
    assert "@@pam=0" in out and "successfully authenticated" in out, out
    written = (upper / "entra-login.conf").read_text()
    assert f"tenant_id = {TENANT}\n" in written and f"client_id = {CLIENT_ID}\n" in written
    assert (upper / "entra-login.conf").stat().st_mode & 0o777 == 0o644


class Pty:
    """A program on a pseudo-terminal: read until a pattern, answer a line."""

    def __init__(self, argv, env=None):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.out = ""

    def expect(self, pattern, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.out)
            if m:
                self.out = self.out[m.end():]
                return m
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data and self.proc.poll() is not None:
                    break
                self.out += data.decode(errors="replace")
        raise AssertionError(f"no {pattern!r} in {self.out!r}")

    def send(self, line):
        os.write(self.master, line.encode() + b"\r")

    def finish(self, timeout=60):
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.out += os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    pass
        rc = self.proc.wait(timeout=5)
        os.close(self.master)
        return rc


def test_interactive_asks_and_writes_the_same_file(tmp_path, fake, state_dir):
    flags = fake_flags(fake, state_dir)
    by_flags = tmp_path / "flags.conf"
    p = configure(by_flags, *required(), *flags)
    assert p.returncode == 0, p.stdout + p.stderr
    asked = tmp_path / "asked.conf"
    t = Pty([str(CLI), "--config", str(asked), "configure", *flags])
    t.expect(r"Tenant id \(a GUID\) \[" + TENANT + r"\]: ")         # offered from the IMDS token
    t.send("")                                                      # accept the offer
    t.expect(r"Application \(client\) id[^:]*: ")
    t.send("not-a-guid")
    t.expect(r"key 'client_id': a GUID")                            # the parser's own message
    t.expect(r"Application \(client\) id[^:]*: ")
    t.send(CLIENT_ID)
    t.expect(r"User domains[^:]*: ")
    t.send("contoso.com")
    t.expect(r"Role sources[^:]*: ")
    t.send("")
    t.expect(r"Administrators[^:]*: ")
    t.send("")
    assert t.finish() == 0, t.out
    assert "next steps" in t.out
    assert body(asked) == body(by_flags)
    assert asked.stat().st_mode & 0o777 == 0o644


def test_interactive_end_of_input_writes_nothing(tmp_path, fake, state_dir):
    path = tmp_path / "eof.conf"
    t = Pty([str(CLI), "--config", str(path), "configure", *fake_flags(fake, state_dir)])
    t.expect(r"Tenant id")
    os.write(t.master, b"\x04")                 # ^D on an empty line: end of input
    assert t.finish() == 2
    assert not path.exists()


@pytest.mark.parametrize("args,message", [
    (required(tenant="common"), "multi-tenant 'common' is refused"),
    (required(tenant="organizations"), "multi-tenant 'organizations' is refused"),
    (required(tenant="6e2d6a5c-7f3b-4a8e-9c41"), "key 'tenant_id': a GUID"),
    (required(tenant=NIL), "is a placeholder"),
    (required(client="x"), "key 'client_id': a GUID"),
    (required(domains="contoso.com\nstate_dir = /tmp"), "control characters"),
    (required(domains="con:toso.com"), "key 'domains'"),
    (required() + ["--role-sources", "claims, magic"], "key 'role_sources'"),
    (required() + ["--bogus", "1"], "unknown option"),
    (required() + ["--tenant", TENANT], "given twice"),
])
def test_bad_values_are_refused_and_nothing_written(tmp_path, fake, state_dir, args, message):
    path = tmp_path / "bad.conf"
    p = configure(path, *args, *fake_flags(fake, state_dir))
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr, p.stderr
    assert not path.exists()
    assert not list(tmp_path.glob("bad.conf*")), "no temp file left behind"


def test_bad_tenant_leaves_existing_file_alone(tmp_path, fake, state_dir):
    path = tmp_path / "keep.conf"
    path.write_text("tenant_id = broken\n")
    path.chmod(0o644)
    p = configure(path, *required(tenant="common"), *fake_flags(fake, state_dir), "--force")
    assert p.returncode == 2
    assert path.read_text() == "tenant_id = broken\n"


def test_missing_tenant_without_terminal_names_the_imds_tenant(tmp_path, fake, state_dir):
    path = tmp_path / "m.conf"
    p = configure(path, "--client-id", CLIENT_ID, "--domains", "contoso.com", *fake_flags(fake, state_dir))
    assert p.returncode == 2
    assert f"--tenant is required (this VM's managed identity is in tenant {TENANT})" in p.stderr, p.stderr
    assert not path.exists()


def test_working_config_needs_force_placeholder_does_not(tmp_path, fake, state_dir):
    path = tmp_path / "w.conf"
    flags = fake_flags(fake, state_dir)
    assert configure(path, *required(), *flags).returncode == 0
    first = path.read_text()
    p = configure(path, *required(domains="fabrikam.example"), *flags)
    assert p.returncode == 1 and "working configuration" in p.stderr and "--force" in p.stderr
    assert path.read_text() == first
    p = configure(path, *required(domains="fabrikam.example"), *flags, "--force")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "domains = fabrikam.example\n" in path.read_text()
    assert pathlib.Path(str(path) + ".bak").read_text() == first
    # The package's annotated file holds placeholder ids: replaced without --force, kept as .bak.
    shipped = (ROOT / "conf" / "entra-login.conf").read_text()
    path.write_text(shipped)
    p = configure(path, *required(), *flags)
    assert p.returncode == 0 and "placeholder" in p.stdout, p.stdout + p.stderr
    assert pathlib.Path(str(path) + ".bak").read_text() == shipped


def test_default_path_follows_entra_login_conf(tmp_path, fake, state_dir):
    path = tmp_path / "env.conf"
    env = dict(os.environ, ENTRA_LOGIN_CONF=str(path))
    p = subprocess.run([str(CLI), "configure", *required(), *fake_flags(fake, state_dir)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"client_id = {CLIENT_ID}\n" in path.read_text()


def test_stalled_imds_costs_little(tmp_path, fake, state_dir):
    fake.fault("imds", "stall", seconds=30)
    path = tmp_path / "s.conf"
    t0 = time.monotonic()
    p = configure(path, *required(), *fake_flags(fake, state_dir))
    took = time.monotonic() - t0
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no Azure managed identity" in p.stdout
    assert took < 10, took


def test_arm_source_checks_the_vm_identity(tmp_path, fake, state_dir):
    flags = fake_flags(fake, state_dir, role_sources="claims, arm")
    path = tmp_path / "a.conf"
    p = configure(path, *required(), *flags)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "can read role assignments: ok" in p.stdout
    # The identity may read only elsewhere: ARM answers 403; written, but reported, exit 1.
    fake.set_vm(reader_scope="other_rg")
    p = configure(path, *required(), *flags, "--force")
    assert p.returncode == 1, (fake.state(), [(e["path"], e["status"]) for e in fake.requests("arm")])
    assert "may not read role assignments" in p.stdout and "--role Reader" in p.stdout, p.stdout
    assert path.exists()
    # No managed identity at all.
    fake.set_vm(identity=False, reader_scope=None)
    p = configure(path, *required(), *flags, "--force")
    assert p.returncode == 1 and "no managed identity answered" in p.stdout, p.stdout
