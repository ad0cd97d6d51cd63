"""Real sudo with the shipped sudoers drop-in, inside a mount namespace (tests/isolated.py):
/etc/nsswitch.conf, /etc/entra-login.conf, /etc/sudoers.d/entra-login and the NSS module are
overlays that vanish with the namespace, so the host is left as it was.

Logins happen outside the namespace (pamtester + pam_wrapper, tokens from the fake Entra ID);
inside, `setpriv --init-groups` becomes the user (groups from NSS) and runs `sudo -n`.
"""
import hashlib
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE, oid_for
from isolated import Isolated, q
from test_roles import Host, assert_login
from tokens import guid_for

SUDOERS = ROOT / "conf" / "sudoers.d" / "entra-login"
ALICE, BOB, EVE = "alice@contoso.com", "bob@contoso.com", "eve@contoso.com"
ADMIN_GID, USER_GID = 999999001, 999999002


@pytest.fixture(scope="session")
def nss_build(tmp_path_factory):
    """Where the NSS module for sudo comes from. sudo is setuid: it ignores LD_PRELOAD, so an
    ASan build of the module cannot load there; under SAN=... build a plain one."""
    if "build-san" not in str(BUILD):
        return BUILD
    out = tmp_path_factory.mktemp("plain-nss")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "SAN", "O", "CFLAGS", "LDFLAGS")}
    p = subprocess.run(["make", "-C", str(ROOT), f"O={out}", f"{out}/libnss_entra.so.2"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return out


@pytest.fixture
def host(tmp_path, fake, pam_stack, state_dir):
    return Host(tmp_path, fake, pam_stack, state_dir)


def namespace(tmp_path, host, nss_build):
    iso = Isolated(tmp_path / "iso", nss_build)
    iso.add_etc("entra-login.conf", host.conf.read_text())
    iso.copy_etc("sudoers.d/entra-login", SUDOERS, 0o440)
    return iso


def as_user(user, command):
    return f"setpriv --reuid={q(user)} --regid={q(user)} --init-groups {command}"


def run(iso, *commands):
    """Each command in one namespace; returns [(exit code, stdout lines, stderr text)]."""
    out = []
    script = "".join(f"{c} >$T/out.{i} 2>$T/err.{i}; echo $? >$T/rc.{i}\n" for i, c in enumerate(commands))
    tdir = iso.tmp / "run"
    shutil.rmtree(tdir, ignore_errors=True)
    tdir.mkdir()
    p = iso.run(f"T={q(tdir)}\n" + script, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    for i in range(len(commands)):
        out.append((int((tdir / f"rc.{i}").read_text()), (tdir / f"out.{i}").read_text().splitlines(),
                    (tdir / f"err.{i}").read_text()))
    return out


def test_sudoers_dropin_passes_visudo(tmp_path):
    f = tmp_path / "entra-login"
    shutil.copy(SUDOERS, f)
    os.chmod(f, 0o440)
    p = subprocess.run(["visudo", "-cf", str(f)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "parsed OK" in p.stdout
    lines = [ln for ln in SUDOERS.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines == ["%aad_admins ALL=(ALL) NOPASSWD:ALL"]


def test_admin_sudo_user_refused_and_refresh_revokes(tmp_path, host, fake, nss_build):
    host.configure(role_sources="arm")
    fake.set_roles((oid_for(ALICE), "admin", "rg"), (oid_for(BOB), "user", "vm"))
    assert_login(host.login(user=ALICE), "admin")
    assert_login(host.login(user=BOB), "user")
    iso = namespace(tmp_path, host, nss_build)
    res = run(iso, f"id -Gn {ALICE}", as_user(ALICE, "sudo -n id -u"), f"id -Gn {BOB}", as_user(BOB, "sudo -n id -u"),
              as_user(ALICE, "id -G"))
    assert res[0][0] == 0 and set(res[0][1][0].split()) == {ALICE, "aad_admins", "aad_users"}, res[0]
    assert res[1][:2] == (0, ["0"]), res[1]
    assert res[2][0] == 0 and set(res[2][1][0].split()) == {BOB, "aad_users"}, res[2]
    assert res[3][0] != 0 and res[3][1] == [], res[3]
    assert "password is required" in res[3][2] or "not allowed" in res[3][2], res[3]
    assert str(ADMIN_GID) in res[4][1][0].split()

    # The admin role is removed in Azure; the timer's `entra-login refresh` runs.
    fake.set_roles((oid_for(BOB), "user", "vm"))
    ref = host.refresh()
    assert ref.returncode == 0, ref.stdout + ref.stderr
    assert f"{ALICE}: admin -> none (arm)" in ref.stdout
    res = run(iso, f"id -Gn {ALICE}", as_user(ALICE, "sudo -n id -u"), "getent group aad_admins",
              as_user(BOB, "sudo -n true"))
    assert res[0][0] == 0 and res[0][1][0].split() == [ALICE], res[0]
    assert res[1][0] != 0 and res[1][1] == [], res[1]
    assert res[2] == (0, [f"aad_admins:*:{ADMIN_GID}:"], ""), res[2]
    assert res[3][0] != 0


def test_odd_bytes_never_reach_group_lines_or_sudoers(tmp_path, host, fake, nss_build):
    evil_roles = [ADMIN_APP_ROLE + ",x", ADMIN_APP_ROLE + "\n", "x:" + ADMIN_APP_ROLE, "%aad_admins ALL=(ALL) NOPASSWD:ALL",
                  "aad_admins:x:999999001:" + EVE, USER_APP_ROLE]
    evil_groups = ["aad_admins", guid_for("g") + "\n%aad_admins ALL=(ALL) ALL", "a:b", "%sudo", guid_for("g") + ","]
    display = "Eve:Evil\n%aad_admins ALL=(ALL) NOPASSWD:ALL,x"
    host.configure(role_sources="claims, static", static_admins=guid_for("g"))
    before = hashlib.sha256(SUDOERS.read_bytes()).hexdigest()
    res = host.login(user=EVE, roles=evil_roles, groups=evil_groups, name=display)
    assert_login(res, "user")     # only the exact user role value counts
    assert_login(host.login(user=ALICE, roles=[ADMIN_APP_ROLE]), "admin")
    iso = namespace(tmp_path, host, nss_build)
    res = run(iso, "getent group", "getent passwd", as_user(EVE, "sudo -n id -u"), "sudo -l -U " + q(EVE),
              "cat /etc/sudoers.d/entra-login", "ls /etc/sudoers.d")
    local = set(open("/etc/group").read().splitlines()) | set(open("/etc/passwd").read().splitlines())
    groups = [ln for ln in res[0][1] if ln not in local]
    assert res[0][0] == 0
    for line in groups:
        assert line.count(":") == 3 and "%" not in line and " " not in line, line
    by_name = {ln.split(":")[0]: ln for ln in groups}
    assert by_name["aad_admins"] == f"aad_admins:*:{ADMIN_GID}:{ALICE}"
    assert by_name["aad_users"] == f"aad_users:*:{USER_GID}:{ALICE},{EVE}"
    assert set(by_name) == {"aad_admins", "aad_users", ALICE, EVE}, groups
    users = [ln for ln in res[1][1] if ln not in local]
    assert [ln.split(":")[0] for ln in users] == [ALICE, EVE], users
    for line in users:
        assert line.count(":") == 6, line     # the display name lost its ':' and newline
    assert res[2][0] != 0 and res[2][1] == []
    assert "not allowed" in "\n".join(res[3][1]) + res[3][2], res[3]
    assert "\n".join(res[4][1]) + "\n" == SUDOERS.read_text()
    assert hashlib.sha256(SUDOERS.read_bytes()).hexdigest() == before
