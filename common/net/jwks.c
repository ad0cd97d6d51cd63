/* jwks.c - JWKS parsing (keys built by rsakey.c), cache and refresh. */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "el_limits.h"
#include "http.h"
#include "jwks.h"
#include "oidc.h"
#include "rsakey.h"
#include "statefile.h"

#define JWKS_N_MAX 2048		/* bytes of modulus: 16384 bits */
#define JWKS_E_MAX 8

struct el_keys {
	const struct el_config *cfg;	/* borrowed; NULL = offline set */
	char *jwks_uri;
	struct el_key *keys;
	size_t n;
	time_t fetched;
	bool from_cache;
	bool refreshed;
	unsigned fetches;
	uint64_t deadline_ms;
};

static void key_clear(struct el_key *k)
{
	free(k->kid);
	EVP_PKEY_free(k->pkey);
	EVP_MD_CTX_free(k->verify);
	memset(k, 0, sizeof(*k));
}

static void keyset_free(struct el_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		key_clear(&keys[i]);
	free(keys);
}

/* A base64url member as a BIGNUM (no leading-zero games: sizes capped). */
static int member_bn(json_t *jwk, const char *name, size_t maxbytes, BIGNUM **ret_bn)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	unsigned char buf[JWKS_N_MAX];
	size_t len = 0;
	BIGNUM *bn;

	if (!s || strlen(s) == 0 || B64URL_DECODED_LEN(strlen(s)) > maxbytes)
		return EL_ERR_JWKS;
	if (b64url_decode(s, strlen(s), buf, sizeof(buf), &len) < 0 || len == 0)
		return EL_ERR_JWKS;
	bn = BN_bin2bn(buf, (int)len, NULL);
	if (!bn)
		return EL_ERR_NOMEM;
	*ret_bn = bn;
	return 0;
}

/* An EVP_MD_CTX set up once for RS256 verification with pkey: copying it per
 * token skips the provider fetches of a fresh EVP_DigestVerifyInit, which
 * cost about a third of an RSA-2048 verify (tests/bench/run_jwt.sh). */
static int verify_template(EVP_PKEY *pkey, EVP_MD_CTX **ret_md)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	if (!md)
		return EL_ERR_NOMEM;
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		EVP_MD_CTX_free(md);
		return EL_ERR_JWKS;
	}
	*ret_md = md;
	return 0;
}

static bool kid_ok(const char *kid)
{
	size_t n = strlen(kid);

	if (n == 0 || n > JWKS_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)kid[i] < 0x20 || (unsigned char)kid[i] >= 0x7f)
			return false;
	return true;
}

/* One JWK into *k. EL_ERR_NOT_FOUND = not a key we use (skip it). */
static int parse_jwk(json_t *jwk, struct el_key *k)
{
	const char *kty, *use, *alg, *kid;
	BIGNUM *n = NULL, *e = NULL;
	int r;

	if (!json_is_object(jwk))
		return EL_ERR_JWKS;
	kty = json_string_value(json_object_get(jwk, "kty"));
	use = json_string_value(json_object_get(jwk, "use"));
	alg = json_string_value(json_object_get(jwk, "alg"));
	kid = json_string_value(json_object_get(jwk, "kid"));
	if (!kty || strcmp(kty, "RSA") != 0)
		return EL_ERR_NOT_FOUND;
	if ((json_object_get(jwk, "use") && (!use || strcmp(use, "sig") != 0)) ||
	    (json_object_get(jwk, "alg") && (!alg || strcmp(alg, "RS256") != 0)))
		return EL_ERR_NOT_FOUND;
	if (!kid || !kid_ok(kid))
		return EL_ERR_NOT_FOUND;
	r = member_bn(jwk, "n", JWKS_N_MAX, &n);
	if (r < 0)
		goto out;
	r = member_bn(jwk, "e", JWKS_E_MAX, &e);
	if (r < 0)
		goto out;
	if (rsakey_public(n, e, &k->pkey) < 0) {
		r = EL_ERR_JWKS;
		goto out;
	}
	k->bits = EVP_PKEY_get_bits(k->pkey);
	k->weak = k->bits < JWKS_MIN_BITS;
	r = verify_template(k->pkey, &k->verify);
	if (r < 0)
		goto out;
	k->kid = strdup(kid);
	if (!k->kid)
		r = EL_ERR_NOMEM;
out:
	if (r < 0)
		key_clear(k);
	BN_free(n);
	BN_free(e);
	return r;
}

