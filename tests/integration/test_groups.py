"""Entra groups as Linux groups (issue 21): the `groups` role source (allow_groups /
admin_groups), the group mapping into groups.db answered by the NSS module, refresh, Graph
paging / throttling / overage / outage, name collisions.

Logins are pamtester runs (pam_wrapper) with tokens of the fake Entra ID, whose Microsoft Graph
(tests/fakeidp/graph.py) serves transitiveMemberOf; lookups are real glibc (getent, id, sudo)
inside an Isolated namespace (test_sudo.py); one test logs in through a real sshd.
"""
import os
import struct
import subprocess

import pytest

from conftest import BUILD, CLI, NSS_MODULE
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE, oid_for
from sshd_env import SshdEnv, host_config
from test_sshd import ENTRA_SSH
from test_roles import DENIED, NSS_CALL, OVERAGE, UNAVAIL, Host, assert_login
from test_sudo import namespace, nss_build, run  # noqa: F401 (fixture)
from tokens import guid_for

ALICE, BOB, CAROL = "alice@contoso.com", "bob@contoso.com", "carol@contoso.com"
G_PLAT, G_DB, G_MKT = guid_for("grp:platform"), guid_for("grp:db"), guid_for("grp:marketing")
G_ADM, G_SUDO, G_TWIN1, G_TWIN2 = guid_for("grp:adm"), guid_for("grp:sudo"), guid_for("grp:t1"), guid_for("grp:t2")
NAMES = {G_PLAT: "Linux Platform", G_DB: "linux-db", G_MKT: "Marketing", G_ADM: "linux-admins",
         G_SUDO: "SUDO", G_TWIN1: "linux twin", G_TWIN2: "LINUX  Twin"}
GID_MIN, GID_MAX = 2000000000, 2099999999


@pytest.fixture
def host(tmp_path, fake, pam_stack, state_dir):
    fake.set_graph(groups={g: {"displayName": n, "mailNickname": n.lower().replace(" ", ".")}
                           for g, n in NAMES.items()})
    return Host(tmp_path, fake, pam_stack, state_dir)


def graph_calls(fake):
    return [r for r in fake.requests() if r["endpoint"] == "graph"]


def groups_db(host):
    p = host.state / "groups.db"
    return p.read_bytes() if p.exists() else None


def mapped(host, **keys):
    keys = dict(dict(role_sources="claims", groups="mapped", group_filter="prefix:linux-",
                     graph_url=host.fake.authority), **keys)
    return host.configure(**keys)


# ---------------------------------------------------------------- role source "groups"
def test_allow_groups_admits_and_refuses_admin_groups_grants_admin(host, fake):
    host.configure(role_sources="groups", allow_groups=G_PLAT, admin_groups=G_ADM, graph_url=fake.authority)
    fake.set_groups({oid_for(ALICE): [G_PLAT], oid_for(BOB): [G_MKT, G_DB], oid_for(CAROL): [G_MKT, G_ADM]})
    assert_login(host.login(user=ALICE), "user")
    assert host.role(ALICE) == "user"
    res = host.login(user=BOB, roles=[ADMIN_APP_ROLE])       # an app role does not count here
    assert_login(res, "none")
    assert_login(host.login(user=CAROL), "admin")
    # the Graph requests carried the managed identity's Graph token and asked transitiveMemberOf
    calls = graph_calls(fake)
    assert calls and all("/transitiveMemberOf/microsoft.graph.group" in c["path"] for c in calls), calls
    assert all(c["headers"].get("Authorization", "").startswith("Bearer ") for c in calls)


