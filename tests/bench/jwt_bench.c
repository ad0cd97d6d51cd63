/* jwt_bench.c - full jwt_validate() rate against the raw OpenSSL RS256
 * verify rate, same key, same token, same process.
 *
 *   build/tests/bench/jwt_bench [seconds-per-figure]
 *
 * Prints four rates, best of 5 interleaved rounds each: the raw OpenSSL
 * RS256 verify with a fresh EVP_DigestVerifyInit per token (what a plain
 * verifier does), the same with the context copied from a prepared one (the
 * cheapest raw verify, and what jwt.c does), jwt_validate() in full, and
 * libjwt 1.10's jwt_decode() with the key's PEM (the alternative for the
 * signature step). The goal: jwt_validate >= half the raw rate. No network:
 * the key set comes from a JWKS built here (keys_from_jwks).
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "jwks.h"
#include "jwt.h"

#define TENANT "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
#define CLIENT "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
#define NOW 1700000000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *b64u(const unsigned char *in, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n * 4 / 3 + 4), *o = out;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		*o++ = a[v >> 18 & 63], *o++ = a[v >> 12 & 63], *o++ = a[v >> 6 & 63], *o++ = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		*o++ = a[v >> 18 & 63], *o++ = a[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		*o++ = a[v >> 18 & 63], *o++ = a[v >> 12 & 63], *o++ = a[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static char *bn_b64u(EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
		abort();
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64u(buf, (size_t)n);
}

#define ROUNDS 5

struct bench {
	const struct el_config *cfg;
	struct el_keys *keys;
	EVP_PKEY *pkey;
	EVP_MD_CTX *tmpl;
	const char *token, *si;
	size_t silen;
	const unsigned char *sig;
	size_t siglen;
	const char *pem;
	size_t pem_len;
};

/* What any RS256 verifier must do at least: a fresh context per token. */
static void raw_fresh(const struct bench *b)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, b->pkey) != 1 ||
	    EVP_DigestVerify(md, b->sig, b->siglen, (const unsigned char *)b->si, b->silen) != 1)
		abort();
	EVP_MD_CTX_free(md);
}

/* The cheapest raw verify: the context copied from one set up once. */
static void raw_template(const struct bench *b)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (EVP_MD_CTX_copy_ex(md, b->tmpl) != 1 ||
	    EVP_DigestVerify(md, b->sig, b->siglen, (const unsigned char *)b->si, b->silen) != 1)
		abort();
	EVP_MD_CTX_free(md);
}

static void full_validate(const struct bench *b)
{
	struct jwt_claims *c = NULL;
	int r = jwt_validate(b->cfg, b->keys, b->token, strlen(b->token), JWT_ACCESS_TOKEN, "alice@contoso.com",
			     NOW, &c);

	if (r < 0) {
		fprintf(stderr, "jwt_validate: %s\n", el_errname(r));
		exit(1);
	}
	jwt_claims_free(c);
}

/* The signature step done by libjwt 1.10 (what jwt.c would call). */
static void libjwt_decode(const struct bench *b)
{
	jwt_t *j = NULL;

	if (jwt_decode(&j, b->token, (const unsigned char *)b->pem, (int)b->pem_len) != 0 ||
	    jwt_get_alg(j) != JWT_ALG_RS256)
		abort();
	jwt_free(j);
}

