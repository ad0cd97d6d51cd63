"""entra-ssh with the Azure CLI: a fake `az` on PATH records its arguments and prints a token the
fake Entra ID minted for what was asked (our app's scope: a token for api://CLIENT_ID; anything
else: an Azure Resource Manager token, which the host refuses). A real sshd decides.
"""
import os
import subprocess

import pytest

from conftest import BUILD
from entra_fake import CLIENT_ID, TENANT, USER_APP_ROLE
from sshd_env import free_port

ENTRA_SSH = BUILD / "entra-ssh"   # the C client; this is its access-token mode
USER = "erin@contoso.com"
SCOPE = f"api://{CLIENT_ID}/user_impersonation"

FAKE_AZ = r"""#!/bin/sh
# Fake Azure CLI: records argv (one per line), answers `account get-access-token` like az does.
dir=$(dirname "$0")
printf '%s\n' "$@" > "$dir/argv"
if [ -e "$dir/logged-out" ]; then
	echo "ERROR: Please run 'az login' to setup account." >&2
	exit 1
fi
[ "$1 $2" = "account get-access-token" ] || { echo "ERROR: unexpected command" >&2; exit 2; }
for a in "$@"; do
	if [ "$a" = "api://CLIENT/user_impersonation" ]; then cat "$dir/token-app"; exit 0; fi
done
cat "$dir/token-arm"
""".replace("CLIENT", CLIENT_ID)


@pytest.fixture
def az(tmp_path, fake):
    d = tmp_path / "bin"
    d.mkdir()
    (d / "az").write_text(FAKE_AZ)
    (d / "az").chmod(0o755)
    # What az prints with --query accessToken -o tsv: the token and a newline.
    (d / "token-app").write_text(fake.mint("access_v1", upn=USER, roles=[USER_APP_ROLE],
                                           scp="user_impersonation") + "\n")
    (d / "token-arm").write_text(fake.mint("access_v1", upn=USER, roles=[USER_APP_ROLE],
                                           aud="https://management.core.windows.net/") + "\n")
    return d


def entra_ssh(az, port, *args, env_extra=None, ssh_args=("-T", "127.0.0.1", "id")):
    env = dict(os.environ, PATH=f"{az}:{os.environ['PATH']}")
    env.pop("ENTRA_SSH_CLIENT_ID", None)
    env.update(env_extra or {})
    kh = az.parent / "known_hosts"
    return subprocess.run([str(ENTRA_SSH), *args, "-F", "/dev/null", "-p", str(port), "-o", "StrictHostKeyChecking=no",
                           "-o", f"UserKnownHostsFile={kh}", "-o", "ConnectTimeout=10", "-l", USER, *ssh_args],
                          capture_output=True, text=True, timeout=90, env=env, stdin=subprocess.DEVNULL)


def az_argv(az):
    return (az / "argv").read_text().splitlines()


def test_client_id_asks_az_for_our_scope_and_logs_in(sshd, fake, az):
    res = entra_ssh(az, sshd.port, "--client-id", CLIENT_ID)
    assert res.returncode == 0, res.stderr + sshd.log()[-2000:]
    assert "aad_users" in res.stdout
    assert az_argv(az) == ["account", "get-access-token", "--scope", SCOPE, "--query", "accessToken", "-o", "tsv"]
    assert fake.requests("devicecode") == []


def test_client_id_from_environment_and_tenant(sshd, az):
    res = entra_ssh(az, sshd.port, "--tenant", TENANT, env_extra={"ENTRA_SSH_CLIENT_ID": CLIENT_ID})
    assert res.returncode == 0, res.stderr + sshd.log()[-2000:]
    assert az_argv(az) == ["account", "get-access-token", "--scope", SCOPE, "--tenant", TENANT,
                           "--query", "accessToken", "-o", "tsv"]


def test_an_arm_token_is_refused_by_the_host(sshd, az):
    """Why the default matters: what az gives for Azure Resource Manager does not log in."""
    res = entra_ssh(az, sshd.port, "--resource", "https://management.azure.com/")
    assert res.returncode != 0
    assert az_argv(az)[2:4] == ["--resource", "https://management.azure.com/"]
    assert "uid=" not in res.stdout


def test_az_not_logged_in_is_said_plainly(az):
    (az / "logged-out").touch()
    port = free_port()          # nothing listens: ssh must not even be started
    res = entra_ssh(az, port, "--client-id", CLIENT_ID)
    assert res.returncode == 2
    assert "the Azure CLI is not logged in" in res.stderr and "run 'az login'" in res.stderr, res.stderr
    assert "az: ERROR: Please run 'az login' to setup account." in res.stderr
    assert "Connection refused" not in res.stderr and "\nssh:" not in res.stderr and "port" not in res.stderr


@pytest.mark.parametrize("args,message", [
    ((), "give the host's client id: --client-id ID or ENTRA_SSH_CLIENT_ID=ID"),
    (("--client-id", "x/../y"), "must be the app's client id (a GUID)"),
    (("--client-id", CLIENT_ID, "--tenant", "common;id"), "must be a tenant id (a GUID)"),
])
def test_usage_errors_before_az(az, args, message):
    res = entra_ssh(az, free_port(), *args)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr, res.stderr
    assert not (az / "argv").exists(), "az was not asked"


def test_flag_without_value(az):
    env = dict(os.environ, PATH=f"{az}:{os.environ['PATH']}")
    res = subprocess.run([str(ENTRA_SSH), "--client-id"], capture_output=True, text=True, timeout=30, env=env,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 2 and "--client-id needs a value" in res.stderr, res.stderr


def test_token_from_stdin_pipe(sshd, fake, tmp_path):
    """--token-file - reads a pipe (the C client; the shell script used cat)."""
    token = fake.mint("access_v1", upn=USER, roles=[USER_APP_ROLE], scp="user_impersonation")
    res = subprocess.run([str(ENTRA_SSH), "--token-file", "-", "-F", "/dev/null", "-p", str(sshd.port),
                          "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path}/kh",
                          "-o", "ConnectTimeout=10", "-l", USER, "-T", "127.0.0.1", "id"],
                         input=token + "\n", capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr + sshd.log()[-2000:]
    assert "aad_users" in res.stdout
