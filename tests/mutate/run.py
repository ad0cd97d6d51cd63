#!/usr/bin/python3
"""make mutate: apply one-line mutations of security checks to a scratch copy of the tree,
rebuild, run the tests that should catch each one, and report killed / SURVIVED.

usage: /usr/bin/python3 tests/mutate/run.py [--only ID[,ID..]] [--keep] [--scratch DIR]
                                            [--no-baseline] [TSV ...]

Mutations come from tests/mutate/mutations/*.tsv (or the TSV files given); see README.md.
Exit status: 0 when every mutation was killed, 1 when one survived or could not be applied or
built, 2 on usage errors or a failing baseline.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MUTDIR = os.path.join(ROOT, "tests", "mutate", "mutations")
PYTHON = "/usr/bin/python3"
COLUMNS = ("id", "file", "text", "replacement", "tests", "description")
_ESC = re.compile(r"\\([\\tn])")


def unescape(s):
    """text/replacement columns: \\t is a TAB, \\n a newline, \\\\ one backslash; any other
    backslash is literal (so C's '\\0' may be written as it is or as \\\\0)."""
    return _ESC.sub(lambda m: {"\\": "\\", "t": "\t", "n": "\n"}[m.group(1)], s)


class Mutation:
    def __init__(self, src, lineno, cols):
        self.src, self.lineno = src, lineno
        self.id, self.file, text, replacement, tests, self.description = cols
        self.text, self.replacement = unescape(text), unescape(replacement)
        self.tests = tests.split()
        self.line = None       # line of the mutated text in self.file
        self.result = None
        self.seconds = 0.0
        self.detail = ""

    def where(self):
        return "%s:%d" % (os.path.basename(self.src), self.lineno)


def die(msg, code=2):
    print("mutate: " + msg, file=sys.stderr)
    sys.exit(code)


def load(paths):
    muts, seen = [], {}
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                line = raw.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                cols = line.split("\t")
                if len(cols) != len(COLUMNS):
                    die("%s:%d: %d TAB-separated columns, want %d (%s)"
                        % (p, n, len(cols), len(COLUMNS), ", ".join(COLUMNS)))
                m = Mutation(p, n, cols)
                if not m.id or not m.file or not m.text or not m.tests:
                    die("%s:%d: id, file, text and tests must not be empty" % (p, n))
                if m.text == m.replacement:
                    die("%s:%d: replacement equals the text" % (p, n))
                if m.id in seen:
                    die("%s:%d: duplicate id %r (first in %s)" % (p, n, m.id, seen[m.id]))
                seen[m.id] = m.where()
                muts.append(m)
    return muts


def locate(tree, m):
    """Check the text occurs exactly once in the file; set m.line. Dies loudly otherwise."""
    path = os.path.join(tree, m.file)
    if not os.path.isfile(path):
        die("%s: %s: no such file" % (m.where(), m.file))
    with open(path, encoding="utf-8") as f:
        content = f.read()
    n = content.count(m.text)
    if n != 1:
        die("%s (%s): the text occurs %d times in %s, must be exactly once: %r"
            % (m.where(), m.id, n, m.file, m.text))
    m.line = content[:content.index(m.text)].count("\n") + 1
    return content


def tree_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout
    return sorted({f for f in out.decode().split("\0") if f})


def copy_tree(dst):
    for rel in tree_files():
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src) or os.path.islink(src) and not os.path.exists(src):
            continue
        d = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(src, d, follow_symlinks=False)


def relax_warnings(tree):
    """-Werror off in the scratch copy only: a mutant that leaves a parameter or a helper unused
    is still a mutant worth testing (the real build keeps -Werror)."""
    mk = os.path.join(tree, "Makefile")
    with open(mk) as f:
        text = f.read()
    if " -Werror" in text:
        with open(mk, "w") as f:
            f.write(text.replace(" -Werror", " -Wno-error", 1))


def build(tree, log):
    r = subprocess.run(["make", "-j2", "O=build", "all", "unit"], cwd=tree, stdout=log,
                       stderr=subprocess.STDOUT)
    return r.returncode == 0


