"""POSIX attributes from the directory (issue 21): uid_attribute, shell_attribute and
home_attribute name Graph user properties (directory extension attributes or
onPremisesExtensionAttributes) that pin a user's UID, shell and home at the first login.

Checks through pamtester (pam_wrapper; no NSS announcement, so the first login pins and
succeeds) and through a real sshd, where sshd announced the hash UID before authentication:
that first connection is refused ("connect again") and the second runs as the directory UID.
The fake Graph (tests/fakeidp/graph.py) serves the attributes.
"""
import os
import subprocess

import pytest

from conftest import BUILD, CLI, NSS_MODULE
from entra_fake import USER_APP_ROLE, oid_for
from sshd_env import LOCAL_USER, SshdEnv, host_config
from test_roles import NSS_CALL, UNAVAIL, Host, assert_login
from test_sshd import ENTRA_SSH

EXT = "extension_3f8a1c2e5b6d4e7f9a0b1c2d3e4f5a6b_"
UIDA, SHELLA, HOMEA = EXT + "uidNumber", EXT + "loginShell", "onPremisesExtensionAttributes.extensionAttribute3"
REFUSED = "your directory UID, shell or home cannot be used on this host"
ADMIN_GID, GID_MIN = 999999001, 2000000000


@pytest.fixture
def host(tmp_path, fake, pam_stack, state_dir):
    return Host(tmp_path, fake, pam_stack, state_dir)


def getpw(host, name):
    env = dict(os.environ, ENTRA_LOGIN_CONF=str(host.conf))
    out = subprocess.run([str(NSS_CALL), str(NSS_MODULE), "getpwnam", name], capture_output=True, text=True,
                         env=env, timeout=30).stdout.strip()
    return out.split(" ", 1)[1].split(":") if out.startswith("SUCCESS ") else None


def known(host, name):
    """The user database holds name (NSS answers any name of ours with a provisional hash UID)."""
    return subprocess.run([str(CLI), "--config", str(host.conf), "show", name], capture_output=True, text=True,
                          timeout=30).returncode == 0


def attrs(uid=None, shell=None, home=None):
    a = {}
    if uid is not None:
        a[UIDA] = uid
    if shell is not None:
        a[SHELLA] = shell
    if home is not None:
        a["onPremisesExtensionAttributes"] = {"extensionAttribute3": home}
    return a


