"""Issue 20: the package as an admin upgrades it, and a state directory that is full, read-only
or left with a killed writer's temp file.

One installed-package namespace (tests/installed_env.py) for the whole module, used in order:
  1. `dpkg -i` of the previous release (installed_env.OLD_RELEASE, built from git history and
     cached under build/upgrade-old/), whose /etc/entra-login.conf is a dpkg conffile; the admin
     edits the configuration; users log in (device code, and a certificate as `az ssh vm` does).
  2. `DEBIAN_FRONTEND=noninteractive dpkg -i` of this tree's package, no --force-conf*, stdin
     closed: it exits 0, asks nothing, leaves the configuration byte-identical, users keep UID,
     home and groups, the admin logs in again and `sudo -n id` works.
  3. With the new package: the state directory on a tmpfs filled to zero, then bind-remounted
     read-only: a returning admin logs in (one warning), so does a returning certificate user (the
     grant for PAM account goes to /run), a new user and a role change are refused naming the
     cause, local users and NSS are unaffected. A writer killed between writing its
     temp file and the rename leaves a users.db.tmp.* that the next writer removes. A users.db
     of a newer format is refused by name, and `status` fails on it and on a damaged one; a key
     cache of a newer format is not read.
  4. `dpkg -r`, then `dpkg -P`: clean.
"""
import hashlib
import json
import re

import pytest

from az_ssh_cert import CertClient
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE
from installed_env import InstalledHost, LOCAL_USER, PASSWORD, ROOT, build_deb, build_old_deb, module_fake, q
from installed_env import clean_queue  # noqa: F401 (autouse fixture)

ADMIN = "alice@contoso.com"       # device code, admin by the roles claim
USER = "bob@contoso.com"          # device code, user by the roles claim
CERTADMIN = "dave@contoso.com"    # certificate login, admin by static
NEWBIE = "erin@contoso.com"       # never seen before the disk fills
STATE = "/var/lib/entra-login"
CONF = "/etc/entra-login.conf"
# Every file the package ships under /etc, each edited by the admin before the upgrade: an upgrade
# must ask nothing about any of them (dpkg prompts for a conffile that both sides changed).
ETC_FILES = (CONF, "/etc/ssh/sshd_config.d/50-entra-login.conf", "/etc/sudoers.d/entra-login")
WARNING, ERR = 4, 3


mfake = module_fake("upgrade-fake")


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    old, old_secs = build_old_deb()
    new, new_secs = build_deb(tmp_path_factory.getbasetemp() / "installed-deb")
    print(f"\nupgrade: old package {old.name} build {old_secs:.1f}s (0 = cached), "
          f"new {new.name} build {new_secs:.1f}s")
    return old, new


@pytest.fixture(scope="module")
def host(mfake, debs, tmp_path_factory):
    old, new = debs
    h = InstalledHost(tmp_path_factory.mktemp("upgrade-host"), old, mfake, syslog=True,
                      config_keys={"role_sources": "claims, static", "static_admins": CERTADMIN})
    h.start()
    # what the admin edited: the configuration InstalledHost wrote over the shipped conffile
    for f in ETC_FILES:
        res = h.run(f"printf '# edited by the admin before the upgrade\\n' >>{f}")
        assert res.returncode == 0, res.stderr
    (h.tmp / "new.deb").write_bytes(new.read_bytes())
    print(f"upgrade: dpkg -i old + setup {h.timings['install']:.1f}s")
    yield h
    h.stop()


def groups_of(id_output):
    m = re.search(r"groups=(\S+)", id_output)
    return set(re.findall(r"\(([^)]+)\)", m.group(1))) if m else set()


def device_login(host, fake, user, roles, command="id", tag="c"):
    fake.auto("approve", upn=user, roles=roles, count=1)
    return host.ssh(user, command, answers=["", ""], tag=tag)


