"""conf/cloud-init.yaml: valid for Debian's `cloud-init schema`, and its configure line, run as
cloud-init would (argv list, no terminal), writes a working configuration once its placeholders
are filled in and refuses to write anything while they are not."""
import subprocess

import yaml

from conftest import CLI, ROOT
from entra_fake import CLIENT_ID, TENANT

EXAMPLE = ROOT / "conf" / "cloud-init.yaml"


def schema(path):
    return subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True,
                          timeout=120)


def test_example_passes_cloud_init_schema():
    p = schema(EXAMPLE)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Valid cloud-config" in p.stdout


def test_schema_check_can_fail(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("packages:\n  - entra-login", "packages: entra-login"))
    p = schema(bad)
    assert p.returncode != 0 and "packages" in p.stdout + p.stderr


def configure_line():
    doc = yaml.safe_load(EXAMPLE.read_text())
    assert "entra-login" in doc["packages"]
    lines = [c for c in doc["runcmd"] if isinstance(c, list) and c[:2] == ["entra-login", "configure"]]
    assert len(lines) == 1, doc["runcmd"]
    return lines[0]


def test_configure_line_works_once_filled_in(tmp_path, fake, state_dir):
    line = configure_line()
    assert "--non-interactive" in line
    test_flags = ["--authority", fake.authority, "--ca-file", fake.ca_file, "--imds-url", fake.imds_url,
                  "--arm-url", fake.arm_url, "--state-dir", str(state_dir)]
    path = tmp_path / "entra-login.conf"
    p = subprocess.run([str(CLI), "--config", str(path), *line[1:], *test_flags], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and "key 'tenant_id'" in p.stderr, p.stdout + p.stderr
    assert not path.exists(), "placeholders are never written"
    filled = [TENANT if a == "TENANT-GUID" else CLIENT_ID if a == "APP-CLIENT-ID-GUID" else a for a in line[1:]]
    p = subprocess.run([str(CLI), "--config", str(path), *filled, *test_flags], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    text = path.read_text()
    assert f"tenant_id = {TENANT}\n" in text and "role_sources = claims, arm\n" in text
    assert "can read role assignments: ok" in p.stdout
