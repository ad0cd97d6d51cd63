"""Directory users over their whole life (issue 15): import from Microsoft's extension
(/etc/aadpasswd) with pinned uids, renames, one name per object id. Writer, CLI and NSS
(nss_call through dlopen, and getent in a namespace); the sshd side is in test_life_sshd.py."""
import concurrent.futures
import os
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "nss"))
from nss_env import CLI, TENANT, TOOLS, NssEnv, oid  # noqa: E402


def guid(n):
    return f"{n:08x}-aaaa-4bbb-8ccc-000000000000"


def fnv_uid(name, lo, hi):
    h = 0xcbf29ce484222325
    for c in name.lower().encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return lo + h % (hi - lo + 1)


AADPASSWD = "".join(line + "\n" for line in [
    f"alice@contoso.com:{guid(1)}:1000001:1000001:Alice Example:/home/alice:/bin/bash",
    f"Bob@Contoso.com:{guid(2)}:1000002:1000002:Bob:/home/bob:/bin/sh",
    f"alice@fabrikam.example:{guid(3)}:1000003:1000003:Alice (guest):/home/alice_1:/bin/bash",
    "this line is broken",
    f"eve@evil.example:{guid(4)}:1000004:1000004:Eve:/home/eve:/bin/bash",
    f"dup@contoso.com:{guid(1)}:1000005:1000005:Dup:/home/dup:/bin/bash",
    f"nob@contoso.com:{guid(6)}:65534:65534:N:/home/nob:/bin/bash",
    f"zero@contoso.com:{guid(7)}:0:0:Z:/root:/bin/bash",
    "notguid@contoso.com:not-a-guid:1000008:1000008:G:/home/g:/bin/bash",
    f"gid@contoso.com:{guid(9)}:1000009:100:G:/home/gid:/bin/bash",
    f"alice@contoso.com:{guid(10)}:1000010:1000010:Again:/home/alice2:/bin/bash",
    f"uiddup@contoso.com:{guid(11)}:1000001:1000001:U:/home/u:/bin/bash",
    f"rel@contoso.com:{guid(12)}:1000012:1000012:R:home/rel:/bin/bash",
    f"dots@contoso.com:{guid(13)}:1000013:1000013:D:/home/../etc:/bin/bash",
])


@pytest.fixture
def nss(tmp_path):
    return NssEnv(tmp_path)


def lines_of(out):
    return {int(l.split(":")[0].split()[1]): l for l in out.splitlines() if l.startswith("line ")}


