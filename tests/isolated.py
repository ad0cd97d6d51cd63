"""Run real system programs (getent, id, sudo, sshd) against our modules without touching the host.

Everything happens inside `unshare --mount` with read-only overlays:
  /etc                       <- files given with add_etc() laid over the host's /etc
  /usr/lib/<multiarch>       <- libnss_entra.so.2 and security/pam_entra.so from the build
  /usr/libexec               <- entra-login/pam-helper from the build (the module's compiled-in path)
  /home                      <- an empty scratch directory (pam_mkhomedir writes there)
The overlays vanish with the namespace, so the host is left exactly as it was.
"""
import os
import pathlib
import shlex
import shutil
import subprocess

# Under SAN=... (build-san/): LeakSanitizer off in the uninstrumented hosts that load our modules
# (sshd, sudo, getent, id); leaks in our code are checked by the instrumented unit tests, the
# fuzzers and `make valgrind` (SECURITY.md).
SAN_OPTIONS = "detect_leaks=0"


def san_preload(build):
    """The sanitizer runtimes to load first in every process, when build is a SAN build."""
    if "build-san" not in str(build):
        return []
    libs = []
    for name in ("libasan.so", "libubsan.so"):
        out = subprocess.run(["cc", "-print-file-name=" + name], capture_output=True, text=True).stdout.strip()
        if out and os.path.isabs(out):
            libs.append(os.path.realpath(out))
    return libs


MULTIARCH = subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip() \
    or "x86_64-linux-gnu"
LIBDIR = f"/usr/lib/{MULTIARCH}"


class Isolated:
    def __init__(self, tmp, build):
        self.tmp = pathlib.Path(tmp)
        self.build = pathlib.Path(build)
        self.etc = self.tmp / "etc-over"
        self.lib = self.tmp / "lib-over"
        self.home = self.tmp / "home"
        self.libexec = self.tmp / "libexec-over"
        for d in (self.etc, self.lib / "security", self.home, self.libexec / "entra-login"):
            d.mkdir(parents=True, exist_ok=True)
        for src, dst in (("libnss_entra.so.2", "libnss_entra.so.2"), ("pam_entra.so", "security/pam_entra.so")):
            if (self.build / src).exists():
                shutil.copy2(self.build / src, self.lib / dst)
        if (self.build / "pam-helper").exists():
            shutil.copy2(self.build / "pam-helper", self.libexec / "entra-login" / "pam-helper")
        self.nsswitch("files entra")
        # A sanitized module loads into setuid programs (sudo) too, where LD_PRELOAD is ignored:
        # /etc/ld.so.preload puts the runtime first in every process of the namespace.
        self.san = san_preload(self.build)
        if self.san:
            self.add_etc("ld.so.preload", "".join(lib + "\n" for lib in self.san))

    def add_etc(self, rel, text, mode=0o644):
        path = self.etc / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.chmod(path, mode)
        return path

    def copy_etc(self, rel, src, mode=0o644):
        return self.add_etc(rel, pathlib.Path(src).read_text(), mode)

    def nsswitch(self, sources):
        text = pathlib.Path("/etc/nsswitch.conf").read_text().splitlines()
        out = []
        for line in text:
            key = line.split(":", 1)[0].strip()
            if key in ("passwd", "group", "shadow") and ":" in line:
                line = f"{key}: {sources}"
            out.append(line)
        self.add_etc("nsswitch.conf", "\n".join(out) + "\n")

    def prelude(self):
        o = "-o"
        return "\n".join([
            "set -e",
            "mount --make-rprivate /",
            f"mount -t overlay overlay {o} lowerdir={self.etc}:/etc /etc",
            f"mount -t overlay overlay {o} lowerdir={self.lib}:{LIBDIR} {LIBDIR}",
            f"mount --bind {self.home} /home",
            f"mount -t overlay overlay {o} lowerdir={self.libexec}:/usr/libexec /usr/libexec",
            "mkdir -p /run/sshd",
            f"export ASAN_OPTIONS={SAN_OPTIONS}" if self.san else "",
            "set +e",
            "",
        ])

    def command(self, script):
        return ["unshare", "--mount", "bash", "-c", self.prelude() + script]

    def run(self, script, timeout=60, env=None, input=None):
        return subprocess.run(self.command(script), capture_output=True, text=True, timeout=timeout,
                              env=env, input=input)

    def popen(self, script, env=None, **kw):
        return subprocess.Popen(self.command(script), env=env, **kw)


def q(s):
    return shlex.quote(str(s))
