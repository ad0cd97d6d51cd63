"""make demo: a real device-code SSH login and a real `az ssh`-style certificate login, end to end,
on 127.0.0.1.

Starts the fake Entra ID and a real sshd (configured with the files in conf/) inside a private
mount namespace (nothing outside it changes; every file lives in one temporary directory), then:

1. logs in as alice@contoso.com with OpenSSH's client and a device code; the fake approves the
   sign-in as a user holding the app role "Virtual Machine Administrator Login" (role source
   `claims`: the token's roles claim);
2. gets an Entra SSH certificate for Alice exactly as `az ssh cert` does (tests/az_ssh_cert.py),
   shows what `entra-login verify-cert` reads in it, logs in with the stock client
   (`ssh -i KEY -o CertificateFile=CERT`), and shows the one line `entra-login authorized-keys`
   gave sshd. A certificate carries no token, so here the role comes from Azure RBAC (role source
   `arm`, the fake's ARM and IMDS): "Virtual Machine Administrator Login" on the VM.

The host is configured with `role_sources = claims, arm`, so both logins work.
"""
import os
import pathlib
import re
import sys
import tempfile
import textwrap
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "fakeidp")]

import sshcert  # noqa: E402
from az_ssh_cert import CertClient  # noqa: E402
from entra_fake import ADMIN_APP_ROLE, FakeEntra, oid_for  # noqa: E402
from sshd_env import SshdEnv, host_config  # noqa: E402

USER = "alice@contoso.com"
COMMAND = "id; sudo -n id"
T0 = time.monotonic()


def say(text=""):
    print(text, flush=True)


def step(title):
    say()
    say(f"== [{time.monotonic() - T0:4.1f}s] {title}")


def show(label, text, prefix="   | "):
    say(f"-- {label} --")
    say(textwrap.indent(text.strip() or "(nothing)", prefix))


def short(line, keep=48):
    """A key or certificate line with its base64 cut down to something readable."""
    return re.sub(r"(AAAA[A-Za-z0-9+/=]{%d})[A-Za-z0-9+/=]+" % keep,
                  lambda m: f"{m.group(1)}...({len(m.group(0))} chars)", line)


def tail(path, keep=80):
    return path if len(path) <= keep else "..." + path[-keep:]


def failed(env, what, res=None):
    if res is not None:
        say(res.stdout + res.stderr)
    say(env.log()[-4000:])
    say(f"== demo FAILED: {what}")
    return 1


def device_code_login(env, fake):
    step(f"1. device-code login: ssh -l {USER} -p {env.port} 127.0.0.1 '{COMMAND}'")
    say("   (the fake approves the sign-in as soon as the code is polled, like Alice in her browser;")
    say("    her token's roles claim holds VirtualMachineAdministratorLogin: role source `claims`)")
    fake.auto("approve", upn=USER, name="Alice Example", roles=[ADMIN_APP_ROLE])
    res, prompts = env.ssh(USER, COMMAND, answers=["", ""], tag="demo")
    say("-- what the user sees at the prompt --")
    for block in prompts.split("\n---\n"):
        if block.strip():
            say(textwrap.indent(block.strip(), "   | "))
    show("the session's output", res.stdout, "   $ ")
    if res.returncode != 0:
        return failed(env, f"device-code ssh exited {res.returncode}", res)
    if not ("aad_admins" in res.stdout and "uid=0(root)" in res.stdout):
        return failed(env, "device-code session is not in aad_admins with sudo", res)
    say("   OK: signed in with a device code, in aad_admins, sudo works")
    return 0


