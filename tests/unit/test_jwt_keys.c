/* test_jwt_keys.c - the key set behind jwt_validate: JWKS parsing
 * (keys_from_jwks) and the on-disk caches keys_open trusts or ignores.
 * No network: the authority is a closed local port, so anything that is not
 * served from the cache fails with EL_ERR_HTTP_CONNECT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "jwks.h"
#include "jwt.h"
#include "oidc.h"
#include "statefile.h"
#include "test_jwt_mint.h"

static EVP_PKEY *k1, *weak;
static json_t *jwk1, *jwkweak;
static char state_dir[] = "/tmp/el-test-keys-XXXXXX";

static int setup(void **state)
{
	(void)state;
	k1 = t_rsa(2048);
	weak = t_rsa(1024);
	jwk1 = t_jwk(k1, "k1");
	jwkweak = t_jwk(weak, "weak");
	return mkdtemp(state_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(jwk1), json_decref(jwkweak);
	EVP_PKEY_free(k1), EVP_PKEY_free(weak);
	return rmdir(state_dir);
}

/* keys_from_jwks on {"keys":[jwks...]} (steals the references). */
static int parse_keys(struct el_keys **ret, json_t *arr)
{
	json_t *doc = json_pack("{s:o}", "keys", arr);
	char *text = json_dumps(doc, JSON_COMPACT);
	int r = keys_from_jwks(text, strlen(text), ret);

	free(text);
	json_decref(doc);
	return r;
}

/* A copy of jwk with key set (or removed if value is NULL). A jwk that is
 * not one of the shared originals is consumed, so calls nest. */
static json_t *with(json_t *jwk, const char *key, json_t *value)
{
	json_t *c = json_deep_copy(jwk);

	if (jwk != jwk1 && jwk != jwkweak)
		json_decref(jwk);

	if (value)
		json_object_set_new(c, key, value);
	else
		json_object_del(c, key);
	return c;
}

static void test_keys_from_jwks_records_bits_and_weakness(void **state)
{
	struct el_keys *ks = NULL;
	const struct el_key *k;

	(void)state;
	assert_int_equal(parse_keys(&ks, json_pack("[O, O]", jwk1, jwkweak)), 0);
	assert_int_equal(keys_count(ks), 2);
	k = keys_find(ks, "k1");
	assert_non_null(k);
	assert_int_equal(k->bits, 2048);
	assert_false(k->weak);
	k = keys_find(ks, "weak");
	assert_non_null(k);
	assert_int_equal(k->bits, 1024);
	assert_true(k->weak);
	assert_null(keys_find(ks, "K1"));
	assert_null(keys_find(ks, NULL));
	assert_int_equal(keys_refresh(ks), EL_ERR_TOKEN_KID_UNKNOWN);	/* offline set */
	keys_free(ks);
}

static void test_keys_from_jwks_skips_keys_we_do_not_use(void **state)
{
	struct el_keys *ks = NULL;

	(void)state;
	assert_int_equal(parse_keys(&ks, json_pack("[o, o, o, o, o, O]",
						   with(with(jwk1, "use", json_string("enc")), "kid", json_string("enc")),
						   with(with(jwk1, "alg", json_string("RS384")), "kid", json_string("rs384")),
						   with(with(jwk1, "kty", json_string("EC")), "kid", json_string("ec")),
						   with(jwk1, "kid", NULL),
						   with(with(jwk1, "kid", json_string("ok")), "alg", json_string("RS256")),
						   jwk1)), 0);
	assert_int_equal(keys_count(ks), 2);
	assert_null(keys_find(ks, "enc"));
	assert_null(keys_find(ks, "rs384"));
	assert_null(keys_find(ks, "ec"));
	assert_non_null(keys_find(ks, "ok"));
	keys_free(ks);
}

