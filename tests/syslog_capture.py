"""See every syslog line a test's programs write, at every priority.

pam_wrapper copies only LOG_ERR and above to stderr, so a check on stdout/stderr cannot see a
secret logged at LOG_NOTICE or LOG_DEBUG. SyslogCapture binds a private unix datagram socket
and runs the program inside `unshare --mount` with that socket bind-mounted over /dev/log
(glibc's syslog() sends there), so nothing reaches the host's log and every line, whatever its
priority, lands in SyslogCapture.lines. Where the host has no /dev/log, /dev is replaced inside
the namespace by a tmpfs of symlinks to the real entries plus the socket.

    cap = SyslogCapture(tmp_path)
    subprocess.run(cap.wrap(["pamtester", ...]), ...)
    cap.messages()      # [(priority 0-7, facility, text), ...]
    cap.close()
"""
import os
import pathlib
import socket
import threading
import time

# $1 socket, $2 scratch dir for the real /dev, then the command.
_SCRIPT = r'''
set -e
sock=$1; real=$2; shift 2
mount --make-rprivate /
if [ -e /dev/log ] || [ -L /dev/log ]; then
    mount --bind "$sock" /dev/log
else
    mount --bind /dev "$real"
    mount -t tmpfs -o mode=0755 el-dev /dev
    for e in "$real"/* "$real"/.[!.]*; do
        [ -e "$e" ] || [ -L "$e" ] || continue
        ln -s "$e" "/dev/${e##*/}"
    done
    : > /dev/log
    mount --bind "$sock" /dev/log
fi
exec "$@"
'''


class SyslogCapture:
    def __init__(self, tmp):
        self.dir = pathlib.Path(tmp) / "syslog-capture"
        (self.dir / "realdev").mkdir(parents=True, exist_ok=True)
        self.path = str(self.dir / "log.sock")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.settimeout(0.2)
        self.raw = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.raw.append(data)

    def wrap(self, argv):
        """argv run in a private mount namespace whose /dev/log is this capture."""
        return ["unshare", "--mount", "sh", "-c", _SCRIPT, "syslog-capture", self.path,
                str(self.dir / "realdev"), *[str(a) for a in argv]]

    def settle(self, quiet=0.3):
        """Wait until no datagram arrived for `quiet` seconds (the writer is gone by now)."""
        n = -1
        while n != len(self.raw):
            n = len(self.raw)
            time.sleep(quiet)

    def messages(self):
        """[(priority, facility, text)] of every line received so far (text without <PRI>)."""
        self.settle()
        out = []
        for d in self.raw:
            s = d.decode("utf-8", "replace")
            pri = 13
            if s.startswith("<") and ">" in s[:5]:
                pri, s = int(s[1:s.index(">")]), s[s.index(">") + 1:]
            out.append((pri & 7, pri >> 3, s))
        return out

    def text(self):
        return "\n".join(m[2] for m in self.messages())

    def close(self):
        self._stop.set()
        self.sock.close()
        self._thread.join(2)
        try:
            os.unlink(self.path)
        except OSError:
            pass
