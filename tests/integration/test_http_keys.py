"""Discovery and JWKS caching through `entra-login verify-token`: key rotation, the refresh rate
limit, offline validation, last good copy, and what the cache files look like on disk."""
import json
import os
import stat
import time

from test_token_corpus import run_cli


def verdict(conf, token, *args):
    p = run_cli(conf, list(args), token)
    return p.returncode, p.stdout.decode().split("\n", 1)[0]


def test_key_rotation_refresh_once_then_rate_limited(fake, config, state_dir):
    assert verdict(config, fake.mint("access_v2"))[0] == 0	# k1: discovery + JWKS fetched
    assert len(fake.requests("jwks")) == 1
    fake.rotate_keys()					# JWKS now k2, k3; k1 withdrawn
    # A token signed by the new key k3: unknown kid -> one refresh -> valid.
    assert verdict(config, fake.mint("access_v2", key="k3")) == (0, "valid")
    assert len(fake.requests("jwks")) == 2
    assert (state_dir / "jwks.refresh").exists()
    # Another unknown kid within the minute: no fetch, refused.
    assert verdict(config, fake.mint("access_v2", key="rogue")) == (1, "invalid: EL_ERR_TOKEN_KID_UNKNOWN: "
                                                                      "token key id is not in the tenant's key set")
    # The withdrawn key is gone from the cache too.
    assert verdict(config, fake.mint("access_v2", key="k1"))[1].startswith("invalid: EL_ERR_TOKEN_KID_UNKNOWN")
    assert len(fake.requests("jwks")) == 2
    assert len(fake.requests("discovery")) == 1		# discovery came from the cache every time
    # A minute later (the stamp aged by hand) the next unknown kid may refresh again.
    old = time.time() - 61
    os.utime(state_dir / "jwks.refresh", (old, old))
    assert verdict(config, fake.mint("access_v2", key="rogue"))[1].startswith("invalid: EL_ERR_TOKEN_KID_UNKNOWN")
    assert len(fake.requests("jwks")) == 3


def test_offline_with_cached_keys(fake, config):
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    fake.stop()
    assert verdict(config, tok) == (0, "valid")
    assert verdict(config, fake.mint("access_v2", upn="bob@contoso.com")) == (0, "valid")


def test_offline_with_stale_cache_uses_last_good_copy(fake, config, state_dir):
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    old = time.time() - 3 * 86400
    for f in ("openid-configuration.json", "jwks.json"):
        os.utime(state_dir / f, (old, old))
    fake.stop()
    assert verdict(config, tok) == (0, "valid")


def test_offline_with_a_cache_past_the_hard_max_age_fails_closed(fake, config, state_dir):
    """Seven days without a successful refetch: the cached keys (a withdrawn key among them, maybe)
    and endpoints are no longer trusted."""
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    fake.stop()
    day = 86400
    for f, age in (("openid-configuration.json", 6 * day), ("jwks.json", 6 * day)):
        t = time.time() - age
        os.utime(state_dir / f, (t, t))
    assert verdict(config, tok) == (0, "valid")             # 6 days: still the last good copy
    t = time.time() - 7 * day - 60
    os.utime(state_dir / "jwks.json", (t, t))
    code, line = verdict(config, tok)
    assert code == 3 and line.startswith("unavailable: EL_ERR_JWKS"), line
    os.utime(state_dir / "openid-configuration.json", (t, t))
    code, line = verdict(config, tok)
    assert code == 3 and line.startswith("unavailable: EL_ERR_DISCOVERY"), line
    # A cache file from the future (clock set back) is no better.
    t = time.time() + 30 * day
    os.utime(state_dir / "openid-configuration.json", (t, t))
    code, line = verdict(config, tok)
    assert code == 3 and line.startswith("unavailable: EL_ERR_DISCOVERY"), line


def test_caches_in_an_unsafe_state_dir_are_not_trusted(fake, config, state_dir):
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    fake.stop()
    os.chmod(state_dir, 0o775)      # a group member could swap the cached keys
    try:
        code, line = verdict(config, tok)
        assert code == 3 and line.startswith("unavailable: EL_ERR_HTTP_CONNECT"), line
    finally:
        os.chmod(state_dir, 0o755)
    assert verdict(config, tok) == (0, "valid")


def test_unknown_kid_while_offline_is_unavailable(fake, config):
    assert verdict(config, fake.mint("access_v2"))[0] == 0
    tok = fake.mint("access_v2", key="k3")
    fake.stop()
    code, line = verdict(config, tok)
    assert code == 3 and line.startswith("unavailable: EL_ERR_HTTP_CONNECT"), line


def test_garbage_jwks_keeps_last_good_copy(fake, config, state_dir):
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    before = (state_dir / "jwks.json").read_bytes()
    fake.fault("jwks", "badjson")
    code, line = verdict(config, fake.mint("access_v2", key="k3"))	# refresh gets garbage
    assert code == 3 and line.startswith("unavailable: EL_ERR_JSON"), line
    assert (state_dir / "jwks.json").read_bytes() == before
    fake.publish_keys(None, raw={"keys": []}, set_raw=True)		# valid JSON, no key
    fake.fault("jwks", "ok")
    os.unlink(state_dir / "jwks.refresh")
    code, line = verdict(config, fake.mint("access_v2", key="k3"))
    assert code == 3 and line.startswith("unavailable: EL_ERR_JWKS"), line
    assert (state_dir / "jwks.json").read_bytes() == before
    assert verdict(config, tok) == (0, "valid")


def test_untrusted_cache_is_refetched(fake, config, state_dir):
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    os.chmod(state_dir / "jwks.json", 0o666)
    os.chmod(state_dir / "openid-configuration.json", 0o664)
    assert verdict(config, tok)[0] == 0
    assert len(fake.requests("discovery")) == 2 and len(fake.requests("jwks")) == 2
    for f in ("jwks.json", "openid-configuration.json"):
        assert stat.S_IMODE(os.stat(state_dir / f).st_mode) == 0o644	# rewritten sanely


def test_cache_files_root_owned_0644_public_only(fake, config, state_dir):
    tok = fake.mint("access_v2")
    assert verdict(config, tok)[0] == 0
    names = sorted(os.listdir(state_dir))
    assert names == ["jwks.json", "openid-configuration.json"], names	# no temp files left
    for name in names:
        st = os.stat(state_dir / name)
        assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o644, name
        text = (state_dir / name).read_text()
        assert tok.split(".")[2] not in text and tok.split(".")[1] not in text
        for secret in ("device_code", "access_token", "refresh_token", "id_token", "client_secret"):
            assert secret not in text, (name, secret)
    disc = json.loads((state_dir / "openid-configuration.json").read_text())
    assert disc["authority"] == fake.authority and disc["issuer"] == fake.issuer()
    jwks = json.loads((state_dir / "jwks.json").read_text())
    assert jwks["source"].startswith(fake.authority + "/")
    for jwk in jwks["jwks"]["keys"]:
        assert not set(jwk) & {"d", "p", "q", "dp", "dq", "qi"}		# public parts only