static void test_keys_from_jwks_refuses_bad_sets(void **state)
{
	struct el_keys *ks = NULL;
	json_t *many = json_array();

	(void)state;
	assert_int_equal(keys_from_jwks("{", 1, &ks), EL_ERR_JSON);
	assert_int_equal(keys_from_jwks("{\"keys\":{}}", 11, &ks), EL_ERR_JWKS);
	assert_int_equal(keys_from_jwks("[]", 2, &ks), EL_ERR_JWKS);
	assert_int_equal(parse_keys(&ks, json_array()), EL_ERR_JWKS);				/* no key */
	assert_int_equal(parse_keys(&ks, json_pack("[o]", with(jwk1, "use", json_string("enc")))), EL_ERR_JWKS);
	assert_int_equal(parse_keys(&ks, json_pack("[O, O]", jwk1, jwk1)), EL_ERR_JWKS);	/* one kid, two keys */
	assert_int_equal(parse_keys(&ks, json_pack("[o]", with(jwk1, "n", json_string("AQAB==")))), EL_ERR_JWKS);
	assert_int_equal(parse_keys(&ks, json_pack("[o]", with(jwk1, "n", json_integer(3)))), EL_ERR_JWKS);
	assert_int_equal(parse_keys(&ks, json_pack("[o]", with(jwk1, "e", json_string("AQAA")))), EL_ERR_JWKS);	/* even e */
	assert_int_equal(parse_keys(&ks, json_pack("[o]", with(jwk1, "e", json_string("AQ")))), EL_ERR_JWKS);	/* e = 1 */
	assert_int_equal(parse_keys(&ks, json_pack("[o]", with(jwk1, "n", json_string("AQAB")))), EL_ERR_JWKS);	/* tiny n */
	assert_int_equal(parse_keys(&ks, json_pack("[s]", "not an object")), EL_ERR_JWKS);
	for (int i = 0; i < 33; i++) {
		char kid[16];

		snprintf(kid, sizeof(kid), "k%d", i);
		json_array_append_new(many, with(jwk1, "kid", json_string(kid)));
	}
	assert_int_equal(parse_keys(&ks, many), EL_ERR_JWKS);
	assert_null(ks);
}

/* ---- caches ---- */

#define CLOSED "https://127.0.0.1:9"	/* discard port: nothing listens there */

static struct el_config *cache_cfg(const char *authority)
{
	struct el_config *cfg = NULL;
	char text[1024];

	snprintf(text, sizeof(text), "tenant_id = %s\nclient_id = %s\ndomains = contoso.com\nauthority = %s\n"
		 "state_dir = %s\nhttp_timeout = 2\n", T_TENANT, T_CLIENT, authority, state_dir);
	assert_int_equal(cfg_parse("t.conf", text, strlen(text), &cfg, NULL, 0), 0);
	return cfg;
}

static void write_caches(const char *authority, const char *tenant, mode_t mode)
{
	struct el_config *cfg = cache_cfg(CLOSED);
	char uri[256], path[512], *text;
	json_t *d;

	snprintf(uri, sizeof(uri), "%s/%s/discovery/v2.0/keys", authority, tenant);
	d = json_pack("{s:s, s:s, s:s+++, s:s, s:s+++, s:s+++, s:I}", "authority", authority, "tenant_id", tenant,
		      "issuer", authority, "/", tenant, "/v2.0", "jwks_uri", uri,
		      "token_endpoint", authority, "/", tenant, "/oauth2/v2.0/token",
		      "device_authorization_endpoint", authority, "/", tenant, "/oauth2/v2.0/devicecode",
		      "fetched", (json_int_t)time(NULL));
	text = json_dumps(d, 0);
	assert_int_equal(state_write(cfg, STATE_DISCOVERY, text, strlen(text)), 0);
	free(text);
	json_decref(d);
	d = json_pack("{s:s, s:{s:[O]}}", "source", uri, "jwks", "keys", jwk1);
	text = json_dumps(d, 0);
	assert_int_equal(state_write(cfg, STATE_JWKS, text, strlen(text)), 0);
	free(text);
	json_decref(d);
	assert_int_equal(state_path(cfg, STATE_JWKS, path, sizeof(path)), 0);
	assert_int_equal(chmod(path, mode), 0);
	cfg_free(cfg);
}