def test_import_dry_run_apply_and_again(nss, tmp_path):
    f = tmp_path / "aadpasswd"
    f.write_text(AADPASSWD)
    p = nss.cli("import-aadpasswd", f)
    assert p.returncode == 0, p.stderr
    assert list(nss.state.iterdir()) == []          # dry run: nothing, not even the lock file
    dry = lines_of(p.stdout)
    assert "would import with uid 1000001, home /home/alice" in dry[1]
    assert "bob@contoso.com: would import" in dry[2]      # the name is lower-cased
    assert "would import with uid 1000003, home /home/alice_1" in dry[3]
    assert "skipped: malformed line" in dry[4]
    assert "skipped: domain not in" in dry[5]
    assert "skipped: duplicate object id" in dry[6] and "alice@contoso.com" in dry[6]
    assert "skipped: uid clashes with a local" in dry[7]
    assert "skipped: uid is 0" in dry[8]
    assert "skipped: object id is not a GUID" in dry[9]
    assert "skipped: gid differs from uid" in dry[10]
    assert "skipped: duplicate name" in dry[11]
    assert "skipped: duplicate uid" in dry[12]
    assert "skipped: home or shell" in dry[13] and "skipped: home or shell" in dry[14]
    assert "dry run: 3 to import, 0 already imported, 11 skipped; nothing written" in p.stdout

    p = nss.cli("import-aadpasswd", "--apply", f)
    assert p.returncode == 0, p.stderr
    real = lines_of(p.stdout)
    assert [real[i].replace("imported with", "would import with") for i in sorted(real)] == \
        [dry[i] for i in sorted(dry)]                # the verdicts are the dry run's
    assert "3 imported, 0 already imported, 11 skipped" in p.stdout
    assert nss.first("getpwnam", "alice@contoso.com") == \
        "SUCCESS alice@contoso.com:*:1000001:1000001:Alice Example:/home/alice:/bin/bash"
    assert nss.first("getpwnam", "bob@contoso.com") == "SUCCESS bob@contoso.com:*:1000002:1000002:Bob:/home/bob:/bin/sh"
    # Pinned uids lie below uid_min (1000000000) and are still served, by uid and as groups.
    assert nss.first("getpwuid", 1000003) == \
        "SUCCESS alice@fabrikam.example:*:1000003:1000003:Alice (guest):/home/alice_1:/bin/bash"
    assert nss.first("getgrgid", 1000003) == "SUCCESS alice@fabrikam.example:*:1000003:"
    assert nss.first("getgrnam", "alice@contoso.com") == "SUCCESS alice@contoso.com:*:1000001:"
    # Not imported: the clashing and invalid ones resolve as before (provisional, in range).
    for name in ("dup@contoso.com", "nob@contoso.com", "zero@contoso.com"):
        uid = int(nss.first("getpwnam", name).split(":")[2])
        assert uid >= 1000000000
    assert nss.first("getpwuid", 65534) == "NOTFOUND"
    before = nss.db.read_bytes()
    p = nss.cli("import-aadpasswd", "--apply", f)
    assert p.returncode == 0
    assert "nothing changed: 3 already imported, 11 skipped" in p.stdout
    assert "alice@contoso.com: already imported, unchanged (uid 1000001)" in p.stdout
    assert nss.db.read_bytes() == before           # not rewritten: same generation, same bytes
    # A later login of an imported user keeps the pinned uid and home.
    assert int(nss.tool("login", "alice@contoso.com", guid(1), TENANT, "admin", "Alice").stdout) == 1000001
    assert nss.first("getpwnam", "alice@contoso.com").endswith(":1000001:1000001:Alice:/home/alice:/bin/bash")
    info = nss.cli("show", "alice@contoso.com").stdout
    assert "uid: 1000001 (pinned: imported)" in info and "home: /home/alice (pinned)" in info


def test_import_refuses_names_bound_elsewhere_and_role_gids(nss, tmp_path):
    nss.tool("login", "carol@contoso.com", guid(20), TENANT, "user")
    carol_uid = int(nss.first("getpwnam", "carol@contoso.com").split(":")[2])
    nss.tool("login", "dan@contoso.com", guid(21), TENANT, "user")
    f = tmp_path / "aadpasswd"
    f.write_text(f"carol@contoso.com:{guid(20)}:1000020:1000020:C:/home/carol:/bin/bash\n"
                 f"dave@contoso.com:{guid(21)}:1000021:1000021:D:/home/dave:/bin/bash\n"
                 f"erin@contoso.com:{guid(22)}:{carol_uid}:{carol_uid}:E:/home/erin:/bin/bash\n"
                 f"fred@contoso.com:{guid(23)}:999999001:999999001:F:/home/fred:/bin/bash\n"
                 f"gina@contoso.com:{guid(24)}:999:999:G:/home/gina:/bin/bash\n")
    before = nss.db.read_bytes()
    out = lines_of(nss.cli("import-aadpasswd", "--apply", f).stdout)
    assert f"name already in the user database with uid {carol_uid}" in out[1]
    assert "object id already bound to dan@contoso.com" in out[2]
    assert "uid already belongs to carol@contoso.com" in out[3]
    assert "role group id" in out[4] and "system id" in out[5]
    assert nss.db.read_bytes() == before


def test_group_advice_names_the_config_lines(nss, tmp_path):
    f = tmp_path / "aadpasswd"
    f.write_text(AADPASSWD)
    g = tmp_path / "group"
    g.write_text("root:x:0:\naad_admins:x:9999:alice@contoso.com\naad_users:x:1001:alice@contoso.com,bob\n")
    p = nss.cli("import-aadpasswd", "--group", g, f)
    assert "aad_admins has gid 9999 locally" in p.stdout and "admin_gid = 9999" in p.stdout
    assert "aad_users has gid 1001 locally" in p.stdout and "user_gid = 1001" in p.stdout
    assert "groupdel aad_admins" in p.stdout
    g.write_text("root:x:0:\n")
    p = nss.cli("import-aadpasswd", "--group", g, f)
    assert "aad_admins: not a local group" in p.stdout
    assert nss.cli("import-aadpasswd").returncode == 2
    assert nss.cli("import-aadpasswd", tmp_path / "missing").returncode == 1


