"""libcurl is loaded on the first HTTP request, not at start (common/net/http.c dlopens
libcurl.so.4): sshd runs `entra-login authorized-keys` for every offered key, and linking
libcurl's ~30 libraries cost ~2.5 ms at each start (issue 14, `make bench`). What must hold:
neither the CLI nor the PAM helper links libcurl; authorized-keys decides a plain key, a fresh
certificate and a cached one without loading it; a refresh does load it and works; and a
libcurl.so.4 that is missing a function or too old fails every request closed
(EL_ERR_HTTP_LIB, "unavailable") without calling into it.

LD_DEBUG=files and LD_LIBRARY_PATH are the dynamic linker's own; they work here because the
CLI runs as a plain root process (no secure-execution mode), like any admin shell would."""
import base64
import os
import subprocess
import time

import sshcert
from conftest import BUILD, CLI
from entra_fake import TENANT
from test_cert_corpus import ADMIN, OID, env  # noqa: F401 (env is a fixture)
from test_token_corpus import run_cli

PAM_HELPER = BUILD / "pam-helper"


def needed(binary):
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return [ln.split("[", 1)[1].rstrip("]") for ln in out.splitlines() if "(NEEDED)" in ln]


def test_cli_and_helper_do_not_link_libcurl():
    for binary in (CLI, PAM_HELPER):
        libs = needed(binary)
        assert not [n for n in libs if "curl" in n], (binary, libs)
        assert any(n.startswith("libcrypto.so") for n in libs), (binary, libs)
        assert any(n.startswith("libjansson.so") for n in libs), (binary, libs)


def ak_traced(iso, user, blob, ktype=sshcert.CERT_TYPE):
    """authorized-keys as sshd runs it, with the dynamic linker's file log on stderr."""
    b64 = blob if isinstance(blob, str) else base64.b64encode(blob).decode()
    return iso.run(f"LD_DEBUG=files {CLI} authorized-keys '{user}' '{ktype}' '{b64}'", timeout=120)


def curl_loaded(stderr):
    return [ln for ln in stderr.splitlines() if "file=libcurl.so.4" in ln]


def test_authorized_keys_decides_without_libcurl(env, fake):  # noqa: F811
    iso, state = env
    key = sshcert.rsa_blob(sshcert.new_user_key().public_key())
    res = ak_traced(iso, ADMIN, key, "ssh-ed25519")
    assert res.returncode == 0 and res.stdout == "", res
    assert "file=libcrypto.so.3" in res.stderr, res.stderr       # the trace works
    assert not curl_loaded(res.stderr), res.stderr

    u = sshcert.new_user_key().public_key()
    good = sshcert.entra_cert(fake.key("k1").key, u, ADMIN, OID, TENANT)
    fake.clear_requests()
    for _ in range(2):      # fresh decision, then the one-minute cache (sshd asks twice)
        res = ak_traced(iso, ADMIN, good)
        assert res.stdout.startswith(f'cert-authority,principals="{ADMIN}" ssh-rsa '), res
        assert not curl_loaded(res.stderr), res.stderr
    assert fake.requests("jwks") == [] and fake.requests("discovery") == []

    # An unknown CA key with a refresh due: this call goes to the network, so libcurl is loaded
    # (by dlopen, not as a start-time dependency), the JWKS is fetched, and the key is refused.
    if (state / "jwks.refresh").exists():
        os.utime(state / "jwks.refresh", (time.time() - 120, time.time() - 120))
    rogue = sshcert.entra_cert(fake.key("rogue").key, u, ADMIN, OID, TENANT)
    res = ak_traced(iso, ADMIN, rogue)
    assert res.stdout == "" and "EL_ERR_CERT_CA_UNKNOWN" in res.stderr, res
    lines = curl_loaded(res.stderr)
    assert lines and all("needed by" not in ln for ln in lines), res.stderr
    assert len(fake.requests("jwks")) == 1


STUB = r"""
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <stdlib.h>
#ifdef OLD
/* 7.80.0: before CURLOPT_PROTOCOLS_STR. Nothing else may be called. */
curl_version_info_data *curl_version_info(CURLversion v)
{
	static curl_version_info_data d;
	(void)v;
	d.age = CURLVERSION_NOW;
	d.version = "7.80.0";
	d.version_num = 0x075000;
	return &d;
}
CURLcode curl_global_init(long f) { (void)f; abort(); }
CURL *curl_easy_init(void) { abort(); }
CURLcode curl_easy_setopt(CURL *c, CURLoption o, ...) { (void)c; (void)o; abort(); }
CURLcode curl_easy_perform(CURL *c) { (void)c; abort(); }
CURLcode curl_easy_getinfo(CURL *c, CURLINFO i, ...) { (void)c; (void)i; abort(); }
void curl_easy_cleanup(CURL *c) { (void)c; abort(); }
struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s) { (void)l; (void)s; abort(); }
void curl_slist_free_all(struct curl_slist *l) { (void)l; abort(); }
#else
/* curl_version_info only: every other function is missing. */
curl_version_info_data *curl_version_info(CURLversion v) { (void)v; abort(); }
#endif
"""


def test_unusable_libcurl_fails_closed(tmp_path, fake, config):
    src = tmp_path / "stub.c"
    src.write_text(STUB)
    tok = fake.mint("access_v2")
    for name, flags in (("partial", []), ("old", ["-DOLD"])):
        d = tmp_path / name
        d.mkdir()
        subprocess.run(["cc", "-shared", "-fPIC", "-o", str(d / "libcurl.so.4"), "-Wl,-soname,libcurl.so.4",
                        *flags, str(src)], check=True)
        env = dict(os.environ, LD_LIBRARY_PATH=str(d))
        p = subprocess.run([str(CLI), "--config", str(config), "verify-token"], input=tok.encode(),
                           capture_output=True, timeout=120, env=env)
        out = p.stdout.decode()
        assert p.returncode == 3 and out.startswith("unavailable: EL_ERR_HTTP_LIB: libcurl.so.4"), (name, p)
    assert fake.requests("discovery") == [] and fake.requests("jwks") == []
    # The same call with the system's libcurl goes out and validates the token.
    p = run_cli(config, [], tok)
    assert p.returncode == 0 and p.stdout.decode().startswith("valid"), p
    assert len(fake.requests("discovery")) == 1