static void test_keys_open_offline_from_cache(void **state)
{
	struct el_config *cfg = cache_cfg(CLOSED);
	struct el_keys *ks = NULL;
	struct jwt_claims *cl = NULL;
	char *tok;
	json_t *c = t_claims("access");

	(void)state;
	write_caches(CLOSED, T_TENANT, 0644);
	assert_int_equal(keys_open(cfg, &ks), 0);
	assert_true(keys_from_cache(ks));
	assert_int_equal(keys_fetch_count(ks), 0);
	assert_non_null(keys_find(ks, "k1"));
	/* The cached key validates a token whose issuer is the cached authority's. */
	json_object_set_new(c, "iss", json_string(CLOSED "/" T_TENANT "/v2.0"));
	tok = t_sign(t_header("k1"), c, "RS256", k1);
	assert_int_equal(jwt_validate(cfg, ks, tok, strlen(tok), JWT_ACCESS_TOKEN, NULL, (time_t)T_NOW, &cl), 0);
	jwt_claims_free(cl);
	free(tok);
	keys_free(ks);
	cfg_free(cfg);
}

static void test_keys_open_ignores_untrusted_cache(void **state)
{
	struct el_config *cfg = cache_cfg(CLOSED);
	struct el_keys *ks = NULL;

	(void)state;
	write_caches(CLOSED, T_TENANT, 0666);	/* world-writable key cache */
	assert_int_equal(keys_open(cfg, &ks), EL_ERR_HTTP_CONNECT);
	assert_null(ks);
	write_caches("https://127.0.0.1:10", T_TENANT, 0644);	/* made for another authority */
	assert_int_equal(keys_open(cfg, &ks), EL_ERR_HTTP_CONNECT);
	write_caches(CLOSED, T_OTHER_TENANT, 0644);		/* made for another tenant */
	assert_int_equal(keys_open(cfg, &ks), EL_ERR_HTTP_CONNECT);
	cfg_free(cfg);
}

static void test_keys_open_cache_symlink_refused(void **state)
{
	struct el_config *cfg = cache_cfg(CLOSED);
	struct el_keys *ks = NULL;
	char path[512], real[600];

	(void)state;
	write_caches(CLOSED, T_TENANT, 0644);
	assert_int_equal(state_path(cfg, STATE_JWKS, path, sizeof(path)), 0);
	snprintf(real, sizeof(real), "%s.real", path);
	assert_int_equal(rename(path, real), 0);
	assert_int_equal(symlink(real, path), 0);
	assert_int_equal(keys_open(cfg, &ks), EL_ERR_HTTP_CONNECT);
	unlink(path);
	unlink(real);
	cfg_free(cfg);
}

/* A cache stamped a moment "in the future" (file times are finer than time(2))
 * is young; one dated further ahead never is; age is strict below max. */
static void test_state_age_below(void **state)
{
	(void)state;
	assert_true(state_age_below(1000, 1000, 60));
	assert_true(state_age_below(1001, 1000, 60));
	assert_true(state_age_below(1000 + STATE_FUTURE_SLACK, 1000, 60));
	assert_false(state_age_below(1001 + STATE_FUTURE_SLACK, 1000, 60));
	assert_true(state_age_below(941, 1000, 60));
	assert_false(state_age_below(940, 1000, 60));
}

static void test_keys_open_unreachable_without_cache(void **state)
{
	struct el_config *cfg = cache_cfg(CLOSED);
	struct el_keys *ks = NULL;
	char path[512];

	(void)state;
	assert_int_equal(state_path(cfg, STATE_DISCOVERY, path, sizeof(path)), 0);
	unlink(path);
	assert_int_equal(state_path(cfg, STATE_JWKS, path, sizeof(path)), 0);
	unlink(path);
	assert_int_equal(keys_open(cfg, &ks), EL_ERR_HTTP_CONNECT);
	assert_null(ks);
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_from_jwks_records_bits_and_weakness),
		cmocka_unit_test(test_keys_from_jwks_skips_keys_we_do_not_use),
		cmocka_unit_test(test_keys_from_jwks_refuses_bad_sets),
		cmocka_unit_test(test_keys_open_offline_from_cache),
		cmocka_unit_test(test_keys_open_ignores_untrusted_cache),
		cmocka_unit_test(test_keys_open_cache_symlink_refused),
		cmocka_unit_test(test_keys_open_unreachable_without_cache),
		cmocka_unit_test(test_state_age_below),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
