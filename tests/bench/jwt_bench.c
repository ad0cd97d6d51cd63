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
#include <jwt.h>
#include <time.h>

#include "conf.h"
#include "jwks.h"
#include "b64url.h"
#include "jwt.h"
#include "../unit/test_jwt_mint.h"	/* keys, JWKs and tokens minted with OpenSSL */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
			     (time_t)T_NOW, &c);

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
	double raw = 0, raw_t = 0, full = 0, lj = 0;
	struct el_config *cfg = NULL;
	struct el_keys *keys = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = t_rsa(2048);
	json_t *claims = t_claims("access"), *jwks;
	unsigned char sig[512];
	struct bench ctx;
	char *text, *dot;
	size_t siglen = 0;

	jwks = json_pack("{s:[o]}", "keys", t_jwk(pkey, "k1"));
	text = json_dumps(jwks, JSON_COMPACT);
	if (cfg_parse("bench.conf", T_CONF, strlen(T_CONF), &cfg, NULL, 0) < 0 ||
	    keys_from_jwks(text, strlen(text), &keys) < 0)
		abort();
	free(text);
	json_decref(jwks);
	/* Fill the claim set up to what Entra issues (about 1.5 KB encoded). */
	json_object_set_new(claims, "aio", json_string("AWQAm/8TAAAAqwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM"
						       "1234567890abcdefghijklmnopqrstuvwxyz"));
	json_object_set_new(claims, "azp", json_string(T_CLIENT));
	json_object_set_new(claims, "azpacr", json_string("0"));
	json_object_set_new(claims, "rh", json_string("1.AQ0AXGotbjt_jkqcQStdjw4aN2Mx8aIMTvl9OaCxwtPk9aayAAA."));
	json_object_set_new(claims, "roles", json_pack("[s]", "VirtualMachineAdministratorLogin"));
	json_object_set_new(claims, "sid", json_string("7f0b26a9-9d2d-4d5b-8a3b-2c8e0b0d1f7e"));
	json_object_set_new(claims, "sub", json_string("kq2YhL3Y0r9mX3bFQ0dCZ6tqXyS9bJ7n1nB3m2Vq8yE"));
	json_object_set_new(claims, "uti", json_string("AbCdEfGhIjKlMnOpQrStUv"));
	json_object_set_new(claims, "groups", json_pack("[s, s]", T_OTHER_TENANT, T_OID));
	ctx = (struct bench){ .cfg = cfg, .keys = keys, .pkey = pkey };
	ctx.token = t_sign(t_header("k1"), claims, "RS256", pkey);
	/* The raw loops verify the same bytes: header.payload and the decoded signature. */
	dot = strrchr(ctx.token, '.');
	ctx.si = ctx.token;
	ctx.silen = (size_t)(dot - ctx.token);
	if (b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof(sig), &siglen) < 0)
		abort();
	ctx.sig = sig;
	ctx.siglen = siglen;
	ctx.pem = t_pem(pkey, &ctx.pem_len);
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
	printf("token bytes: %zu, key: RSA-2048\n", strlen(ctx.token));
	printf("raw OpenSSL RS256 verify, fresh EVP_DigestVerifyInit: %.0f/s\n", raw);
	printf("raw OpenSSL RS256 verify, context copied:             %.0f/s\n", raw_t);
	printf("jwt_validate (full, cached key set):                  %.0f/s\n", full);
	printf("libjwt 1.10 jwt_decode (RS256, PEM key):              %.0f/s\n", lj);
	printf("ratio jwt_validate / raw fresh:  %.2f (goal >= 0.50)\n", full / raw);
	printf("ratio jwt_validate / raw copied: %.2f\n", full / raw_t);
	printf("ratio libjwt signature step alone / raw fresh: %.2f\n", lj / raw);
	free((char *)ctx.token);
	free((char *)ctx.pem);
	EVP_MD_CTX_free(ctx.tmpl);
	keys_free(keys);
	cfg_free(cfg);
	EVP_PKEY_free(pkey);
	return 0;
}