def test_groups_claim_decides_without_graph_overage_asks_graph(host, fake):
    host.configure(role_sources="groups", allow_groups=G_PLAT, graph_url=fake.authority)
    fake.set_groups({oid_for(ALICE): [G_PLAT]})
    fake.clear_requests()
    assert_login(host.login(user=ALICE, groups=[G_PLAT]), "user")
    assert graph_calls(fake) == []
    # Overage: Entra left the groups out: ask Graph (never "no groups", never "all groups").
    assert_login(host.login(user=ALICE, groups=None, claims=OVERAGE), "user")
    assert len(graph_calls(fake)) == 1
    fake.set_groups({oid_for(ALICE): [G_MKT]})
    assert_login(host.login(user=ALICE, claims=OVERAGE), "none")


def test_graph_down_is_unavailable_never_no_role_and_refresh_keeps(host, fake):
    host.configure(role_sources="groups", allow_groups=G_PLAT, graph_url=fake.authority)
    fake.set_groups({oid_for(ALICE): [G_PLAT]})
    assert_login(host.login(user=ALICE), "user")
    fake.fault("graph", "status", status=503)
    res = host.login(user=ALICE)
    assert res.returncode != 0 and UNAVAIL in res.out and DENIED not in res.out, res.out
    ref = host.refresh()
    assert ref.returncode == 3, ref.stdout + ref.stderr
    assert f"{ALICE}: kept user (groups unavailable" in ref.stdout, ref.stdout
    assert host.role(ALICE) == "user"
    fake.fault("graph", "ok")
    fake.set_groups({oid_for(ALICE): [G_MKT]})
    ref = host.refresh()
    assert ref.returncode == 0 and f"{ALICE}: user -> none (groups)" in ref.stdout, ref.stdout + ref.stderr
    assert host.role(ALICE) == "none"


def test_account_without_sign_in_asks_graph(host, fake):
    """sudo, cron, su: pam_entra's account stage re-decides 'groups' from Graph by the bound oid."""
    host.configure(role_sources="groups", allow_groups=G_PLAT, graph_url=fake.authority)
    fake.set_groups({oid_for(ALICE): [G_PLAT]})
    assert_login(host.login(user=ALICE), "user")
    fake.clear_requests()
    assert host.login(user=ALICE, ops=("acct_mgmt",)).returncode == 0
    assert len(graph_calls(fake)) == 1
    fake.fault("graph", "down")
    res = host.login(user=ALICE, ops=("acct_mgmt",))
    assert res.returncode == 0, res.out              # unavailable: the stored role stands
    fake.fault("graph", "ok")
    fake.set_groups({oid_for(ALICE): [G_MKT]})
    res = host.login(user=ALICE, ops=("acct_mgmt",))
    assert res.returncode != 0 and DENIED in res.out, res.out
    assert host.role(ALICE) == "none"                 # demoted in the database: NSS agrees


def test_graph_throttled_then_answers_and_pages_are_followed(host, fake):
    host.configure(role_sources="groups", allow_groups=G_PLAT, graph_url=fake.authority)
    many = [guid_for("grp:many%d" % i) for i in range(7)]
    fake.set_groups({oid_for(ALICE): many + [G_PLAT]})
    fake.set_graph(page_size=3, throttle={"count": 1, "retry_after": 1})
    fake.clear_requests()
    assert_login(host.login(user=ALICE), "user")
    calls = graph_calls(fake)
    assert [c["status"] for c in calls] == [429, 200, 200, 200], calls
    assert [c["query"].get("$skiptoken") for c in calls] == [None, None, "3", "6"], calls


def test_graph_next_link_on_another_origin_is_not_followed(host, fake):
    # graph_url names the fake as localhost; its nextLinks say 127.0.0.1: another origin.
    port = fake.authority.rsplit(":", 1)[1]
    host.configure(role_sources="groups", allow_groups=G_PLAT, graph_url=f"https://localhost:{port}")
    fake.set_groups({oid_for(ALICE): [G_MKT, G_DB, G_PLAT]})
    fake.set_graph(page_size=2)
    res = host.login(user=ALICE)
    assert res.returncode != 0 and UNAVAIL in res.out, res.out
    assert len(graph_calls(fake)) == 1