def run_tests(tree, tests, log, timeout, first_failure=True):
    env = dict(os.environ, EL_BUILD=os.path.join(tree, "build"))
    # the scratch copy has no git history: test_upgrade.py builds the old release from ours
    env.setdefault("EL_UPGRADE_GIT", ROOT)
    cmd = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if first_failure:
        cmd.append("-x")
    try:
        r = subprocess.run(cmd + tests, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return r.returncode


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    # make must see the edit even within one timestamp tick
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, max(st.st_mtime_ns, time.time_ns())))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tsv", nargs="*", help="mutation files (default: tests/mutate/mutations/*.tsv)")
    ap.add_argument("--only", help="comma-separated mutation ids to run")
    ap.add_argument("--scratch", help="scratch directory to use (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip running the listed tests on the unmutated copy first")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per mutation's test run")
    a = ap.parse_args()

    files = a.tsv or sorted(glob.glob(os.path.join(MUTDIR, "*.tsv")))
    if not files:
        die("no mutation files in %s" % MUTDIR)
    muts = load(files)
    if a.only:
        want = set(a.only.split(","))
        unknown = want - {m.id for m in muts}
        if unknown:
            die("unknown id(s): %s" % ", ".join(sorted(unknown)))
        muts = [m for m in muts if m.id in want]
    for m in muts:
        locate(ROOT, m)

    scratch = os.path.abspath(a.scratch) if a.scratch else tempfile.mkdtemp(prefix="el-mutate-")
    tree = os.path.join(scratch, "tree")
    logdir = os.path.join(scratch, "logs")
    os.makedirs(logdir, exist_ok=True)
    if os.path.isdir(tree):
        shutil.rmtree(tree)
    t0 = time.monotonic()
    copy_tree(tree)
    relax_warnings(tree)
    print("mutate: %d mutations from %d files; scratch %s" % (len(muts), len(files), scratch),
          flush=True)
    with open(os.path.join(logdir, "baseline.log"), "w") as log:
        if not build(tree, log):
            die("the unmutated copy does not build: see %s" % log.name)
        if not a.no_baseline:
            union = list(dict.fromkeys(t for m in muts for t in m.tests))
            print("mutate: baseline: %d test selections on the unmutated copy" % len(union), flush=True)
            rc = run_tests(tree, union, log, a.timeout * 4, first_failure=False)
            if rc != 0:
                die("baseline failed (rc %s): the listed tests must pass without mutations; see %s"
                    % (rc, log.name))
    print("mutate: baseline done in %.0f s" % (time.monotonic() - t0), flush=True)

    for i, m in enumerate(muts, 1):
        path = os.path.join(tree, m.file)
        orig = locate(tree, m)
        start = time.monotonic()
        with open(os.path.join(logdir, m.id + ".log"), "w") as log:
            try:
                write(path, orig.replace(m.text, m.replacement, 1))
                if not build(tree, log):
                    m.result, m.detail = "BUILD-FAILED", "the mutated tree does not build"
                else:
                    rc = run_tests(tree, m.tests, log, a.timeout)
                    if rc is None:
                        m.result = "killed"
                        m.detail = "timeout"
                    elif rc == 1:
                        m.result = "killed"
                    elif rc == 0:
                        m.result = "SURVIVED"
                    else:
                        m.result, m.detail = "ERROR", "pytest exit %d" % rc
            finally:
                write(path, orig)
        m.seconds = time.monotonic() - start
        print("mutate: [%d/%d] %-28s %-9s %5.0f s %s" % (i, len(muts), m.id, m.result, m.seconds,
                                                        m.detail), flush=True)
    with open(os.path.join(logdir, "restore.log"), "w") as log:
        build(tree, log)   # leave the scratch build matching the sources

    def short(t):
        t = t.replace("tests/integration/", "").replace("tests/test_unit.py::test_unit_binary", "unit")
        return t if len(t) <= 90 else t[:87] + "..."
    rows = [("id", "file:line", "description", "tests", "result", "s")]
    for m in muts:
        rows.append((m.id, "%s:%d" % (m.file, m.line), m.description, short(" ".join(m.tests)),
                     m.result + (" (%s)" % m.detail if m.detail else ""), "%.0f" % m.seconds))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i < len(r) - 1 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    bad = [m for m in muts if m.result != "killed"]
    print("\nmutate: %d/%d killed, %d not; %.0f s in all; logs in %s"
          % (len(muts) - len(bad), len(muts), len(bad), time.monotonic() - t0, logdir))
    if not a.keep and not bad and not a.scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
