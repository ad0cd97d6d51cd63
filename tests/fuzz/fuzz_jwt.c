/* fuzz_jwt - token validation (common/net/jwt.c, jwt_validate) and the
 * signing-key set parser (common/net/jwks.c, keys_from_jwks), offline: a
 * fixed configuration from cfg_parse, a fixed clock (FUZZ_NOW), and a key
 * set built at start-up from an RSA-2048 key generated in memory (kid
 * "fuzz-k1") plus a 1024-bit one ("fuzz-weak"). No key is stored anywhere.
 *
 * Byte 0 of the input chooses what the rest is:
 *   bits 0-1  0: a raw token            1: header JSON, NUL, claims JSON
 *             2: claims JSON (header {"alg":"RS256","kid":"fuzz-k1","typ":"JWT"})
 *             3: a JWKS document (then a fixed signed token is checked with it)
 *   bit 2     ID token (else access token)
 *   bit 3     expect "alice@contoso.com" (else any user)
 *   bit 4     sign with the weak key (modes 1, 2)
 * Modes 1 and 2 sign header.claims with the harness's key, so the fuzzer
 * reaches every claim check behind the signature.
 *
 * Properties: a raw token (mode 0) never validates (the fuzzer cannot sign);
 * an accepted token's claims satisfy every rule of design section 3 (tenant,
 * issuer, times against the fixed clock, oid a lower-case GUID, the name a
 * valid directory name equal to the expected one, no NULL list entries).
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz_common.h"
#include "jwks.h"
#include "jwt.h"
#include "names.h"

static struct el_config *cfg;
static struct el_keys *keys;
static EVP_PKEY *key_main, *key_weak;

static char *jwk_of(EVP_PKEY *pkey, const char *kid)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[1024], eb[16];
	char *ns, *es, *out = malloc(2048);
	int nl, el;

	if (!out || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		abort();
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	ns = fuzz_b64url_encode(nb, (size_t)nl, NULL);
	es = fuzz_b64url_encode(eb, (size_t)el, NULL);
	snprintf(out, 2048, "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"}", kid, ns, es);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
	return out;
}

/* "b64(header).b64(claims).b64(RS256 signature)" */
static char *sign(EVP_PKEY *pkey, const uint8_t *hdr, size_t hlen, const uint8_t *claims, size_t clen,
		  size_t *ret_len)
{
	char *h = fuzz_b64url_encode(hdr, hlen, NULL), *c = fuzz_b64url_encode(claims, clen, NULL), *s, *tok;
	unsigned char sig[512];
	size_t siglen = sizeof(sig), in_len;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	in_len = strlen(h) + 1 + strlen(c);
	tok = malloc(in_len + 1 + 700);
	if (!tok || !md)
		abort();
	snprintf(tok, in_len + 1, "%s.%s", h, c);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)tok, in_len) != 1)
		abort();
	s = fuzz_b64url_encode(sig, siglen, NULL);
	tok[in_len] = '.';
	memcpy(tok + in_len + 1, s, strlen(s) + 1);
	*ret_len = strlen(tok);
	free(h);
	free(c);
	free(s);
	EVP_MD_CTX_free(md);
	return tok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *text = fuzz_config_text();
	char err[512], jwks[4096];
	char *j1, *j2;

	(void)argc;
	(void)argv;
	if (cfg_parse("/fuzz/entra-login.conf", text, strlen(text), &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_jwt: config: %s\n", err);
		abort();
	}
	key_main = EVP_RSA_gen(2048);
	key_weak = EVP_RSA_gen(1024);
	if (!key_main || !key_weak)
		abort();
	j1 = jwk_of(key_main, "fuzz-k1");
	j2 = jwk_of(key_weak, "fuzz-weak");
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s]}", j1, j2);
	free(j1);
	free(j2);
	if (keys_from_jwks(jwks, strlen(jwks), &keys) < 0 || keys_count(keys) != 2)
		abort();
	return 0;
}