static int parse_set(json_t *root, struct el_key **ret_keys, size_t *ret_n)
{
	json_t *arr = json_object_get(root, "keys");
	struct el_key *keys = NULL;
	size_t n = 0, i;
	json_t *jwk;
	int r;

	if (!json_is_object(root) || !json_is_array(arr) || json_array_size(arr) > EL_JWKS_KEYS_MAX)
		return EL_ERR_JWKS;
	keys = calloc(json_array_size(arr) + 1, sizeof(*keys));
	if (!keys)
		return EL_ERR_NOMEM;
	json_array_foreach(arr, i, jwk) {
		r = parse_jwk(jwk, &keys[n]);
		if (r == EL_ERR_NOT_FOUND)
			continue;
		if (r < 0)
			goto out;
		for (size_t j = 0; j < n; j++) {
			if (strcmp(keys[j].kid, keys[n].kid) == 0) {
				n++;
				r = EL_ERR_JWKS;	/* two keys, one kid: which would we trust? */
				goto out;
			}
		}
		n++;
	}
	if (n == 0) {
		r = EL_ERR_JWKS;
		goto out;
	}
	*ret_keys = keys;
	*ret_n = n;
	keys = NULL;
	r = 0;
out:
	if (keys)
		keyset_free(keys, n);
	return r;
}

static void keys_replace(struct el_keys *ks, struct el_key *keys, size_t n)
{
	keyset_free(ks->keys, ks->n);
	ks->keys = keys;
	ks->n = n;
}

int keys_from_jwks(const char *text, size_t len, struct el_keys **ret_keys)
{
	struct el_keys *ks = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int r;

	if (len > EL_HTTP_BODY_MAX)
		return EL_ERR_JWKS;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return EL_ERR_JSON;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	r = parse_set(root, &ks->keys, &ks->n);
	if (r < 0)
		goto out;
	*ret_keys = ks;
	ks = NULL;
out:
	keys_free(ks);
	json_decref(root);
	return r;
}

/* Fetch ks->jwks_uri; on success replace the keys and rewrite the cache. */
static int fetch(struct el_keys *ks)
{
	static const char *const headers[] = { "Accept: application/json", NULL };
	struct http_response *resp = NULL;
	struct el_key *keys = NULL;
	json_t *root = NULL, *doc = NULL;
	json_error_t jerr;
	char *text = NULL;
	size_t n = 0;
	int r;

	ks->fetches++;
	r = http_get(ks->cfg, ks->jwks_uri, headers, ks->deadline_ms, &resp);
	if (r < 0)
		return r;
	if (resp->status != 200) {
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		r = EL_ERR_JSON;
		goto out;
	}
	r = parse_set(root, &keys, &n);
	if (r < 0)
		goto out;
	keys_replace(ks, keys, n);
	keys = NULL;
	ks->fetched = time(NULL);
	ks->from_cache = false;
	doc = json_pack("{s:i, s:s, s:O}", STATE_FORMAT_KEY, STATE_FORMAT, "source", ks->jwks_uri, "jwks", root);
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text)
		(void)state_write(ks->cfg, STATE_JWKS, text, strlen(text));	/* best effort */
	r = 0;
out:
	if (keys)
		keyset_free(keys, n);
	free(text);
	json_decref(doc);
	json_decref(root);
	http_response_free(resp);
	return r;
}