def certificate_login(env, fake, tmp, cli):
    step("2. `az ssh`-style certificate login")
    say("   Azure RBAC (the fake ARM): Alice holds \"Virtual Machine Administrator Login\" on this VM;")
    say("   a certificate carries no token, so the host asks ARM (role source `arm`, via its managed identity)")
    fake.set_roles((oid_for(USER), "admin", "vm"))
    client = CertClient(fake, tmp / "az")
    say(f"-- az ssh cert: new RSA key {client.key_path.name}, device-code sign-in as {USER}, then")
    say(f"   POST {fake.authority}/<tenant>/oauth2/v2.0/token  grant_type=device_code token_type=ssh-cert")
    say(f"        req_cnf=<JWK of the public key>  key_id=<its thumbprint>  scope={sshcert.SCOPE}")
    cert = client.device_code(USER, name="Alice Example")
    cert_line = cert.read_text().strip()
    say(f"   answer: token_type={client.response.get('token_type')}, the certificate written to {cert.name}:")
    say(textwrap.indent(short(cert_line), "   | "))

    res = env.iso.run(f"{cli} verify-cert --user {USER}", input=cert_line + "\n")
    show(f"entra-login verify-cert --user {USER} < {cert.name}", res.stdout + res.stderr)
    if res.returncode != 0 or not res.stdout.startswith("valid"):
        return failed(env, "verify-cert does not say valid", res)

    step(f"   ssh -i {client.key_path.name} -o CertificateFile={cert.name} -l {USER} -p {env.port} "
         f"127.0.0.1 '{COMMAND}'")
    log_before = len(env.log())
    seq = max((r["seq"] for r in fake.requests()), default=0)
    res = env.ssh_key(USER, COMMAND, client.key_path, cert, tag="demo-cert")
    show("the session's output", res.stdout, "   $ ")
    if res.returncode != 0:
        return failed(env, f"certificate ssh exited {res.returncode}", res)
    accepted = list(dict.fromkeys(ln for ln in env.log()[log_before:].splitlines() if "Accepted" in ln))
    show("sshd's log", "\n".join(short(ln) for ln in accepted))
    asked = [f"{r['method']} {r['endpoint']:4} {tail(r['path'])} -> {r['status']}"
             for r in fake.requests(since=seq) if r["endpoint"] in ("imds", "arm")]
    show("what the host asked for the role (the fake's IMDS and ARM)", "\n".join(asked))
    if not any(a.startswith("GET arm") for a in asked):
        return failed(env, "the certificate login did not ask ARM for the role", res)

    # sshd ran `entra-login authorized-keys %u %t %k`; the decision is cached for a minute, so the
    # same call now prints the line sshd got (no second role lookup, nothing new written).
    blob = cert_line.split()[1]
    ak = env.iso.run(f"{cli} authorized-keys {USER} {sshcert.CERT_TYPE} {blob}")
    show(f"the line sshd received from `entra-login authorized-keys {USER} {sshcert.CERT_TYPE} <cert>`",
         short(ak.stdout))
    if not ak.stdout.startswith(f'cert-authority,principals="{USER}" ssh-rsa '):
        return failed(env, "authorized-keys did not print one cert-authority line", ak)
    if not ("aad_admins" in res.stdout and "uid=0(root)" in res.stdout):
        return failed(env, "certificate session is not in aad_admins with sudo", res)
    shown = env.iso.run(f"{cli} show {USER}")
    show(f"entra-login show {USER}", shown.stdout)
    say("   OK: signed in with an Entra SSH certificate, in aad_admins (role from ARM), sudo works")
    return 0


def main():
    build = pathlib.Path(os.environ.get("EL_BUILD", HERE.parent / "build"))
    cli = build / "entra-login"
    with tempfile.TemporaryDirectory(prefix="entra-demo-") as tmp:
        tmp = pathlib.Path(tmp)
        tmp.chmod(0o755)  # the user's own processes read the user database below it
        state = tmp / "state"
        state.mkdir(mode=0o755)
        fake = FakeEntra().start(tmp / "fake")     # Entra's interval (5 s)
        env = None
        try:
            config = host_config(fake, state, role_sources="claims, arm",
                                 arm_url=fake.arm_url, imds_url=fake.imds_url)
            env = SshdEnv(tmp, build, config).start()
            say(f"== fake Entra ID on {fake.authority}, sshd on 127.0.0.1:{env.port} (private mount namespace)")
            say("== /etc/entra-login.conf (in the namespace):")
            say(textwrap.indent(config.strip(), "   | "))
            rc = device_code_login(env, fake) or certificate_login(env, fake, tmp, cli)
            say()
            if rc:
                return rc
            say(f"== demo OK in {time.monotonic() - T0:.1f}s: device-code login and certificate login, "
                "both in aad_admins with sudo")
            return 0
        finally:
            if env:
                env.stop()
            fake.stop()


if __name__ == "__main__":
    sys.exit(main())