def cert_login(host, fake, user, tag, command="id"):
    c = CertClient(fake, host.tmp / f"az-{tag}")
    cert = c.device_code(user)
    return host.ssh_key(user, command, c.key_path, cert, tag=tag)


def identity(host, user):
    """(passwd line, sorted group names) as NSS reports them."""
    pw = host.run(f"getent passwd {q(user)}").stdout.strip()
    groups = sorted(host.run(f"id -Gn {q(user)}").stdout.split())
    return pw, groups


def conf_digest(host):
    return hashlib.sha256(host.path(CONF).read_bytes()).hexdigest()


def log_lines(host, needle):
    return [m for m in host.syslog.messages() if needle in m[2]]


_seen = {}


# ------------------------------------------------------------------------------ 1. old release

def test_old_release_installed_and_users_log_in(host, mfake):
    res = host.run("dpkg-query -W -f '${Version}' entra-login; echo; dpkg-query -W -f '${Conffiles}' entra-login")
    assert res.stdout.startswith("0.1.0\n"), res.stdout
    assert CONF in res.stdout        # the old package's conffile: what made upgrades prompt
    res, _ = device_login(host, mfake, ADMIN, [ADMIN_APP_ROLE], "id; sudo -n id -un", tag="old-alice")
    assert res.returncode == 0 and "\nroot" in res.stdout, res.stderr + host.sshd_log()[-2000:]
    res, _ = device_login(host, mfake, USER, [USER_APP_ROLE], tag="old-bob")
    assert res.returncode == 0, res.stderr
    res = cert_login(host, mfake, CERTADMIN, "old-dave", "id; sudo -n id -un")
    assert res.returncode == 0 and "\nroot" in res.stdout, res.stderr + host.sshd_log()[-2000:]
    for u in (ADMIN, USER, CERTADMIN):
        _seen[u] = identity(host, u)
        assert _seen[u][0].startswith(u + ":"), _seen[u]
    assert "aad_admins" in _seen[ADMIN][1] and "aad_admins" in _seen[CERTADMIN][1]
    assert "aad_admins" not in _seen[USER][1] and "aad_users" in _seen[USER][1]
    _seen["conf"] = conf_digest(host)
    _seen["conf-bytes"] = host.path(CONF).read_bytes()
    _seen["etc"] = {f: host.path(f).read_bytes() for f in ETC_FILES}
    assert all(b"# edited by the admin" in v for v in _seen["etc"].values())


# ------------------------------------------------------------------------------ 2. the upgrade