def test_new_users_never_get_a_pinned_uid(tmp_path):
    nss = NssEnv(tmp_path, uid_min=5000, uid_max=6000)
    name = "newbie@contoso.com"
    home_uid = fnv_uid(name, 5000, 6000)
    assert home_uid != 6000
    f = tmp_path / "aadpasswd"
    f.write_text(f"old@contoso.com:{guid(30)}:{home_uid}:{home_uid}:Old:/home/old:/bin/bash\n")
    assert "imported" in nss.cli("import-aadpasswd", "--apply", f).stdout
    # The provisional answer and the first login both probe past the pinned uid.
    assert nss.first("getpwnam", name).split(":")[2] == str(home_uid + 1)
    assert nss.login(name, 31) == home_uid + 1
    # Forgotten, the pinned uid stays reserved for its name.
    nss.tool("forget", "old@contoso.com")
    assert nss.login("other@contoso.com", 32) != home_uid


def test_one_name_per_oid_in_the_writer(nss):
    a = nss.login("alice@contoso.com", 1)
    before = nss.db.read_bytes()
    p = nss.tool("login", "alice.smith@contoso.com", oid(1), TENANT, "user", check=False)
    assert p.returncode == 1 and p.stdout.strip() == "EL_ERR_OID_OTHER_NAME"
    p = nss.tool("check", "alice.smith@contoso.com", oid(1), TENANT, check=False)
    assert p.stdout.strip() == "EL_ERR_OID_OTHER_NAME"
    assert nss.db.read_bytes() == before
    # The same oid in another tenant is another object.
    nss.tool("login", "alice.smith@contoso.com", oid(1), "00000000-0000-4000-8000-000000000001", "user")
    assert nss.login("alice@contoso.com", 1) == a


def test_rename_moves_record_and_home(tmp_path):
    homes = tmp_path / "homes"
    homes.mkdir()
    nss = NssEnv(tmp_path, home=f"{homes}/%u")
    uid = nss.login("alice@contoso.com", 1, "admin", "Alice")
    old_home = homes / "alice@contoso.com"
    old_home.mkdir()
    (old_home / "notes.txt").write_text("mine")
    os.chown(old_home / "notes.txt", uid, uid)
    # Only the user's own home is moved (an imported home could be /etc).
    p = nss.cli("rename", "alice@contoso.com", "alice.smith@contoso.com")
    assert p.returncode == 1 and "is owned by uid 0, not by the user" in p.stderr
    os.chown(old_home, uid, uid)
    p = nss.cli("rename", "alice@contoso.com", "alice.smith@contoso.com")
    assert p.returncode == 0, p.stderr
    assert f"uid {uid} kept, home moved" in p.stdout
    new_home = homes / "alice.smith@contoso.com"
    assert not old_home.exists() and (new_home / "notes.txt").read_text() == "mine"
    assert (new_home / "notes.txt").stat().st_uid == uid
    assert nss.first("getpwnam", "alice.smith@contoso.com") == \
        f"SUCCESS alice.smith@contoso.com:*:{uid}:{uid}:Alice:{new_home}:/bin/bash"
    assert nss.first("getpwuid", uid).startswith("SUCCESS alice.smith@contoso.com:")
    assert nss.first("initgroups", "alice.smith@contoso.com", uid) == "SUCCESS 999999001 999999002"
    # The old name is a tombstone (issue 19): no entry at all, not even a provisional one.
    assert nss.first("getpwnam", "alice@contoso.com") == "NOTFOUND"
    assert nss.cli("show", "alice@contoso.com").returncode == 0
    # Logins: the new name works with the same uid, the old one is refused for this object.
    assert nss.login("alice.smith@contoso.com", 1, "admin") == uid
    assert nss.tool("login", "alice@contoso.com", oid(1), TENANT, "user", check=False).stdout.strip() == \
        "EL_ERR_NAME_RETIRED"
    # ...and so is anybody else, until an administrator releases it; then a fresh uid.
    assert nss.tool("login", "alice@contoso.com", oid(2), TENANT, "user", check=False).stdout.strip() == \
        "EL_ERR_NAME_RETIRED"
    assert nss.cli("release", "alice@contoso.com").returncode == 0
    assert nss.login("alice@contoso.com", 2, "user") != uid


