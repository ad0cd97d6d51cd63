"""entra-login users / show / forget against a private user database, and what NSS then says."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "nss"))
from nss_env import TENANT, NssEnv, oid  # noqa: E402

ADMIN_GID, USER_GID = 999999001, 999999002


@pytest.fixture
def nss(tmp_path):
    return NssEnv(tmp_path)


def test_users_lists_everyone_in_name_order(nss):
    p = nss.cli("users")
    assert p.returncode == 0 and p.stdout.split() == ["NAME", "UID", "ROLE", "OID", "LAST", "LOGIN"]
    a = nss.login("zoe@contoso.com", 1, "admin")
    b = nss.login("adam@fabrikam.example", 2, "user")
    nss.tool("forget", "zoe@contoso.com")
    rows = [line.split() for line in nss.cli("users").stdout.splitlines()[1:]]
    assert rows == [["adam@fabrikam.example", str(b), "user", oid(2), "2023-11-14", "22:13:20Z"],
                    ["zoe@contoso.com", str(a), "none", "-", "2023-11-14", "22:13:20Z", "(blocked)"]]
    assert nss.cli("users", "extra").returncode == 2


def test_show_known_provisional_and_foreign_names(nss):
    a = nss.login("alice@contoso.com", 1, "admin", "Alice Example")
    p = nss.cli("show", "alice@contoso.com")
    assert p.returncode == 0
    info = dict(line.split(": ", 1) for line in p.stdout.splitlines())
    assert info["uid"] == info["gid"] == str(a)
    assert info["role"] == "admin" and info["groups"] == "aad_admins aad_users"
    assert info["role source"] == "unknown (written before role sources were stored)"
    assert info["oid"] == oid(1) and info["tid"] == TENANT and info["binding"] == "bound"
    assert info["display name"] == "Alice Example" and info["home"] == "/home/alice@contoso.com"
    assert info["first login"] == info["last login"] == "2023-11-14 22:13:20Z"
    p = nss.cli("show", "carol@contoso.com")
    uid = int(nss.first("getpwnam", "carol@contoso.com").split(":")[2])
    assert p.returncode == 1 and f"its first login would get uid {uid}" in p.stderr
    p = nss.cli("show", "Carol@contoso.com")
    assert p.returncode == 1 and "not a directory user name" in p.stderr
    assert nss.cli("show").returncode == 2


def test_forget_blocks_purge_retires_release_frees_the_name_not_the_uid(nss):
    """issue 19: forget blocks the name (uid and old oid kept); purge leaves a tombstone NSS never
    answers; only `release` lets another object have the name, with a fresh uid."""
    a = nss.login("alice@contoso.com", 1, "admin", "Alice")
    p = nss.cli("forget", "alice@contoso.com")
    assert p.returncode == 0 and f"uid {a} stays reserved" in p.stdout and "blocked" in p.stdout
    assert nss.first("getpwnam", "alice@contoso.com").split(":")[2] == str(a)
    assert nss.first("getgrnam", "aad_admins") == f"SUCCESS aad_admins:*:{ADMIN_GID}:"
    assert nss.first("initgroups", "alice@contoso.com", a) == "SUCCESS"
    # Neither another Entra object nor the same one signs in under a forgotten name.
    for n in (9, 1):
        p = nss.tool("login", "alice@contoso.com", oid(n), TENANT, "user", check=False)
        assert p.stdout.strip() == "EL_ERR_NAME_BLOCKED", p.stdout
    # unblock: only the same object comes back, with its uid.
    assert nss.cli("unblock", "alice@contoso.com").returncode == 0
    assert nss.tool("login", "alice@contoso.com", oid(9), TENANT, "user", check=False).stdout.strip() == \
        "EL_ERR_NAME_RETIRED"
    assert nss.login("alice@contoso.com", 1, "user") == a
    p = nss.cli("forget", "alice@contoso.com", "--purge")
    assert p.returncode == 0 and f"retired; uid {a} stays reserved" in p.stdout, p.stdout
    # A tombstone: no entry, not even a provisional one; the uid is not answered either.
    assert nss.first("getpwnam", "alice@contoso.com") == "NOTFOUND"
    assert nss.first("getpwuid", a) == "NOTFOUND"
    info = dict(line.split(": ", 1) for line in nss.cli("show", "alice@contoso.com").stdout.splitlines())
    assert info["binding"].startswith("retired"), info
    assert nss.cli("block", "alice@contoso.com").returncode == 0     # already refused: a no-op
    assert nss.cli("unblock", "alice@contoso.com").returncode == 1
    p = nss.cli("release", "alice@contoso.com")
    assert p.returncode == 0 and f"uid {a} stays reserved (#{a})" in p.stdout, p.stdout
    assert nss.first("getpwuid", a) == "NOTFOUND"
    rows = [line.split() for line in nss.cli("users").stdout.splitlines()[1:]]
    assert rows[0][:2] == [f"#{a}", str(a)] and "reserved)" in rows[0][-1], rows
    # Released: the next sign-in under the name is a new user with a new uid, and the old home
    # path (the old holder's files) is not theirs: NSS already announces "<home>.<uid>".
    prov = nss.first("getpwnam", "alice@contoso.com").split(":")
    assert prov[2] != str(a) and prov[5] == f"/home/alice@contoso.com.{prov[2]}", prov
    b = nss.login("alice@contoso.com", 9, "user")
    assert b != a and str(b) == prov[2]
    assert nss.first("getpwnam", "alice@contoso.com").split(":")[5] == prov[5]
    assert nss.first("getpwnam", "alice@contoso.com").split(":")[2] == str(b)
    assert nss.cli("release", "alice@contoso.com").returncode == 1    # bound: forget first
    assert nss.cli("forget", "nobody@contoso.com").returncode == 1
    assert nss.cli("release").returncode == 2
    assert nss.cli("block").returncode == 2
    assert nss.cli("forget").returncode == 2
    assert nss.cli("forget", "a@contoso.com", "--bogus").returncode == 2


def test_forget_block_release_drop_cached_certificate_decisions(nss):
    """issue 19: a decision authorized-keys cached (60 s) and the name's certificate grant must not
    outlive forget / block / release / rename."""
    nss.login("alice@contoso.com", 1, "admin")
    nss.login("bob@contoso.com", 2, "admin")
    for cmd in (("block", "alice@contoso.com"), ("forget", "alice@contoso.com"),
                ("release", "alice@contoso.com"), ("rename", "--keep-home", "bob@contoso.com", "rob@contoso.com")):
        cache, grants = nss.state / "akcache", nss.state / "certgrant"
        for d in (cache, grants):
            d.mkdir(mode=0o700, exist_ok=True)
        (cache / ("ab" * 32)).write_text("0 cert-authority line\n")
        (grants / cmd[-1 if cmd[0] != "rename" else 2]).write_text("x 1\n")
        p = nss.cli(*cmd)
        assert p.returncode == 0, (cmd, p.stdout + p.stderr)
        assert list(cache.iterdir()) == [] and list(grants.iterdir()) == [], cmd


def test_commands_refuse_a_damaged_database(nss):
    nss.login("alice@contoso.com")
    nss.db.write_bytes(nss.db.read_bytes()[:200])
    for args in (("users",), ("show", "alice@contoso.com"), ("forget", "alice@contoso.com")):
        p = nss.cli(*args)
        assert p.returncode == 1 and "corrupt" in p.stderr, args
    assert len(nss.db.read_bytes()) == 200      # never overwritten
