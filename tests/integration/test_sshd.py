"""A stock OpenSSH client against a real sshd configured only with the files in conf/."""
import concurrent.futures
import re
import subprocess

from conftest import BUILD, CLI
from entra_fake import ADMIN_APP_ROLE, USER_APP_ROLE
from sshd_env import LOCAL_PASSWORD, LOCAL_USER

ENTRA_SSH = BUILD / "entra-ssh"


def users_in_db(env):
    res = env.iso.run(f"{CLI} users")
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_first_time_admin_device_login(sshd, fake):
    user = "alice@contoso.com"
    fake.auto("approve", upn=user, roles=[ADMIN_APP_ROLE], after_polls=1)
    res, prompts = sshd.ssh(user, "id; echo HOME=$HOME; test -d $HOME && echo home-exists; sudo -n true && echo sudo-ok",
                            answers=["", ""])
    assert res.returncode == 0, res.stderr + sshd.log()[-3000:]
    code = fake.codes()[-1]["user_code"]
    assert re.search(rf"To sign in to \S+ as {re.escape(user)}, open https://\S+ and enter the code {code}", prompts)
    assert "aad_admins" in res.stdout and "aad_users" in res.stdout
    assert f"HOME=/home/{user}" in res.stdout and "home-exists" in res.stdout
    assert "sudo-ok" in res.stdout


def test_user_role_login_has_no_sudo(sshd, fake):
    user = "bob@contoso.com"
    fake.auto("approve", upn=user, roles=[USER_APP_ROLE])
    res, _ = sshd.ssh(user, "id; sudo -n true && echo sudo-ok || echo sudo-refused", answers=["", ""])
    assert res.returncode == 0, res.stderr
    assert "aad_users" in res.stdout and "aad_admins" not in res.stdout
    assert "sudo-refused" in res.stdout and "sudo-ok" not in res.stdout


def test_no_role_is_refused_with_the_role_message(sshd, fake):
    user = "carol@contoso.com"
    fake.auto("approve", upn=user, roles=[])
    res, prompts = sshd.ssh(user, "id", answers=["", ""])
    assert res.returncode != 0
    assert "Virtual Machine Administrator Login" in prompts + res.stderr
    assert "uid=" not in res.stdout


def test_token_login_through_entra_ssh(sshd, fake, tmp_path):
    user = "dave@contoso.com"
    groups = ["%08d-1111-4111-8111-111111111111" % i for i in range(40)]
    tok = fake.mint("access_v2", upn=user, roles=[ADMIN_APP_ROLE], groups=groups)
    assert len(tok) >= 3000, len(tok)
    tf = tmp_path / "token"
    tf.write_text(tok)
    res = subprocess.run([str(ENTRA_SSH), "--token-file", str(tf), "-F", "/dev/null", "-p", str(sshd.port),
                          "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/kh",
                          "-l", user, "-T", "127.0.0.1", "id"], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr + sshd.log()[-2000:]
    assert "aad_admins" in res.stdout
    assert fake.requests("devicecode") == []


def test_local_user_with_password_unchanged(sshd):
    res, prompts = sshd.ssh(LOCAL_USER, "id -un", answers=[LOCAL_PASSWORD], methods="password")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == LOCAL_USER
    # keyboard-interactive is not offered to local users: nothing was weakened for them.
    res, _ = sshd.ssh(LOCAL_USER, "id", answers=[LOCAL_PASSWORD], methods="keyboard-interactive", tag="k")
    assert res.returncode != 0
    assert "keyboard-interactive" not in res.stderr.split("Permission denied")[-1]


def test_twenty_parallel_logins(sshd, fake, tmp_path):
    users = [f"par{i:02d}@contoso.com" for i in range(20)]

    def one(user):
        tf = tmp_path / f"tok-{user}"
        tf.write_text(fake.mint("access_v2", upn=user, roles=[USER_APP_ROLE]))
        return subprocess.run([str(ENTRA_SSH), "--token-file", str(tf), "-F", "/dev/null", "-p", str(sshd.port),
                               "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/kh-{user}",
                               "-l", user, "-T", "127.0.0.1", "id -u"], capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(one, users))
    failed = [(u, r.stderr) for u, r in zip(users, results) if r.returncode != 0]
    assert not failed, failed
    uids = [int(r.stdout.strip()) for r in results]
    assert len(set(uids)) == 20
    listing = users_in_db(sshd)
    for u in users:
        assert listing.count(u) == 1, listing


def test_paramiko_keyboard_interactive_token_login(sshd, fake):
    """A second, independent SSH client: paramiko answering the part prompts itself."""
    import paramiko

    user = "erin@contoso.com"
    tok = fake.mint("access_v2", upn=user, roles=[USER_APP_ROLE])
    parts = [tok[i:i + 1000] for i in range(0, len(tok), 1000)]
    seen = []

    def handler(title, instructions, prompts):
        answers = []
        for text, _echo in prompts:
            seen.append(text)
            m = re.search(r"\(part (\d+),", text)
            n = int(m.group(1)) if m else 0
            answers.append(parts[n - 1] if 0 < n <= len(parts) else "")
        return answers

    transport = paramiko.Transport(("127.0.0.1", sshd.port))
    try:
        transport.start_client(timeout=30)
        transport.auth_interactive(user, handler)
        assert transport.is_authenticated()
        chan = transport.open_session()
        chan.exec_command("id -un")
        out = chan.makefile().read().decode().strip()
        assert out == user
    finally:
        transport.close()
    assert len(seen) == len(parts) + 1, seen