def test_graph_credential_file_root_only(tmp_path, host, fake):
    app, secret = guid_for("app:graph-reader"), "s3cr3t~value.With-Chars_01"
    cred = tmp_path / "graph.cred"
    cred.write_text(f"# app with GroupMember.Read.All\nclient_id = {app}\nclient_secret = {secret}\n")
    os.chmod(cred, 0o600)
    host.configure(role_sources="groups", allow_groups=G_PLAT, graph_url=fake.authority,
                   graph_credential_file=str(cred))
    fake.set_groups({oid_for(ALICE): [G_PLAT]})
    fake.set_graph(app_secrets={app: secret})
    fake.clear_requests()
    assert_login(host.login(user=ALICE), "user")
    tok = [r for r in fake.requests() if r["endpoint"] == "token" and r["form"].get("grant_type") == "client_credentials"]
    assert len(tok) == 1 and tok[0]["form"]["scope"] == "https://graph.microsoft.com/.default", tok
    assert [r for r in fake.requests() if r["endpoint"] == "imds"] == []
    for mode, owner in ((0o640, 0), (0o604, 0), (0o600, 1)):
        os.chmod(cred, mode)
        os.chown(cred, owner, 0)
        fake.clear_requests()
        res = host.login(user=ALICE)
        assert res.returncode != 0 and UNAVAIL in res.out, (oct(mode), owner, res.out)
        assert [r for r in fake.requests() if r["endpoint"] in ("token", "graph")] == [], (oct(mode), owner)
    os.chmod(cred, 0o600)
    os.chown(cred, 0, 0)
    fake.set_graph(app_secrets={app: "another"})
    res = host.login(user=ALICE)
    assert res.returncode != 0 and UNAVAIL in res.out, res.out


def test_groups_db_damaged_or_unsafe_is_not_trusted(host, fake):
    mapped(host)
    fake.set_groups({oid_for(ALICE): [G_DB]})
    assert_login(host.login(user=ALICE, roles=[USER_APP_ROLE]), "user")
    db = host.state / "groups.db"
    good = db.read_bytes()
    assert host.members("linux-db") == [ALICE]
    # header (the checksummed part), the group record, its name, its member list
    hdr = good[:128]
    goff, = struct.unpack_from("<Q", hdr, 32)
    idoff, = struct.unpack_from("<Q", hdr, 64)
    soff, = struct.unpack_from("<Q", hdr, 80)
    for what, off in (("header", 96), ("record", goff + 4), ("name", soff + 2), ("member", idoff)):
        bad = bytearray(good)
        bad[off] ^= 0x01
        db.write_bytes(bytes(bad))
        assert nss_getgrnam(host, "linux-db").startswith("UNAVAIL"), what
    db.write_bytes(good)
    for what, change in (("world-writable", lambda: os.chmod(db, 0o666)), ("not root's", lambda: os.chown(db, 1, 1))):
        change()
        assert not nss_getgrnam(host, "linux-db").startswith("SUCCESS"), what
        os.chmod(db, 0o644)
        os.chown(db, 0, 0)
    assert host.members("linux-db") == [ALICE]


def nss_getgrnam(host, name):
    env = dict(os.environ, ENTRA_LOGIN_CONF=str(host.conf))
    return subprocess.run([str(NSS_CALL), str(NSS_MODULE), "getgrnam", name], capture_output=True, text=True,
                          env=env, timeout=30).stdout.strip()


