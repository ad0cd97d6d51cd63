"""Issue 15 through a real sshd (tests/sshd_env.py, device code via the fake): a VM image shaped
like one Microsoft's extension leaves, imported; a rename; two names racing for one object."""
import concurrent.futures
import os
import pathlib
import subprocess

import pytest

from conftest import BUILD, CLI
from entra_fake import USER_APP_ROLE, oid_for
from sshd_env import SshdEnv, host_config

USERS = [  # name, uid, home (as the extension made them)
    ("alice@contoso.com", 1000001, "/home/alice"),
    ("bob@contoso.com", 1000002, "/home/bob"),
    ("alice@fabrikam.example", 1000003, "/home/alice_1"),
    ("carol@contoso.com", 1000004, "/home/carol"),
    ("dave@contoso.com", 1000005, "/home/dave"),
]


def aadpasswd_text():
    lines = [f"{n}:{oid_for(n)}:{u}:{u}:{n.split('@')[0].title()}:{h}:/bin/bash" for n, u, h in USERS]
    lines.insert(3, "erin@contoso.com:" + oid_for("erin@contoso.com") + ":1000006")     # malformed
    return "".join(line + "\n" for line in lines)


def config(fake, state):
    return host_config(fake, state).replace("domains = contoso.com\n", "domains = contoso.com, fabrikam.example\n")


@pytest.fixture
def vm(tmp_path, fake, public_state_dir):
    env = SshdEnv(tmp_path, BUILD, config(fake, public_state_dir))
    iso = env.iso
    iso.add_etc("aadpasswd", aadpasswd_text())
    iso.add_etc("group", (iso.etc / "group").read_text() + "aad_admins:x:9999:alice@contoso.com\n")
    for name, uid, home in USERS:
        d = iso.home / pathlib.Path(home).name
        d.mkdir(mode=0o700)
        (d / "secret.txt").write_text(f"files of {name}\n")
        for p in (d, d / "secret.txt"):
            p.chmod(0o700 if p == d else 0o600)
            os.chown(p, uid, uid)
    env.state = public_state_dir
    env.start()
    yield env
    env.stop()


