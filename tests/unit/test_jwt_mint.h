/* test_jwt_mint.h - token minting for the jwt unit tests and benchmark-free
 * checks: RSA keys generated here with OpenSSL, JWKs built from them, tokens
 * signed with RS256/RS384/PS256/HS256 or not at all. Test code: aborts on
 * any OpenSSL failure. Included by test_jwt*.c only. */
#ifndef TEST_JWT_MINT_H
#define TEST_JWT_MINT_H

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_TENANT "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
#define T_OTHER_TENANT "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
#define T_CLIENT "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
#define T_OID "e4294c93-285a-5298-b104-f5102fffda06"
#define T_NOW 1700000000LL
#define T_ISSUER "https://login.microsoftonline.com/" T_TENANT "/v2.0"
#define T_ISSUER_V1 "https://sts.windows.net/" T_TENANT "/"
#define T_CONF "tenant_id = " T_TENANT "\nclient_id = " T_CLIENT "\ndomains = contoso.com\n" \
	       "audiences = api://" T_CLIENT ", https://vm.contoso.com\n"

static inline char *t_b64u(const void *data, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *in = data;
	char *out = malloc(n * 4 / 3 + 4), *o = out;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		*o++ = a[v >> 18 & 63], *o++ = a[v >> 12 & 63], *o++ = a[v >> 6 & 63], *o++ = a[v & 63];
	}
	if (n - i == 1) {
		*o++ = a[in[i] >> 2], *o++ = a[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 8 | in[i + 1];

		*o++ = a[v >> 10 & 63], *o++ = a[v >> 4 & 63], *o++ = a[(v & 15) << 2];
	}
	*o = '\0';
	return out;
}

static inline EVP_PKEY *t_rsa(unsigned bits)
{
	EVP_PKEY *k = EVP_RSA_gen(bits);

	if (!k)
		abort();
	return k;
}

/* {"kty":"RSA","use":"sig","kid":kid,"n":..,"e":..} as a new json_t. */
static inline json_t *t_jwk(EVP_PKEY *k, const char *kid)
{
	unsigned char buf[1024];
	BIGNUM *n = NULL, *e = NULL;
	char *n64, *e64;
	json_t *j;
	int len;

	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) || !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e))
		abort();
	len = BN_bn2bin(n, buf);
	n64 = t_b64u(buf, (size_t)len);
	len = BN_bn2bin(e, buf);
	e64 = t_b64u(buf, (size_t)len);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "use", "sig", "kid", kid, "n", n64, "e", e64);
	free(n64), free(e64);
	BN_free(n), BN_free(e);
	return j;
}

/* SubjectPublicKeyInfo PEM of k (the HS256-confusion secret). */
static inline char *t_pem(EVP_PKEY *k, size_t *ret_len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	if (!b || !PEM_write_bio_PUBKEY(b, k))
		abort();
	n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*ret_len = (size_t)n;
	BIO_free(b);
	return out;
}

/* header.payload from raw JSON texts. */
static inline char *t_signing_input(const char *header, const char *claims)
{
	char *h = t_b64u(header, strlen(header)), *c = t_b64u(claims, strlen(claims));
	char *si = malloc(strlen(h) + strlen(c) + 2);

	sprintf(si, "%s.%s", h, c);
	free(h), free(c);
	return si;
}

/* Sign raw header/claims texts. alg: RS256 RS384 PS256 (key), HS256 HS384
 * HS512 (secret), none (no signature). Returns a new token. */
static inline char *t_sign_raw(const char *header, const char *claims, const char *alg, EVP_PKEY *key,
			       const void *secret, size_t secret_len)
{
	char *si = t_signing_input(header, claims), *sig64, *tok;
	unsigned char sig[1024];
	size_t siglen = 0;

	if (strcmp(alg, "none") == 0) {
		siglen = 0;
	} else if (alg[0] == 'H') {
		const EVP_MD *md = strcmp(alg, "HS256") == 0 ? EVP_sha256() : strcmp(alg, "HS384") == 0 ? EVP_sha384() : EVP_sha512();
		unsigned int l = 0;

		if (!HMAC(md, secret, (int)secret_len, (unsigned char *)si, strlen(si), sig, &l))
			abort();
		siglen = l;
	} else {
		const EVP_MD *md = strcmp(alg + 2, "256") == 0 ? EVP_sha256() : EVP_sha384();
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;

		siglen = sizeof(sig);
		if (EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1)
			abort();
		if (alg[0] == 'P' && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
				      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
			abort();
		if (EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)si, strlen(si)) != 1)
			abort();
		EVP_MD_CTX_free(ctx);
	}
	sig64 = t_b64u(sig, siglen);
	tok = malloc(strlen(si) + strlen(sig64) + 2);
	sprintf(tok, "%s.%s", si, sig64);
	free(si), free(sig64);
	return tok;
}

/* Sign JSON objects (compact, keys in insertion order); steals both. */
static inline char *t_sign(json_t *header, json_t *claims, const char *alg, EVP_PKEY *key)
{
	char *h = json_dumps(header, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *c = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *tok = t_sign_raw(h, c, alg, key, NULL, 0);

	free(h), free(c);
	json_decref(header), json_decref(claims);
	return tok;
}

static inline json_t *t_header(const char *kid)
{
	return json_pack("{s:s, s:s, s:s}", "typ", "JWT", "alg", "RS256", "kid", kid);
}

/* Claims as Entra puts them in a v2 access token ("access"), a v1 access
 * token ("access_v1") or an ID token ("id"), for alice@contoso.com. */
static inline json_t *t_claims(const char *kind)
{
	bool id = strcmp(kind, "id") == 0, v1 = strcmp(kind, "access_v1") == 0;
	json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s}",
			      "aud", v1 ? "api://" T_CLIENT : T_CLIENT, "iss", v1 ? T_ISSUER_V1 : T_ISSUER,
			      "iat", (json_int_t)(T_NOW - 300), "nbf", (json_int_t)(T_NOW - 300),
			      "exp", (json_int_t)(T_NOW + 3300), "name", "Alice Example", "oid", T_OID,
			      "tid", T_TENANT);

	if (v1)
		json_object_set_new(c, "upn", json_string("alice@contoso.com"));
	else
		json_object_set_new(c, "preferred_username", json_string("alice@contoso.com"));
	if (!id)
		json_object_set_new(c, "scp", json_string("access_as_user"));
	json_object_set_new(c, "ver", json_string(v1 ? "1.0" : "2.0"));
	return c;
}

#endif
