"""The NSS module under nss_wrapper (no namespace, no root needed for the lookups themselves):
nss_wrapper loads it by path and resolves supplementary groups through setgrent/getgrent_r."""
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "nss"))
from nss_env import NssEnv  # noqa: E402

from test_nss_module import BAD_NAMES  # noqa: E402

ADMIN_GID, USER_GID = 999999001, 999999002
LOCAL_PW = "root:x:0:0:root:/root:/bin/bash\nlocal@contoso.com:x:2000:2000::/home/l:/bin/sh\n"
LOCAL_GR = "root:x:0:\nwheel:x:10:root\n"


@pytest.fixture
def nss(tmp_path):
    return NssEnv(tmp_path)


def sh(env, *args):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=60)
    assert "AddressSanitizer" not in p.stderr, p.stderr
    return p.returncode, p.stdout.splitlines()


def test_known_and_provisional_users(nss):
    a = nss.login("alice@contoso.com", 1, "admin", "Alice")
    b = nss.login("bob@contoso.com", 2, "user")
    env = nss.wrapper_env(LOCAL_PW, LOCAL_GR)
    assert sh(env, "getent", "passwd", "alice@contoso.com") == \
        (0, [f"alice@contoso.com:*:{a}:{a}:Alice:/home/alice@contoso.com:/bin/bash"])
    assert sh(env, "getent", "passwd", str(b))[1][0].startswith("bob@contoso.com:*:")
    assert sh(env, "getent", "group", "aad_users") == \
        (0, [f"aad_users:*:{USER_GID}:alice@contoso.com,bob@contoso.com"])
    assert sh(env, "id", "alice@contoso.com") == \
        (0, [f"uid={a}(alice@contoso.com) gid={a}(alice@contoso.com) groups={a}(alice@contoso.com),"
             f"{ADMIN_GID}(aad_admins),{USER_GID}(aad_users)"])
    assert sh(env, "id", "-Gn", "bob@contoso.com") == (0, ["bob@contoso.com aad_users"])
    rc, out = sh(env, "getent", "passwd", "carol@contoso.com")
    assert rc == 0 and out[0].startswith("carol@contoso.com:*:")
    assert nss.login("carol@contoso.com", 3) == int(out[0].split(":")[2])
    # nss_wrapper's own files come first.
    assert sh(env, "getent", "passwd", "local@contoso.com") == (0, ["local@contoso.com:x:2000:2000::/home/l:/bin/sh"])
    assert sh(env, "getent", "passwd", "root")[1][0].startswith("root:x:0:0")


def test_names_not_ours(nss):
    nss.login("alice@contoso.com")
    env = nss.wrapper_env(LOCAL_PW, LOCAL_GR)
    for name in BAD_NAMES:
        if name in ("root", "0", ""):
            continue        # root (uid 0) is in the wrapper's own file; getent cannot look "" up
        assert sh(env, "getent", "passwd", "--", name) == (2, []), name
        assert sh(env, "getent", "group", "--", name) == (2, []), name


def test_enumeration_and_bad_database(nss):
    a = nss.login("alice@contoso.com", 1, "admin")
    env = nss.wrapper_env(LOCAL_PW, LOCAL_GR)
    rc, out = sh(env, "getent", "passwd")
    assert rc == 0 and out[-1] == f"alice@contoso.com:*:{a}:{a}::/home/alice@contoso.com:/bin/bash"
    rc, out = sh(env, "getent", "group")
    assert out[-3:] == [f"aad_admins:*:{ADMIN_GID}:alice@contoso.com", f"aad_users:*:{USER_GID}:alice@contoso.com",
                        f"alice@contoso.com:*:{a}:"]
    nss.db.write_bytes(b"\0" * 4096)
    assert sh(env, "getent", "passwd", "alice@contoso.com") == (2, [])
    assert sh(env, "getent", "passwd", "root")[1][0].startswith("root:x:0:0")
