"""make demo: one real device-code SSH login, end to end, on 127.0.0.1.

Starts the fake Entra ID and a real sshd (configured with the files in conf/) inside a private
mount namespace, logs in as alice@contoso.com with OpenSSH's client, lets the fake approve the
sign-in as a user holding "Virtual Machine Administrator Login", and shows what the user sees.
"""
import os
import pathlib
import sys
import tempfile
import textwrap

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "fakeidp")]

from entra_fake import ADMIN_APP_ROLE, FakeEntra  # noqa: E402
from sshd_env import SshdEnv, host_config  # noqa: E402

USER = "alice@contoso.com"


def say(text=""):
    print(text, flush=True)


def main():
    build = pathlib.Path(os.environ.get("EL_BUILD", HERE.parent / "build"))
    with tempfile.TemporaryDirectory(prefix="entra-demo-") as tmp:
        tmp = pathlib.Path(tmp)
        tmp.chmod(0o755)  # the user's own processes read the user database below it
        state = tmp / "state"
        state.mkdir(mode=0o755)
        fake = FakeEntra().start(tmp / "fake")     # Entra's interval (5 s)
        env = None
        try:
            env = SshdEnv(tmp, build, host_config(fake, state)).start()
            say(f"== fake Entra ID on {fake.authority}, sshd on 127.0.0.1:{env.port} (private mount namespace)")
            say(f"== ssh -l {USER} -p {env.port} 127.0.0.1 'id; sudo -n id'")
            say("== (the fake approves the sign-in as soon as the code is polled, like Alice in her browser)")
            fake.auto("approve", upn=USER, name="Alice Example", roles=[ADMIN_APP_ROLE])
            res, prompts = env.ssh(USER, "id; sudo -n id", answers=["", ""], tag="demo")
            say()
            say("-- what the user sees at the prompt --")
            for block in prompts.split("\n---\n"):
                if block.strip():
                    say(textwrap.indent(block.strip(), "   | "))
            say("-- the session's output --")
            say(textwrap.indent(res.stdout.strip() or "(nothing)", "   $ "))
            if res.returncode != 0:
                say(res.stderr)
                say(env.log()[-4000:])
                say(f"== demo FAILED (ssh exited {res.returncode})")
                return 1
            ok = "aad_admins" in res.stdout and "uid=0(root)" in res.stdout
            say(f"== demo {'OK' if ok else 'FAILED'}: signed in with a device code, in aad_admins, sudo works")
            return 0 if ok else 1
        finally:
            if env:
                env.stop()
            fake.stop()


if __name__ == "__main__":
    sys.exit(main())
