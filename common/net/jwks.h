/* jwks.h - the tenant's signing keys: fetch, parse, cache, look up by kid.
 *
 * A JWKS is accepted key by key: kty "RSA", "use" absent or "sig", "alg"
 * absent or "RS256", a kid, n and e strict base64url. Keys under 2048 bits
 * are kept but flagged weak (a token signed with one is EL_ERR_TOKEN_KEY_WEAK,
 * which says more than "unknown kid"). A set with no usable key, a duplicate
 * kid or more than EL_JWKS_KEYS_MAX keys is EL_ERR_JWKS.
 *
 * Cache: {state_dir}/jwks.json = {"source": jwks_uri, "jwks": {...}}, 0644,
 * root, atomic; public keys only. keys_open uses it without any request if
 * it is trustworthy, for the discovered jwks_uri, and younger than
 * JWKS_CACHE_MAX_AGE; an older one is refreshed, and kept if the fetch
 * fails or returns garbage, but never past JWKS_CACHE_HARD_MAX_AGE: an
 * older copy while the IdP cannot be reached is EL_ERR_JWKS (fail closed:
 * a key Microsoft withdrew, e.g. after a compromise, must stop working). An unknown kid triggers keys_refresh, at most
 * once per JWKS_REFRESH_INTERVAL per host ({state_dir}/jwks.refresh mtime)
 * and once per struct el_keys.
 *
 * Thread-safety: a struct el_keys is not; use one per thread (or a lock).
 * Different objects are independent. No logging.
 */
#ifndef EL_JWKS_H
#define EL_JWKS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "err.h"

#define JWKS_CACHE_MAX_AGE (24 * 3600)
#define JWKS_CACHE_HARD_MAX_AGE (7 * 24 * 3600)
#define JWKS_REFRESH_INTERVAL 60
#define JWKS_MIN_BITS 2048
#define JWKS_KID_MAX 128

struct el_key {
	char *kid;
	EVP_PKEY *pkey;		/* public RSA key */
	EVP_MD_CTX *verify;	/* RS256 verify context for pkey, copied per token */
	int bits;
	bool weak;		/* bits < JWKS_MIN_BITS */
};

struct el_keys;

/* Keys for cfg's tenant: discovery (cached) + JWKS (cached), fetching what
 * is missing. cfg is borrowed and must outlive the result.
 * Returns 0, EL_ERR_HTTP_* (IdP unreachable and nothing cached),
 * EL_ERR_DISCOVERY, EL_ERR_JWKS, EL_ERR_JSON, EL_ERR_NOMEM. Free with keys_free(). */
int keys_open(const struct el_config *cfg, struct el_keys **ret_keys) EL_MUST_CHECK;

/* Same, with an absolute deadline (http.h clock; 0 = http_timeout per
 * request) that also bounds later refreshes through this object. */
int keys_open_deadline(const struct el_config *cfg, uint64_t deadline_ms, struct el_keys **ret_keys) EL_MUST_CHECK;

/* A key set from JWKS text, with no network and no refresh (tests, bench).
 * Returns 0, EL_ERR_JWKS, EL_ERR_JSON, EL_ERR_NOMEM. */
int keys_from_jwks(const char *text, size_t len, struct el_keys **ret_keys) EL_MUST_CHECK;

/* The key with this kid, borrowed (valid until the next keys_refresh or
 * keys_free), or NULL. */
const struct el_key *keys_find(const struct el_keys *keys, const char *kid);

/* Re-fetch the JWKS because a token names an unknown kid. Returns 0 (new set
 * loaded), EL_ERR_TOKEN_KID_UNKNOWN (refresh not allowed now: offline set,
 * already refreshed, or another refresh less than JWKS_REFRESH_INTERVAL ago),
 * EL_ERR_HTTP_*, EL_ERR_JWKS, EL_ERR_JSON, EL_ERR_NOMEM (the old set stays). */
int keys_refresh(struct el_keys *keys) EL_MUST_CHECK;

/* For status: number of keys, the i-th (borrowed), when the set was fetched
 * (cache mtime; 0 if unknown), whether it came from the cache. */
size_t keys_count(const struct el_keys *keys);
const struct el_key *keys_get(const struct el_keys *keys, size_t i);
time_t keys_fetched(const struct el_keys *keys);
bool keys_from_cache(const struct el_keys *keys);
/* How many JWKS fetches this object made (tests). */
unsigned keys_fetch_count(const struct el_keys *keys);

void keys_free(struct el_keys *keys);

#endif