static double rate(void (*fn)(const struct bench *), const struct bench *b, double secs)
{
	double t0 = now_s();
	long count;

	for (count = 0; now_s() - t0 < secs; count++)
		fn(b);
	return (double)count / (now_s() - t0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	char claims[2048], header[160], jwks[2048], conf[512], *si, *token;
	unsigned char sig[512];
	size_t siglen = sizeof(sig), silen;
	struct el_config *cfg = NULL;
	struct el_keys *keys = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md;
	char *h64, *c64, *s64, *n64, *e64;
	struct bench ctx;
	double raw = 0, raw_t = 0, full = 0, lj = 0;
	BIO *bio;
	EVP_PKEY_CTX *pctx = NULL;

	pkey = EVP_RSA_gen(2048);
	if (!pkey)
		abort();
	n64 = bn_b64u(pkey, OSSL_PKEY_PARAM_RSA_N);
	e64 = bn_b64u(pkey, OSSL_PKEY_PARAM_RSA_E);
	snprintf(jwks, sizeof(jwks), "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"bench\",\"n\":\"%s\",\"e\":\"%s\"}]}",
		 n64, e64);
	snprintf(conf, sizeof(conf), "tenant_id = %s\nclient_id = %s\ndomains = contoso.com\n", TENANT, CLIENT);
	if (cfg_parse("bench.conf", conf, strlen(conf), &cfg, NULL, 0) < 0 || keys_from_jwks(jwks, strlen(jwks), &keys) < 0)
		abort();
	/* A claim set shaped like Entra's (about 1.3 KB encoded). */
	snprintf(header, sizeof(header), "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"bench\"}");
	snprintf(claims, sizeof(claims),
		 "{\"aud\":\"%s\",\"iss\":\"https://login.microsoftonline.com/%s/v2.0\",\"iat\":%d,\"nbf\":%d,"
		 "\"exp\":%d,\"aio\":\"AWQAm/8TAAAAqwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM1234567890abcdef"
		 "ghijklmnopqrstuvwxyz\",\"azp\":\"%s\",\"azpacr\":\"0\",\"name\":\"Alice Example\","
		 "\"oid\":\"e4294c93-285a-5298-b104-f5102fffda06\",\"preferred_username\":\"alice@contoso.com\","
		 "\"rh\":\"1.AQ0AXGotbjt_jkqcQStdjw4aN2Mx8aIMTvl9OaCxwtPk9aayAAA.\",\"roles\":[\"VirtualMachineAdministratorLogin\"],"
		 "\"scp\":\"access_as_user\",\"sid\":\"7f0b26a9-9d2d-4d5b-8a3b-2c8e0b0d1f7e\","
		 "\"sub\":\"kq2YhL3Y0r9mX3bFQ0dCZ6tqXyS9bJ7n1nB3m2Vq8yE\",\"tid\":\"%s\",\"uti\":\"AbCdEfGhIjKlMnOpQrStUv\","
		 "\"ver\":\"2.0\",\"groups\":[\"0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9\",\"1b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9\"]}",
		 CLIENT, TENANT, NOW - 300, NOW - 300, NOW + 3300, CLIENT, TENANT);
	h64 = b64u((unsigned char *)header, strlen(header));
	c64 = b64u((unsigned char *)claims, strlen(claims));
	silen = strlen(h64) + 1 + strlen(c64);
	si = malloc(silen + 1);
	snprintf(si, silen + 1, "%s.%s", h64, c64);
	md = EVP_MD_CTX_new();
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)si, silen) != 1)
		abort();
	EVP_MD_CTX_free(md);
	s64 = b64u(sig, siglen);
	token = malloc(silen + 2 + strlen(s64));
	sprintf(token, "%s.%s", si, s64);
	ctx = (struct bench){ .cfg = cfg, .keys = keys, .pkey = pkey, .token = token, .si = si, .silen = silen,
			      .sig = sig, .siglen = siglen };
	bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, pkey))
		abort();
	ctx.pem_len = (size_t)BIO_get_mem_data(bio, (char **)&ctx.pem);
	ctx.tmpl = EVP_MD_CTX_new();
	if (EVP_DigestVerifyInit(ctx.tmpl, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		abort();

	/* Rounds interleaved, best of each kept: other processes on the host
	 * then bias neither figure. */
	for (int round = 0; round < ROUNDS; round++) {
		double r1 = rate(raw_fresh, &ctx, secs / ROUNDS), r2 = rate(raw_template, &ctx, secs / ROUNDS),
		       r3 = rate(full_validate, &ctx, secs / ROUNDS), r4 = rate(libjwt_decode, &ctx, secs / ROUNDS);

		raw = r1 > raw ? r1 : raw;
		raw_t = r2 > raw_t ? r2 : raw_t;
		full = r3 > full ? r3 : full;
		lj = r4 > lj ? r4 : lj;
	}
	printf("token bytes: %zu, key: RSA-2048\n", strlen(token));
	printf("raw OpenSSL RS256 verify, fresh EVP_DigestVerifyInit: %.0f/s\n", raw);
	printf("raw OpenSSL RS256 verify, context copied:             %.0f/s\n", raw_t);
	printf("jwt_validate (full, cached key set):                  %.0f/s\n", full);
	printf("libjwt 1.10 jwt_decode (RS256, PEM key):              %.0f/s\n", lj);
	printf("ratio jwt_validate / raw fresh:  %.2f (goal >= 0.50)\n", full / raw);
	printf("ratio jwt_validate / raw copied: %.2f\n", full / raw_t);
	printf("ratio libjwt signature step alone / raw fresh: %.2f\n", lj / raw);
	free(token), free(s64), free(si), free(h64), free(c64), free(n64), free(e64);
	EVP_MD_CTX_free(ctx.tmpl);
	BIO_free(bio);
	keys_free(keys);
	cfg_free(cfg);
	EVP_PKEY_free(pkey);
	return 0;
}