def test_rename_refusals_and_keep_home(tmp_path):
    homes = tmp_path / "homes"
    homes.mkdir()
    nss = NssEnv(tmp_path, home=f"{homes}/%u")
    uid = nss.login("bob@contoso.com", 1)
    nss.login("carl@contoso.com", 2)
    (homes / "bob@contoso.com").mkdir()
    os.chown(homes / "bob@contoso.com", uid, uid)
    (homes / "robert@contoso.com").mkdir()
    before = nss.db.read_bytes()
    for args, text in ((("bob@contoso.com", "robert@contoso.com"), "already exists"),
                       (("bob@contoso.com", "carl@contoso.com"), "already in the user database"),
                       (("bob@contoso.com", "bob@evil.example"), "not a directory user name"),
                       (("nobody@contoso.com", "x@contoso.com"), "not a bound user"),
                       (("bob@contoso.com", "root"), "not a directory user name")):
        p = nss.cli("rename", *args)
        assert p.returncode == 1 and text in p.stderr, (args, p.stderr)
    assert nss.db.read_bytes() == before and (homes / "bob@contoso.com").is_dir()
    assert nss.cli("rename", "bob@contoso.com").returncode == 2
    p = nss.cli("rename", "--keep-home", "bob@contoso.com", "robert@contoso.com")
    assert p.returncode == 0 and "home stays" in p.stdout
    assert nss.first("getpwnam", "robert@contoso.com") == \
        f"SUCCESS robert@contoso.com:*:{uid}:{uid}::{homes}/bob@contoso.com:/bin/bash"


def test_rename_of_an_imported_user_keeps_pinned_uid(nss, tmp_path):
    f = tmp_path / "aadpasswd"
    f.write_text(f"alice@contoso.com:{guid(1)}:1000001:1000001:Alice:/home/alice:/bin/zsh\n")
    nss.cli("import-aadpasswd", "--apply", f)
    p = nss.cli("rename", "--keep-home", "alice@contoso.com", "alice.smith@contoso.com")
    assert p.returncode == 0, p.stderr
    assert nss.first("getpwnam", "alice.smith@contoso.com") == \
        "SUCCESS alice.smith@contoso.com:*:1000001:1000001:Alice:/home/alice:/bin/zsh"
    assert nss.first("getpwuid", 1000001).startswith("SUCCESS alice.smith@contoso.com:")


def test_two_names_race_for_one_oid(nss):
    """Two first logins of two names for one object at the same moment: exactly one is bound."""
    def login(name):
        return subprocess.run([str(TOOLS / "udb_tool"), str(nss.conf), "login", name, oid(7), TENANT, "user"],
                              capture_output=True, text=True, timeout=60)

    winners = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for _ in range(40):
            nss.db.unlink(missing_ok=True)
            results = list(ex.map(login, ["first@contoso.com", "second@contoso.com"]))
            ok = [r for r in results if r.returncode == 0]
            refused = [r for r in results if r.returncode != 0]
            assert len(ok) == 1 and len(refused) == 1, [r.stdout for r in results]
            assert refused[0].stdout.strip() == "EL_ERR_OID_OTHER_NAME"
            dump = nss.tool("dump").stdout.splitlines()
            assert len(dump) == 1
            winners.add(dump[0].split(":")[0])
    assert winners <= {"first@contoso.com", "second@contoso.com"}


def test_only_pinned_uids_may_lie_below_uid_min(tmp_path):
    nss = NssEnv(tmp_path, uid_min=5000, uid_max=6000)
    mapped = nss.login("m@contoso.com", 1)
    f = tmp_path / "aadpasswd"
    f.write_text(f"p@contoso.com:{guid(40)}:3000:3000:P:/home/p:/bin/bash\n")
    assert "imported" in nss.cli("import-aadpasswd", "--apply", f).stdout
    nss.write_conf(uid_min=10000, uid_max=20000)
    assert nss.first("getpwnam", "m@contoso.com") == "NOTFOUND"
    assert nss.first("getpwuid", mapped) == "NOTFOUND"
    assert nss.first("getpwnam", "p@contoso.com") == "SUCCESS p@contoso.com:*:3000:3000:P:/home/p:/bin/bash"
    assert nss.first("getpwuid", 3000).startswith("SUCCESS p@contoso.com:")


