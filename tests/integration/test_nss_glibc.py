"""The NSS module through real glibc (getent, id) in a mount namespace: /etc/nsswitch.conf,
/etc/entra-login.conf (and /etc/passwd, /etc/group where a test needs local users) and the module in
the system library directory are overlays that vanish with the namespace (tests/isolated.py)."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "nss"))
from nss_env import NssEnv, q  # noqa: E402

from test_nss_module import BAD_NAMES  # noqa: E402

ADMIN_GID, USER_GID = 999999001, 999999002


@pytest.fixture
def nss(tmp_path):
    return NssEnv(tmp_path)


def run(iso, script):
    p = iso.run(NssEnv.glibc_script(script), timeout=120)
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    return p


def cmds(iso, *commands):
    """Run each command in the namespace; returns [(exit code, stdout lines)]."""
    script = "".join(f"{c}\necho \"@@rc=$?\"\n" for c in commands)
    p = run(iso, script)
    out, cur = [], []
    for line in p.stdout.splitlines():
        if line.startswith("@@rc="):
            out.append((int(line[5:]), cur))
            cur = []
        else:
            cur.append(line)
    assert len(out) == len(commands), p.stdout + p.stderr
    return out


def test_getent_and_id_for_database_and_provisional_users(nss):
    a = nss.login("alice@contoso.com", 1, "admin", "Alice Example")
    b = nss.login("bob@fabrikam.example", 2, "user", "Bob")
    iso = nss.isolated()
    res = cmds(iso, "getent passwd alice@contoso.com", f"getent passwd {a}", "getent group aad_admins",
               f"getent group {USER_GID}", f"getent group {b}", "getent shadow alice@contoso.com",
               "getent initgroups alice@contoso.com", "id alice@contoso.com", "id -Gn bob@fabrikam.example",
               "id carol@contoso.com", "getent passwd carol@contoso.com", "getent passwd root", "id -u root")
    assert res[0] == (0, [f"alice@contoso.com:*:{a}:{a}:Alice Example:/home/alice@contoso.com:/bin/bash"])
    assert res[1] == res[0]
    assert res[2] == (0, [f"aad_admins:*:{ADMIN_GID}:alice@contoso.com"])
    assert res[3] == (0, [f"aad_users:*:{USER_GID}:alice@contoso.com,bob@fabrikam.example"])
    assert res[4] == (0, [f"bob@fabrikam.example:*:{b}:"])
    assert res[5] == (0, ["alice@contoso.com:*:::::::"])
    assert res[6][0] == 0 and res[6][1][0].split() == ["alice@contoso.com", str(ADMIN_GID), str(USER_GID)]
    assert res[7] == (0, [f"uid={a}(alice@contoso.com) gid={a}(alice@contoso.com) groups={a}(alice@contoso.com),"
                          f"{ADMIN_GID}(aad_admins),{USER_GID}(aad_users)"])
    assert res[8] == (0, ["bob@fabrikam.example aad_users"])
    c = int(res[10][1][0].split(":")[2])
    assert res[9] == (0, [f"uid={c}(carol@contoso.com) gid={c}(carol@contoso.com) groups={c}(carol@contoso.com)"])
    assert res[11][1][0].startswith("root:x:0:0:")
    assert res[12] == (0, ["0"])
    assert nss.login("carol@contoso.com", 3) == c


def test_names_not_ours_through_getent(nss):
    nss.login("alice@contoso.com")
    iso = nss.isolated(sources="entra")
    names = [n for n in BAD_NAMES if n and n not in ("root", "daemon", "nobody")]
    res = cmds(iso, *[f"getent passwd -- {q(n)}" for n in names], *[f"getent group -- {q(n)}" for n in names[:8]])
    for name, (rc, out) in zip(names + names[:8], res):
        assert (rc, out) == (2, []), name


def test_local_names_and_ids_win(nss):
    f = nss.login("frank@contoso.com", 6, "admin")
    nss.login("grace@contoso.com", 7, "user")
    iso = nss.isolated(sources="entra files",
                       passwd_extra=f"erin@contoso.com:x:4321:4321::/home/erin:/bin/sh\nlocalfrank:x:{f}:100::/:/bin/sh\n",
                       group_extra="grace@contoso.com:x:7777:\n")
    res = cmds(iso, "getent passwd erin@contoso.com", "getent passwd frank@contoso.com",
               "getent passwd grace@contoso.com", f"getent passwd {f}", "getent group aad_admins",
               "getent passwd root", "getent passwd 0")
    assert res[0] == (0, ["erin@contoso.com:x:4321:4321::/home/erin:/bin/sh"])    # files, not entra
    assert res[1] == (2, [])       # its uid belongs to a local user now: refused
    assert res[2] == (2, [])       # a local group has that name
    assert res[3] == (0, [f"localfrank:x:{f}:100::/:/bin/sh"])
    assert res[4] == (0, [f"aad_admins:*:{ADMIN_GID}:"])   # frank is not listed either
    assert res[5][1][0].startswith("root:x:0:0:") and res[6] == res[5]


def test_a_local_group_at_a_role_gid_or_name_is_not_granted_by_initgroups(nss):
    """getgrgid already hides our role group when a local group owns its gid or name; initgroups must
    not put the user into that local group either (it might be 'docker' or 'disk')."""
    a = nss.login("alice@contoso.com", 1, "admin")
    b = nss.login("bob@contoso.com", 2, "user")
    iso = nss.isolated(sources="files entra", group_extra=f"localadm:x:{ADMIN_GID}:\naad_users:x:4242:\n")
    res = cmds(iso, "getent initgroups alice@contoso.com", "getent initgroups bob@contoso.com",
               f"getent group {ADMIN_GID}", "id -G alice@contoso.com")
    assert res[0][0] == 0 and res[0][1][0].split() == ["alice@contoso.com"], res[0]   # no localadm, no aad_users
    assert res[1][0] == 0 and res[1][1][0].split() == ["bob@contoso.com"], res[1]
    assert res[2] == (0, [f"localadm:x:{ADMIN_GID}:"])
    assert res[3] == (0, [str(a)]), res[3]
    assert b    # (without collisions test_getent_and_id_for_database_and_provisional_users sees both groups)


def test_enumeration_and_corrupt_database_through_glibc(nss):
    a = nss.login("alice@contoso.com", 1, "admin")
    iso = nss.isolated(sources="entra")
    res = cmds(iso, "getent passwd", "getent group")
    assert res[0] == (0, [f"alice@contoso.com:*:{a}:{a}::/home/alice@contoso.com:/bin/bash"])
    assert res[1] == (0, [f"aad_admins:*:{ADMIN_GID}:alice@contoso.com",
                          f"aad_users:*:{USER_GID}:alice@contoso.com", f"alice@contoso.com:*:{a}:"])
    data = nss.db.read_bytes()
    nss.db.write_bytes(data[:100])
    iso = nss.isolated(sources="files entra")
    res = cmds(iso, "getent passwd alice@contoso.com", "getent passwd newbie@contoso.com", "id -un root",
               "getent group aad_admins")
    assert [r[0] for r in res] == [2, 2, 0, 2]
    assert res[2][1] == ["root"]