static void check_claims(const struct jwt_claims *c, enum jwt_kind kind, const char *expect)
{
	FUZZ_CHECK(c->kind == kind);
	/* Any syntactically valid name; the domain is checked by whoever
	 * chose expect_name (PAM: name_is_ours on the login name). */
	FUZZ_CHECK(name_syntax_ok(c->name));
	if (expect)
		FUZZ_CHECK(strcmp(c->name, expect) == 0 && name_is_ours(cfg, c->name));
	FUZZ_CHECK(name_is_guid(c->oid));
	for (const char *p = c->oid; *p; p++)
		FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
	FUZZ_CHECK(strcmp(c->tid, FUZZ_TENANT) == 0);
	FUZZ_CHECK(c->exp > (int64_t)FUZZ_NOW - 120);
	FUZZ_CHECK(c->iat <= (int64_t)FUZZ_NOW + 120);
	if (kind == JWT_ACCESS_TOKEN)
		FUZZ_CHECK(c->iat >= (int64_t)FUZZ_NOW - 600);
	else
		FUZZ_CHECK(!c->v1);
	for (size_t i = 0; i < c->roles.n; i++)
		FUZZ_CHECK(c->roles.items[i] != NULL);
	for (size_t i = 0; i < c->groups.n; i++)
		FUZZ_CHECK(c->groups.items[i] != NULL);
	FUZZ_CHECK(!c->groups_overage || c->groups.n == 0);
}

static int validate(struct el_keys *ks, const char *tok, size_t len, enum jwt_kind kind, const char *expect)
{
	struct jwt_claims *c = NULL;
	char *copy = malloc(len ? len : 1);	/* exact size: jwt_validate must not need a NUL */
	int r;

	if (!copy)
		abort();
	memcpy(copy, tok, len);
	r = jwt_validate(cfg, ks, copy, len, kind, expect, FUZZ_NOW, &c);
	FUZZ_CHECK(r <= 0);
	if (r == 0) {
		FUZZ_CHECK(c != NULL);
		check_claims(c, kind, expect);
		jwt_claims_free(c);
	}
	free(copy);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char dflt_hdr[] = "{\"alg\":\"RS256\",\"kid\":\"fuzz-k1\",\"typ\":\"JWT\"}";
	static const char fixed_claims[] =
		"{\"aud\":\"" FUZZ_CLIENT "\",\"iss\":\"https://login.invalid/" FUZZ_TENANT "/v2.0\","
		"\"iat\":1699999800,\"nbf\":1699999800,\"exp\":1700003400,\"tid\":\"" FUZZ_TENANT "\","
		"\"oid\":\"11111111-1111-4111-8111-111111111111\",\"preferred_username\":\"alice@contoso.com\","
		"\"name\":\"Alice\",\"roles\":[\"VirtualMachineUserLogin\"]}";
	enum jwt_kind kind;
	const char *expect;
	char *tok;
	size_t len;
	int mode, r;

	if (size < 1 || size > 2 * EL_TOKEN_MAX)
		return 0;
	mode = data[0] & 3;
	kind = data[0] & 4 ? JWT_ID_TOKEN : JWT_ACCESS_TOKEN;
	expect = data[0] & 8 ? "alice@contoso.com" : NULL;
	EVP_PKEY *signer = data[0] & 16 ? key_weak : key_main;
	data++;
	size--;
	switch (mode) {
	case 0:
		r = validate(keys, (const char *)data, size, kind, expect);
		FUZZ_CHECK(r < 0);	/* nobody but the harness holds the key */
		break;
	case 1: {
		const uint8_t *nul = memchr(data, 0, size);
		size_t hlen = nul ? (size_t)(nul - data) : size;

		tok = sign(signer, data, hlen, nul ? nul + 1 : data + size, nul ? size - hlen - 1 : 0, &len);
		(void)validate(keys, tok, len, kind, expect);
		free(tok);
		break;
	}
	case 2:
		tok = sign(signer, (const uint8_t *)dflt_hdr, strlen(dflt_hdr), data, size, &len);
		(void)validate(keys, tok, len, kind, expect);
		free(tok);
		break;
	default: {
		struct el_keys *ks = NULL;
		char *text = malloc(size ? size : 1);

		if (!text)
			abort();
		memcpy(text, data, size);
		r = keys_from_jwks(text, size, &ks);
		FUZZ_CHECK(r == 0 || r == EL_ERR_JWKS || r == EL_ERR_JSON || r == EL_ERR_NOMEM);
		if (r == 0) {
			FUZZ_CHECK(keys_count(ks) >= 1 && keys_count(ks) <= EL_JWKS_KEYS_MAX);
			for (size_t i = 0; i < keys_count(ks); i++) {
				const struct el_key *k = keys_get(ks, i);

				FUZZ_CHECK(k && k->kid && keys_find(ks, k->kid) == k);
			}
			tok = sign(key_main, (const uint8_t *)dflt_hdr, strlen(dflt_hdr), (const uint8_t *)fixed_claims,
				   strlen(fixed_claims), &len);
			(void)validate(ks, tok, len, JWT_ID_TOKEN, "alice@contoso.com");
			free(tok);
			keys_free(ks);
		}
		free(text);
		break;
	}
	}
	return 0;
}