def test_unattended_upgrade_keeps_config_and_users(host, mfake):
    res = host.run("DEBIAN_FRONTEND=noninteractive dpkg -i /run/entra-test/r/new.deb </dev/null", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Configuration file" not in res.stdout + res.stderr      # no conffile question
    assert host.path(CONF).read_bytes() == _seen["conf-bytes"]
    assert conf_digest(host) == _seen["conf"]
    for f, before in _seen["etc"].items():
        assert host.path(f).read_bytes() == before, f
    res = host.run("dpkg-query -W -f '${Version} ${Status}' entra-login; echo; "
                   "entra-login --version; dpkg --audit; dpkg -C")
    assert res.returncode == 0, res.stdout + res.stderr
    new_version = res.stdout.split()[0]
    assert new_version != "0.1.0" and "install ok installed" in res.stdout, res.stdout
    assert f"entra-login {new_version}" in res.stdout, res.stdout
    # the new package ships no conffile for the admin's configuration, only the example
    res = host.run("dpkg-deb -I /run/entra-test/r/new.deb conffiles; "
                   "dpkg-deb -c /run/entra-test/r/new.deb | awk '{print $6}'")
    assert CONF not in res.stdout.split("\n./")[0], res.stdout
    assert "./usr/share/entra-login/entra-login.conf" in res.stdout
    # users kept UID, home, shell and groups
    for u in (ADMIN, USER, CERTADMIN):
        assert identity(host, u) == _seen[u], (u, identity(host, u), _seen[u])


def test_after_upgrade_admin_logs_in_and_sudo_works(host, mfake):
    res, _ = device_login(host, mfake, ADMIN, [ADMIN_APP_ROLE], "id -u; sudo -n id", tag="new-alice")
    assert res.returncode == 0, res.stderr + host.sshd_log()[-2000:]
    assert "uid=0(root)" in res.stdout, res.stdout + res.stderr
    assert res.stdout.split()[0] == _seen[ADMIN][0].split(":")[2]
    res = cert_login(host, mfake, CERTADMIN, "new-dave", "sudo -n id -un")
    assert res.returncode == 0 and res.stdout.strip() == "root", res.stderr + host.sshd_log()[-2000:]
    res = host.run("entra-login status")
    assert re.search(r"^entra-login \d+\.\d+\.\d+$", res.stdout, re.M), res.stdout
    assert "user(s) ok" in res.stdout, res.stdout


# ------------------------------------------------------------------------------ 3. a full disk

# Earlier certificate grants go first: PAM account must find this login's grant where the full
# state directory made authorized-keys put it, not a recent one from before.
FILL = f"""set -e
rm -f {STATE}/certgrant/*
mkdir -p /run/el-state-save
cp -a {STATE}/. /run/el-state-save/
mount -t tmpfs -o size=512k,mode=0755 el-full {STATE}
cp -a /run/el-state-save/. {STATE}/
dd if=/dev/zero of={STATE}/zz-fill bs=4k 2>/dev/null || true
df -k {STATE} | tail -1
"""
UNDO = f"umount {STATE}"


def local_and_nss_unaffected(host):
    res, _ = host.ssh(LOCAL_USER, "id -un", answers=[PASSWORD], methods="password", tag="local-full")
    assert res.returncode == 0 and res.stdout.strip() == LOCAL_USER, res.stderr + host.sshd_log()[-2000:]
    for u in (ADMIN, USER):
        assert identity(host, u) == _seen[u]


def assert_refused_naming(host, res, prompts, cause):
    text = res.stdout + res.stderr + prompts
    assert res.returncode != 0, text
    assert f"the user database cannot be written: {cause}" in text, text
    assert "cannot be reached" not in text, text


def test_full_disk_returning_admin_logs_in_new_user_and_role_change_refused(host, mfake):
    res = host.run(FILL)
    assert res.returncode == 0 and re.search(r"\s100%\s", res.stdout), res.stdout + res.stderr
    try:
        before = len(host.syslog.messages())
        res, _ = device_login(host, mfake, ADMIN, [ADMIN_APP_ROLE], "sudo -n id -un", tag="full-alice")
        assert res.returncode == 0 and res.stdout.strip() == "root", res.stderr + host.sshd_log()[-2000:]
        new = host.syslog.messages()[before:]
        warn = [m for m in new if "last login not recorded" in m[2]]
        assert len(warn) == 1 and warn[0][0] == WARNING, new
        assert "no space left on device" in warn[0][2] and ADMIN in warn[0][2], warn
        # a returning certificate user: the minute's grant for PAM account goes to /run
        before = len(host.syslog.messages())
        res = cert_login(host, mfake, CERTADMIN, "full-dave", "sudo -n id -un")
        assert res.returncode == 0 and res.stdout.strip() == "root", res.stderr + host.sshd_log()[-2000:]
        warn = [m for m in host.syslog.messages()[before:] if "grant kept in /run/entra-login" in m[2]]
        assert len(warn) == 1 and "No space left on device" in warn[0][2], host.syslog.text()[-2000:]
        # a first login needs a new record: refused with the real cause, to the user and in syslog
        before = len(host.syslog.messages())
        res, prompts = device_login(host, mfake, NEWBIE, [USER_APP_ROLE], tag="full-erin")
        assert_refused_naming(host, res, prompts, "no space left on device")
        assert any("no space left on device" in m[2] and NEWBIE in m[2] and m[0] <= ERR
                   for m in host.syslog.messages()[before:]), host.syslog.text()[-2000:]
        # a role change (user -> admin) is a decision: refused
        res, prompts = device_login(host, mfake, USER, [ADMIN_APP_ROLE], tag="full-bob")
        assert_refused_naming(host, res, prompts, "no space left on device")
        assert "aad_admins" not in identity(host, USER)[1]
        local_and_nss_unaffected(host)
    finally:
        host.run(UNDO)


def test_read_only_state_returning_admin_logs_in_new_user_refused(host, mfake):
    res = host.run(f"rm -f {STATE}/certgrant/* /run/entra-login/certgrant/* && "
                   f"mount --bind {STATE} {STATE} && mount -o remount,bind,ro {STATE} && "
                   f"touch {STATE}/x 2>&1; true")
    assert "Read-only file system" in res.stdout + res.stderr, res.stdout + res.stderr
    try:
        before = len(host.syslog.messages())
        res, _ = device_login(host, mfake, ADMIN, [ADMIN_APP_ROLE], "sudo -n id -un", tag="ro-alice")
        assert res.returncode == 0 and res.stdout.strip() == "root", res.stderr + host.sshd_log()[-2000:]
        warn = [m for m in host.syslog.messages()[before:] if "last login not recorded" in m[2]]
        assert len(warn) == 1 and "read-only file system" in warn[0][2], warn
        res = cert_login(host, mfake, CERTADMIN, "ro-dave", "sudo -n id -un")
        assert res.returncode == 0 and res.stdout.strip() == "root", res.stderr + host.sshd_log()[-2000:]
        res, prompts = device_login(host, mfake, NEWBIE, [USER_APP_ROLE], tag="ro-erin")
        assert_refused_naming(host, res, prompts, "read-only file system")
        local_and_nss_unaffected(host)
    finally:
        host.run(UNDO)


def test_killed_writer_temp_file_removed_by_next_writer(host, mfake):
    """A writer SIGKILLed after writing its temp file, before the rename (strace injects the
    signal at rename(2)), leaves users.db.tmp.XXXXXX; the next writer, under the lock, removes it."""
    res = host.run(f"strace -qq -f -o /dev/null -e trace=rename,renameat,renameat2 "
                   f"-e inject=rename,renameat,renameat2:signal=KILL "
                   f"entra-login forget {q(USER)}; echo rc=$?; ls {STATE}")
    assert "rc=137" in res.stdout or "Killed" in res.stdout + res.stderr, res.stdout + res.stderr
    left = re.findall(r"users\.db\.tmp\.\S+", res.stdout)
    assert left, res.stdout        # the kill left one
    assert identity(host, USER) == _seen[USER]      # and changed nothing
    res, _ = device_login(host, mfake, ADMIN, [ADMIN_APP_ROLE], "true", tag="after-kill")
    assert res.returncode == 0, res.stderr
    res = host.run(f"ls {STATE}")
    assert not re.search(r"users\.db\.tmp\.", res.stdout), res.stdout


def test_newer_format_and_damaged_database_refused_by_name(host):
    """A downgrade meets a users.db of a later format: refused by name, never misread, never
    overwritten; `status` fails on it and on a damaged file."""
    db = f"{STATE}/users.db"
    res = host.run(f"cp -a {db} /run/el-users.db.good && "
                   # version (u32 after the 8-byte magic) = 99
                   f"printf '\\143\\000\\000\\000' | dd of={db} bs=1 seek=8 conv=notrunc 2>/dev/null && "
                   f"entra-login status; echo rc=$?; entra-login users; echo rc=$?; getent passwd {q(ADMIN)}; echo rc=$?")
    try:
        out = res.stdout + res.stderr
        assert "written by a newer entra-login" in out, out
        assert re.search(r"EL_ERR_NEWER_FORMAT", out), out
        rcs = re.findall(r"rc=(\d+)", out)
        assert rcs[0] != "0" and rcs[1] != "0" and rcs[2] != "0", out
        assert not re.search(rf"^{re.escape(ADMIN)}:", res.stdout, re.M), out
        # a damaged one: status fails too (it used to exit 0)
        res = host.run(f"cp -a /run/el-users.db.good {db} && "
                       f"printf 'XX' | dd of={db} bs=1 seek=200 conv=notrunc 2>/dev/null; "
                       "entra-login status; echo rc=$?")
        assert "DAMAGED" in res.stdout and not res.stdout.rstrip().endswith("rc=0"), res.stdout + res.stderr
    finally:
        host.run(f"cp -a /run/el-users.db.good {db}")
    assert identity(host, ADMIN) == _seen[ADMIN]


def test_newer_cache_format_ignored(host, mfake):
    """The key cache of a later package (format 99) is not read: with Entra's key endpoint down,
    status has no keys instead of using it, and says why."""
    jwks = host.path(f"{STATE}/jwks.json")
    res = host.run(f"rm -f {STATE}/jwks.json {STATE}/jwks.refresh && entra-login status >/dev/null; "
                   f"stat -c '%a %U' {STATE}/jwks.json")
    assert res.stdout.strip() == "644 root", res.stdout + res.stderr
    doc = json.loads(jwks.read_text())
    assert doc["format"] == 1, doc.keys()        # this release writes its format
    doc["format"] = 99
    jwks.write_text(json.dumps(doc))
    mfake.fault("jwks", "status", status=503)
    try:
        res = host.run("entra-login status")
        assert re.search(r"jwks\.json +IGNORED: file written by a newer entra-login", res.stdout), res.stdout
        assert re.search(r"signing keys:\n  UNAVAILABLE", res.stdout), res.stdout
        assert res.returncode != 0
    finally:
        mfake.fault("jwks", "ok")
        host.run(f"rm -f {STATE}/jwks.json {STATE}/jwks.refresh")


# ------------------------------------------------------------------------------ 4. remove, purge

def test_remove_then_purge_clean(host):
    res = host.run("DEBIAN_FRONTEND=noninteractive dpkg -r entra-login </dev/null")
    assert res.returncode == 0, res.stdout + res.stderr
    res = host.run(f"dpkg-query -W -f '${{Status}}' entra-login; echo; grep -c entra /etc/nsswitch.conf; "
                   f"grep -l pam_entra /etc/pam.d/* ; "
                   f"ls /usr/sbin/entra-login 2>&1; true")
    assert "deinstall ok config-files" in res.stdout, res.stdout
    assert "/etc/pam.d/" not in res.stdout and "No such file" in res.stdout, res.stdout
    assert host.path(CONF).read_bytes() == _seen["conf-bytes"]       # remove keeps the config
    res = host.run("DEBIAN_FRONTEND=noninteractive dpkg -P entra-login </dev/null")
    assert res.returncode == 0, res.stdout + res.stderr
    res = host.run(f"dpkg-query -W entra-login 2>&1; ls -d {CONF} {STATE} /etc/sudoers.d/entra-login "
                   "/etc/ssh/sshd_config.d/50-entra-login.conf /usr/share/entra-login 2>&1; true")
    assert "no packages found" in res.stdout, res.stdout
    assert res.stdout.count("No such file") == 5, res.stdout


def test_rpm_config_files_are_noreplace():
    """The .rpm side of "no file under /etc can be replaced by an upgrade": every %files entry
    under %{_sysconfdir} is %config(noreplace) (rpm then writes .rpmnew and asks nothing)."""
    spec = (ROOT / "packaging" / "rpm" / "entra-login.spec").read_text()
    files = spec.split("\n%files", 1)[1].split("\n%changelog", 1)[0]
    etc = [ln for ln in files.splitlines() if "%{_sysconfdir}" in ln]
    assert etc and all(ln.startswith("%config(noreplace)") for ln in etc), etc