# ---------------------------------------------------------------- mapping through glibc
def test_mapped_groups_id_getent_refresh_removes(tmp_path, host, fake, nss_build):  # noqa: F811
    mapped(host)
    fake.set_groups({oid_for(ALICE): [G_PLAT, G_DB, G_MKT], oid_for(BOB): [G_PLAT]})
    assert_login(host.login(user=ALICE, roles=[USER_APP_ROLE]), "user")
    assert_login(host.login(user=BOB, roles=[USER_APP_ROLE]), "user")
    iso = namespace(tmp_path, host, nss_build)
    res = run(iso, f"id -Gn {ALICE}", "getent group linux-platform", "getent group linux-db",
              "getent group marketing", f"getent group {GID_MIN - 1}", "getent group | grep ^linux-")
    assert res[0][0] == 0 and {"linux-platform", "linux-db"} <= set(res[0][1][0].split()), res[0]
    assert "marketing" not in res[0][1][0].split()
    line = res[1][1][0].split(":")
    assert line[0] == "linux-platform" and GID_MIN <= int(line[2]) <= GID_MAX, res[1]
    assert sorted(line[3].split(",")) == [ALICE, BOB], res[1]
    assert res[2][1][0].endswith(":" + ALICE), res[2]
    assert res[3][0] == 2, res[3]                         # filtered out: not a Linux group
    assert sorted(ln.split(":")[0] for ln in res[5][1]) == ["linux-db", "linux-platform"], res[5]
    gid_plat = int(line[2])
    # removal in the directory takes effect at the next refresh
    fake.set_groups({oid_for(ALICE): [G_PLAT], oid_for(BOB): [G_PLAT]})
    ref = host.refresh()
    assert ref.returncode == 0, ref.stdout + ref.stderr
    assert "groups: 2 users, 2 read, 0 kept" in ref.stdout, ref.stdout
    res = run(iso, f"id -Gn {ALICE}", "getent group linux-db", f"getent group {gid_plat}")
    assert "linux-db" not in res[0][1][0].split() and "linux-platform" in res[0][1][0].split(), res[0]
    assert res[1][0] == 2, res[1]
    assert res[2][1][0].startswith(f"linux-platform:*:{gid_plat}:"), res[2]   # the gid is stable


def test_graph_down_at_refresh_removes_nothing(tmp_path, host, fake, nss_build):  # noqa: F811
    mapped(host)
    fake.set_groups({oid_for(ALICE): [G_PLAT, G_DB]})
    assert_login(host.login(user=ALICE, roles=[USER_APP_ROLE]), "user")
    before = groups_db(host)
    assert before
    fake.set_groups({oid_for(ALICE): []})
    fake.fault("graph", "down")
    ref = host.refresh()
    assert ref.returncode == 3, ref.stdout + ref.stderr
    assert "groups: 1 users, 0 read, 1 kept (Graph unavailable" in ref.stdout, ref.stdout
    assert groups_db(host) == before
    iso = namespace(tmp_path, host, nss_build)
    res = run(iso, f"id -Gn {ALICE}")
    assert {"linux-platform", "linux-db"} <= set(res[0][1][0].split()), res[0]


def test_collisions_with_local_and_mapped_names_are_refused(tmp_path, host, fake, nss_build, syslog):  # noqa: F811
    mapped(host, group_filter=f"prefix:linux-, {G_SUDO}")
    fake.set_groups({oid_for(ALICE): [G_PLAT, G_SUDO, G_TWIN1, G_TWIN2]})
    assert_login(host.login(user=ALICE, roles=[USER_APP_ROLE]), "user")
    iso = namespace(tmp_path, host, nss_build)
    local_sudo = [ln for ln in open("/etc/group").read().splitlines() if ln.startswith("sudo:")]
    res = run(iso, f"id -Gn {ALICE}", "getent group sudo", "getent group linux-twin")
    names = set(res[0][1][0].split())
    assert "linux-platform" in names and "linux-twin" not in names, res[0]
    # A local group created after the mapping wins: the mapped one is hidden at once.
    iso.add_etc("group", open("/etc/group").read() + "linux-platform:x:4343:\n")
    late = run(iso, f"id -Gn {ALICE}", "getent group linux-platform")
    assert "linux-platform" not in late[0][1][0].split(), late[0]
    assert late[1][1] == ["linux-platform:x:4343:"], late[1]
    assert res[1][1] == local_sudo, res[1]                 # the local group, untouched
    assert res[2][0] == 2, res[2]                          # both twins refused
    log = syslog.text()
    assert f"group not mapped: group oid={G_SUDO} name 'sudo'" in log, log
    assert f"group oid={G_TWIN1} name 'linux-twin': another mapped group has the same name" in log, log
    assert f"group oid={G_TWIN2}" in log