def test_import_refuses_local_names(nss, tmp_path):
    f = tmp_path / "aadpasswd"
    f.write_text(f"clash@contoso.com:{guid(50)}:1000050:1000050:C:/home/clash:/bin/bash\n"
                 f"fine@contoso.com:{guid(51)}:1000051:1000051:F:/home/fine:/bin/bash\n")
    iso = nss.isolated(passwd_extra="clash@contoso.com:x:4343:4343::/nonexistent:/bin/false\n")
    res = iso.run(f"{nss.glibc_script('')}{CLI} --config {nss.conf} import-aadpasswd --apply {f}")
    assert res.returncode == 0, res.stderr
    out = lines_of(res.stdout)
    assert "skipped: name clashes with a local user or group" in out[1]
    assert "imported with uid 1000051" in out[2]


def test_users_of_the_former_default_uid_range_keep_their_uids(tmp_path):
    """issue 19: the default uid_min moved above systemd's container range (1879048192); a
    database written under the former default (1000000000) keeps working while uid_min is not set;
    new users get uids from the new range."""
    nss = NssEnv(tmp_path, uid_min=1000000000, uid_max=1000999999)
    a = nss.login("old@contoso.com", 1, "admin", "Old")
    assert 1000000000 <= a < 1879048192
    nss.write_conf()                                   # the new defaults, uid_min not set
    assert nss.first("getpwnam", "old@contoso.com").split(":")[2] == str(a)
    assert nss.first("getpwuid", a).startswith("SUCCESS old@contoso.com:")
    assert "old@contoso.com" in nss.first("getgrnam", "aad_admins")
    new = int(nss.first("getpwnam", "new@contoso.com").split(":")[2])
    assert 1879048192 <= new <= 1999999999
    assert 1879048192 <= nss.login("new@contoso.com", 2) <= 1999999999
    nss.write_conf(uid_min=1879048192)                 # set explicitly: the range is the rule
    assert nss.first("getpwnam", "old@contoso.com") == "NOTFOUND"


def test_a_busy_database_is_waited_for_while_other_writers_progress(nss):
    """Many sign-ins at once on a loaded host: a writer waits for the lock as long as other writers
    keep replacing users.db (each write is a new inode), and gives up only after UDB_LOCK_TIMEOUT_MS
    (15 s) without progress (test_identity_sshd: a stopped holder). Here the lock stays taken for
    18 s while the file is replaced every 2 s: the waiting login succeeds after the holder lets go.
    Before: it failed after 15 s whatever happened meanwhile (CI's test_load saw that once)."""
    import fcntl
    import shutil
    import threading
    import time

    def login(name, n):
        return subprocess.run([str(TOOLS / "udb_tool"), str(nss.conf), "login", name, oid(n), TENANT, "user"],
                              capture_output=True, text=True, timeout=90)

    assert login("first@contoso.com", 1).returncode == 0
    taken, done = threading.Event(), threading.Event()

    def busy_writer():
        with open(nss.db.parent / "users.lock", "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            taken.set()
            t0 = time.monotonic()
            while time.monotonic() - t0 < 18:
                copy = nss.db.with_name("users.db.busy")
                shutil.copy2(nss.db, copy)
                os.replace(copy, nss.db)
                time.sleep(2)
            done.set()

    holder = threading.Thread(target=busy_writer)
    holder.start()
    assert taken.wait(10)
    t0 = time.monotonic()
    res = login("second@contoso.com", 2)
    waited = time.monotonic() - t0
    holder.join()
    assert done.is_set() and res.returncode == 0, (waited, res.stdout, res.stderr)
    assert waited > 16, waited
    assert {l.split(":")[0] for l in nss.tool("dump").stdout.splitlines()} == \
        {"first@contoso.com", "second@contoso.com"}