/* The cached set if trustworthy and made from the same jwks_uri. */
static int cache_load(struct el_keys *ks)
{
	json_t *root = NULL;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	time_t mtime = 0;
	const char *source;
	int r;

	r = state_read(ks->cfg, STATE_JWKS, EL_HTTP_BODY_MAX + 1024, &text, &len, &mtime);
	if (r < 0)
		return r;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	r = state_format_check(root);
	if (r < 0)
		goto out;	/* a later package's cache: not ours to read */
	source = json_string_value(json_object_get(root, "source"));
	if (!source || strcmp(source, ks->jwks_uri) != 0) {
		r = EL_ERR_NOT_FOUND;
		goto out;
	}
	r = parse_set(json_object_get(root, "jwks"), &ks->keys, &ks->n);
	if (r < 0)
		goto out;
	ks->fetched = mtime;
	ks->from_cache = true;
out:
	json_decref(root);
	free(text);
	return r;
}

int keys_open_deadline(const struct el_config *cfg, uint64_t deadline_ms, struct el_keys **ret_keys)
{
	struct oidc_meta *meta = NULL;
	struct el_keys *ks = NULL;
	time_t now = time(NULL);
	int r;

	if (!cfg || !ret_keys)
		return EL_ERR_INVAL;
	r = oidc_discover(cfg, deadline_ms, &meta);
	if (r < 0)
		return r;
	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	ks->cfg = cfg;
	ks->deadline_ms = deadline_ms;
	ks->jwks_uri = strdup(meta->jwks_uri);
	if (!ks->jwks_uri) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	r = cache_load(ks);
	if (r == 0 && state_age_below(ks->fetched, now, JWKS_CACHE_MAX_AGE))
		goto done;
	r = fetch(ks);
	if (r < 0 && ks->n > 0 && ks->from_cache) {
		/* Keep the last good copy while the IdP is away, within limits. */
		if (state_age_below(ks->fetched, now, JWKS_CACHE_HARD_MAX_AGE))
			r = 0;
		else
			r = EL_ERR_JWKS;
	}
	if (r < 0)
		goto out;
done:
	*ret_keys = ks;
	ks = NULL;
	r = 0;
out:
	keys_free(ks);
	oidc_meta_free(meta);
	return r;
}

int keys_open(const struct el_config *cfg, struct el_keys **ret_keys)
{
	return keys_open_deadline(cfg, 0, ret_keys);
}

const struct el_key *keys_find(const struct el_keys *ks, const char *kid)
{
	if (!ks || !kid)
		return NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->keys[i].kid, kid) == 0)
			return &ks->keys[i];
	return NULL;
}

int keys_refresh(struct el_keys *ks)
{
	char stamp[32];
	time_t now = time(NULL), last = 0;
	int n;

	if (!ks || !ks->cfg || ks->refreshed)
		return EL_ERR_TOKEN_KID_UNKNOWN;
	/* Host-wide rate limit: random kids must not turn us into a JWKS pump. */
	if (state_stat(ks->cfg, STATE_JWKS_REFRESH, &last) == 0 && last <= now &&
	    now - last < JWKS_REFRESH_INTERVAL)
		return EL_ERR_TOKEN_KID_UNKNOWN;
	ks->refreshed = true;
	n = snprintf(stamp, sizeof(stamp), "%lld\n", (long long)now);
	(void)state_write(ks->cfg, STATE_JWKS_REFRESH, stamp, (size_t)n);
	return fetch(ks);
}

size_t keys_count(const struct el_keys *ks)
{
	return ks ? ks->n : 0;
}

const struct el_key *keys_get(const struct el_keys *ks, size_t i)
{
	return ks && i < ks->n ? &ks->keys[i] : NULL;
}

time_t keys_fetched(const struct el_keys *ks)
{
	return ks ? ks->fetched : 0;
}

bool keys_from_cache(const struct el_keys *ks)
{
	return ks && ks->from_cache;
}

unsigned keys_fetch_count(const struct el_keys *ks)
{
	return ks ? ks->fetches : 0;
}

void keys_free(struct el_keys *ks)
{
	if (!ks)
		return;
	keyset_free(ks->keys, ks->n);
	free(ks->jwks_uri);
	free(ks);
}