def test_directory_uid_shell_home_pinned_and_every_bad_value_refused(tmp_path, host, fake, syslog, pam_stack):
    # Graph names properties without regard to case: a home_attribute spelt in lower case still
    # finds extensionAttribute3 in the answer
    host.configure(role_sources="claims", graph_url=fake.authority, uid_attribute=UIDA, shell_attribute=SHELLA,
                   home_attribute=HOMEA.lower().replace("onpremisesextensionattributes", "onPremisesExtensionAttributes"))
    bad = {   # user -> (attributes, what the log names)
        "zero@contoso.com": (attrs(0), "a reserved id (0, below 1000"),
        "system@contoso.com": (attrs("999"), "a reserved id (0, below 1000"),
        "nobody@contoso.com": (attrs(65534), "a reserved id"),
        "ingid@contoso.com": (attrs(GID_MIN + 5), "a reserved id"),
        "huge@contoso.com": (attrs(2147483648), "a reserved id"),
        "text@contoso.com": (attrs("70x"), "not a decimal UID"),
        "negative@contoso.com": (attrs(-70000), "not a decimal UID"),
        "rolegid@contoso.com": (attrs(ADMIN_GID), "a reserved id (a role gid)"),
        "twin@contoso.com": (attrs(70000), "held by another user in the database"),
        "localid@contoso.com": (attrs(4343), "a local uid or gid"),
        "badshell@contoso.com": (attrs(70010, shell="/usr/local/bin/notashell"), "not listed in /etc/shells"),
        "colon@contoso.com": (attrs(70011, shell="/bin/sh:x"), "not an absolute path without ':'"),
        "relhome@contoso.com": (attrs(70012, home="srv/x"), "not an absolute path without ':'"),
        "roothome@contoso.com": (attrs(70013, home="/root"), "the home of another user"),
        "samehome@contoso.com": (attrs(70014, home="/srv/home/alice"), "the home of another user"),
    }
    fake.set_graph(attributes={oid_for("alice@contoso.com"): attrs(70000, "/bin/sh", "/srv/home/alice"),
                               **{oid_for(u): a for u, (a, _) in bad.items()}})
    # pamtester sees a local account with uid 4343 (its own mount namespace, the host's files untouched)
    passwd = tmp_path / "passwd"
    passwd.write_text(open("/etc/passwd").read() + "ellocal:x:4343:4343::/home/ellocal:/bin/sh\n")
    cap = pam_stack.prefix
    pam_stack.prefix = lambda argv: cap(["unshare", "--mount", "sh", "-c",
                                         f"mount --bind {passwd} /etc/passwd && exec \"$@\"", "sh", *argv])
    fake.clear_requests()
    assert_login(host.login(user="alice@contoso.com", roles=[USER_APP_ROLE]), "user")
    assert known(host, "alice@contoso.com")
    pw = getpw(host, "alice@contoso.com")
    assert pw and pw[2:4] == ["70000", "70000"] and pw[5:] == ["/srv/home/alice", "/bin/sh"], pw
    sel = [r for r in fake.requests() if r["endpoint"] == "graph"]
    assert sel[0]["path"] == f"/v1.0/users/{oid_for('alice@contoso.com')}", sel
    assert sel[0]["query"]["$select"] == f"id,{UIDA},{SHELLA},onPremisesExtensionAttributes", sel
    for user, (_, why) in bad.items():
        res = host.login(user=user, roles=[USER_APP_ROLE])
        assert res.returncode != 0 and REFUSED in res.out, (user, res.out)
        assert not known(host, user), user                  # nothing bound, no hash UID either
    log = syslog.text()
    for user, (_, why) in bad.items():
        assert f"directory attributes refused: user '{user}'" in log, user
        assert why in log.split(f"directory attributes refused: user '{user}'")[1].split("\n")[0], user
    # without the attribute: the hash UID, as without the key
    assert_login(host.login(user="plain@contoso.com", roles=[USER_APP_ROLE]), "user")
    assert int(getpw(host, "plain@contoso.com")[2]) >= 1000000000
    # a known user keeps its UID whatever the directory says now; refresh reports, never changes
    fake.set_graph(attributes={oid_for("alice@contoso.com"): attrs(70001)})
    assert_login(host.login(user="alice@contoso.com", roles=[USER_APP_ROLE]), "user")
    ref = host.refresh()
    assert ref.returncode == 0, ref.stdout + ref.stderr
    assert (f"alice@contoso.com: the directory's {UIDA} is 70001, this host's uid is 70000: kept" in ref.stdout
            and "entra-login forget --purge alice@contoso.com" in ref.stdout), ref.stdout
    assert "uids: 1 differ" in ref.stdout, ref.stdout
    assert getpw(host, "alice@contoso.com")[2] == "70000"
    # Graph down at a first login: unavailable, never the hash UID
    fake.fault("graph", "status", status=500)   # 503 would be retried: slower, same verdict
    res = host.login(user="later@contoso.com", roles=[USER_APP_ROLE])
    assert res.returncode != 0 and UNAVAIL in res.out, res.out
    assert not known(host, "later@contoso.com")
    assert "directory attributes unavailable: user 'later@contoso.com'" in syslog.text()
    ref = host.refresh()
    assert ref.returncode == 3 and "alice@contoso.com: uid kept" in ref.stdout, ref.stdout + ref.stderr