def snapshot(env):
    """Everything the import could touch, byte for byte: /etc as the namespace sees it, and the state dir."""
    res = env.iso.run(f"tar --sort=name -cf - /etc 2>/dev/null | sha256sum; "
                      f"cd {env.state} && stat -c '%n %s %y' . && ls -lA --time-style=full-iso && sha256sum * 2>/dev/null; true",
                      timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def login(env, fake, user, command, tag, oid=None):
    fake.auto("approve", upn=user, roles=[USER_APP_ROLE], **({"oid": oid} if oid else {}))
    return env.ssh(user, command, answers=["", ""], tag=tag)


def test_extension_vm_imported_keeps_uids_homes_and_files(vm, fake):
    before = snapshot(vm)
    dry = vm.iso.run(f"{CLI} import-aadpasswd /etc/aadpasswd")
    assert dry.returncode == 0, dry.stderr
    assert snapshot(vm) == before                  # the dry run changed nothing
    assert "line 4: erin@contoso.com: skipped: malformed line" in dry.stdout
    assert "dry run: 5 to import" in dry.stdout
    assert "aad_admins has gid 9999 locally" in dry.stdout and "admin_gid = 9999" in dry.stdout

    res = vm.iso.run(f"{CLI} import-aadpasswd --apply /etc/aadpasswd")
    assert res.returncode == 0 and "5 imported, 0 already imported, 1 skipped" in res.stdout, res.stdout
    db = (vm.state / "users.db").read_bytes()
    again = vm.iso.run(f"{CLI} import-aadpasswd --apply /etc/aadpasswd")
    assert "nothing changed: 5 already imported, 1 skipped" in again.stdout
    assert (vm.state / "users.db").read_bytes() == db
    assert "erin@contoso.com" not in vm.iso.run(f"{CLI} users").stdout

    for name, uid, home in USERS:
        out, _ = login(vm, fake, name, "id -u; id -g; echo HOME=$HOME; cat ~/secret.txt; touch ~/new && stat -c %u ~/new",
                       tag=name)
        assert out.returncode == 0, out.stderr + vm.log()[-3000:]
        lines = out.stdout.split()
        assert lines[:3] == [str(uid), str(uid), f"HOME={home}"], out.stdout
        assert f"files of {name}" in out.stdout and lines[-1] == str(uid)
    listing = vm.iso.run(f"{CLI} users").stdout
    assert "alice@contoso.com" in listing and "1000001" in listing
    got = vm.iso.run("getent passwd alice@contoso.com alice@fabrikam.example").stdout
    assert "alice@contoso.com:*:1000001:1000001:Alice:/home/alice:/bin/bash" in got
    assert "alice@fabrikam.example:*:1000003:1000003:Alice:/home/alice_1:/bin/bash" in got


def test_rename_then_login_under_the_new_upn(tmp_path, fake, public_state_dir):
    env = SshdEnv(tmp_path, BUILD, config(fake, public_state_dir)).start()
    try:
        out, _ = login(env, fake, "alice@contoso.com", "id -u; echo data > ~/mine.txt", tag="a1")
        assert out.returncode == 0, out.stderr + env.log()[-3000:]
        uid = out.stdout.split()[0]
        res = env.iso.run(f"{CLI} rename alice@contoso.com alice.smith@contoso.com")
        assert res.returncode == 0 and f"uid {uid} kept, home moved" in res.stdout, res.stdout + res.stderr
        out, _ = login(env, fake, "alice.smith@contoso.com", "id -u; echo HOME=$HOME; cat ~/mine.txt", tag="a2",
                       oid=oid_for("alice@contoso.com"))
        assert out.returncode == 0, out.stderr + env.log()[-3000:]
        assert out.stdout.split() == [uid, "HOME=/home/alice.smith@contoso.com", "data"]
        got = env.iso.run("getent passwd alice@contoso.com").stdout
        assert f":{uid}:" not in got                # the old name no longer resolves to her
        # A new UPN for a bound object without a rename: refused, nothing recorded.
        out, _ = login(env, fake, "bob@contoso.com", "id -u", tag="b1")
        assert out.returncode == 0, out.stderr
        db = (public_state_dir / "users.db").read_bytes()
        out, prompts = login(env, fake, "robert@contoso.com", "id -u", tag="b2", oid=oid_for("bob@contoso.com"))
        assert out.returncode != 0 and "uid=" not in out.stdout
        assert (public_state_dir / "users.db").read_bytes() == db
        assert "robert@contoso.com" not in env.iso.run(f"{CLI} users").stdout
    finally:
        env.stop()


def test_unrenamed_new_upn_is_told_the_rename_command(tmp_path, fake, public_state_dir):
    env = SshdEnv(tmp_path, BUILD, config(fake, public_state_dir)).start()
    try:
        out, _ = login(env, fake, "bob@contoso.com", "id -u", tag="b1")
        assert out.returncode == 0, out.stderr
        out, prompts = login(env, fake, "robert@contoso.com", "id -u", tag="b2", oid=oid_for("bob@contoso.com"))
        assert out.returncode != 0
        assert "entra-login rename bob@contoso.com robert@contoso.com" in prompts + out.stderr, prompts
    finally:
        env.stop()


def test_two_names_for_one_object_race_through_sshd(tmp_path, fake, public_state_dir):
    """Two first logins at once, two UPNs, one object id (tokens through entra-ssh): one is bound."""
    env = SshdEnv(tmp_path, BUILD, config(fake, public_state_dir)).start()

    def one(user, oid, tag):
        tf = tmp_path / f"tok-{tag}"
        tf.write_text(fake.mint("access_v2", upn=user, oid=oid, roles=[USER_APP_ROLE]))
        return subprocess.run([str(BUILD / "entra-ssh"), "--token-file", str(tf), "-F", "/dev/null",
                               "-p", str(env.port), "-o", "StrictHostKeyChecking=no",
                               "-o", f"UserKnownHostsFile={tmp_path}/kh-{tag}", "-l", user, "-T", "127.0.0.1",
                               "id -un"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            for k in range(6):
                oid = f"{k:08x}-7777-4777-8777-777777777777"
                names = [f"r{k}a@contoso.com", f"r{k}b@contoso.com"]
                results = list(ex.map(one, names, [oid, oid], [f"{k}a", f"{k}b"]))
                ok = [n for n, r in zip(names, results) if r.returncode == 0]
                assert len(ok) == 1, [(r.returncode, r.stderr[-300:]) for r in results]
                assert results[names.index(ok[0])].stdout.strip() == ok[0]
                listing = env.iso.run(f"{CLI} users").stdout
                assert sum(n in listing for n in names) == 1, listing
    finally:
        env.stop()