def test_groups_none_answers_nothing_and_config_checks(tmp_path, host, fake, state_dir):
    host.configure(role_sources="claims", graph_url=fake.authority)
    fake.set_groups({oid_for(ALICE): [G_PLAT]})
    assert_login(host.login(user=ALICE, roles=[USER_APP_ROLE]), "user")
    assert groups_db(host) is None and graph_calls(fake) == []
    bad = {
        "gid_min": ("gid_min = 1500000000", "must not overlap uid_min..uid_max"),
        "filter": ("groups = mapped\ngroup_filter = linux-*", "prefix:<lower-case name prefix>"),
        "nofilter": ("groups = mapped", "required with groups = mapped"),
        "allow": ("allow_groups = platform", "group object ids"),
        "nosrc": (f"allow_groups = {G_PLAT}", "need 'groups' in role_sources"),
        "attr": ("group_name_attribute = cn", "displayName, mailNickname or onPremisesSamAccountName"),
        "mode": ("groups = all", "none or mapped"),
        "unknown": ("group_members = x", "unknown key"),
    }
    for key, (line, msg) in bad.items():
        conf = tmp_path / f"bad-{key}.conf"
        conf.write_text(host.conf.read_text() + line + "\n")
        os.chmod(conf, 0o644)
        p = subprocess.run([str(CLI), "--config", str(conf), "status"], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and msg in p.stderr, (key, p.stderr)


# ---------------------------------------------------------------- real sshd + sudo
def test_sshd_login_two_mapped_groups_and_sudoers_rule(tmp_path, fake, public_state_dir):
    fake.set_graph(groups={g: {"displayName": n} for g, n in NAMES.items()})
    fake.set_groups({oid_for(ALICE): [G_PLAT, G_DB, G_MKT]})
    conf = host_config(fake, public_state_dir, groups="mapped", group_filter="prefix:linux-",
                       graph_url=fake.authority, imds_url=fake.imds_url, http_timeout=5)
    env = SshdEnv(tmp_path, BUILD, conf)
    env.iso.add_etc("sudoers.d/entra-groups", "%linux-platform ALL=(ALL) NOPASSWD:ALL\n", 0o440)
    env.start()
    try:
        tok = tmp_path / "tok"
        tok.write_text(fake.mint("access_v2", upn=ALICE, roles=[USER_APP_ROLE]))
        res = subprocess.run([str(ENTRA_SSH), "--token-file", str(tok), "-F", "/dev/null", "-p", str(env.port),
            "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/kh", "-l", ALICE, "-T",
            "127.0.0.1", "id -Gn; getent group linux-db; sudo -n id -u"], capture_output=True, text=True,
            timeout=90, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, res.stderr + env.log()[-3000:]
        out = res.stdout.splitlines()
        assert {"linux-platform", "linux-db", "aad_users"} <= set(out[0].split()), out
        assert "aad_admins" not in out[0].split()
        assert out[1].startswith("linux-db:*:") and out[1].endswith(":" + ALICE), out
        assert out[2] == "0", out                      # sudo through %linux-platform
        # removed from linux-platform in the directory: refresh, and the sudoers rule no longer applies
        fake.set_groups({oid_for(ALICE): [G_DB]})
        p = env.iso.run(f"{CLI} refresh && id -Gn {ALICE} && setpriv --reuid={ALICE} --regid={ALICE} "
                        f"--init-groups sudo -n id -u; echo rc=$?")
        assert "linux-platform" not in p.stdout and "linux-db" in p.stdout, p.stdout + p.stderr
        assert p.stdout.strip().endswith("rc=1"), p.stdout + p.stderr
    finally:
        env.stop()