def test_config_rejects_attribute_names(tmp_path, host, fake):
    host.configure(role_sources="claims", graph_url=fake.authority)
    for line in ("uid_attribute = uidNumber", "shell_attribute = extension_abc_loginShell",
                 "home_attribute = onPremisesExtensionAttributes.extensionAttribute16",
                 "home_attribute = onPremisesExtensionAttributes.extensionAttribute03",
                 f"uid_attribute = {EXT}uid,x"):
        conf = tmp_path / "bad.conf"
        conf.write_text(host.conf.read_text() + line + "\n")
        os.chmod(conf, 0o644)
        p = subprocess.run([str(CLI), "--config", str(conf), "status"], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and "onPremisesExtensionAttributes.extensionAttribute<1-15>" in p.stderr, \
            (line, p.stderr)


def test_sshd_first_login_pins_directory_uid_then_runs_as_it(tmp_path, fake, public_state_dir):
    alice, local = "alice@contoso.com", "clash@contoso.com"
    fake.set_graph(attributes={oid_for(alice): attrs(70321, "/bin/bash", "/home/alice-dir"),
                               oid_for(local): attrs(4242)})        # sshd_env's local account's uid
    conf = host_config(fake, public_state_dir, graph_url=fake.authority, imds_url=fake.imds_url,
                       uid_attribute=UIDA, shell_attribute=SHELLA, home_attribute=HOMEA, http_timeout=5)
    env = SshdEnv(tmp_path, BUILD, conf).start()
    try:
        tok = tmp_path / "tok"

        def login(user):
            tok.write_text(fake.mint("access_v2", upn=user, roles=[USER_APP_ROLE]))
            return subprocess.run([str(ENTRA_SSH), "--token-file", str(tok), "-F", "/dev/null", "-p", str(env.port),
                                   "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/kh", "-l",
                                   user, "-T", "127.0.0.1", f"id -u; getent passwd {user}; pwd"],
                                  capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
        # sshd announced the hash UID before authentication: this login pins the directory's UID and
        # is refused; the next one runs as it.
        first = login(alice)
        assert first.returncode != 0, first.stderr
        assert "Your account was set up with its directory UID; connect again." in first.stderr, first.stderr
        second = login(alice)
        assert second.returncode == 0, second.stderr + env.log()[-2000:]
        out = second.stdout.splitlines()
        assert out[0] == "70321", out
        assert out[1].split(":")[2:4] == ["70321", "70321"] and out[1].split(":")[5:] == ["/home/alice-dir",
                                                                                          "/bin/bash"], out
        assert out[2] == "/home/alice-dir", out
        # a UID a local account holds is refused, and the log says why
        res = login(local)
        assert res.returncode != 0 and REFUSED in res.stdout + res.stderr, res.stderr
        p = env.iso.run(f"{CLI} show {local}; echo rc=$?")
        assert p.stdout.strip().endswith("rc=1") and "uid: 4242" not in p.stdout, p.stdout   # nothing recorded
        assert f"{LOCAL_USER}:x:4242:" in env.iso.run("getent passwd 4242").stdout
    finally:
        env.stop()


def test_certificate_first_login_pins_directory_uid(tmp_path, fake, public_state_dir):
    """az ssh vm: the account stage binds the certificate's user; it pins the directory UID too."""
    from az_ssh_cert import CertClient
    from test_sshd_cert import USER, cert_config, prime_jwks
    fake.set_graph(attributes={oid_for(USER): attrs(70555)})
    env = SshdEnv(tmp_path, BUILD, cert_config(fake, public_state_dir, graph_url=fake.authority,
                                               imds_url=fake.imds_url, uid_attribute=UIDA, http_timeout=5)).start()
    try:
        prime_jwks(env)
        c = CertClient(fake, tmp_path / "az-bob")
        cert = c.device_code(USER)
        first = env.ssh_key(USER, "id -u", c.key_path, cert)
        assert first.returncode != 0, first.stdout
        second = env.ssh_key(USER, "id -u", c.key_path, cert, tag="pk2")
        assert second.returncode == 0 and second.stdout.strip() == "70555", second.stderr + env.log()[-2000:]
    finally:
        env.stop()
