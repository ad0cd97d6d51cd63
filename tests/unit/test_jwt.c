/* test_jwt.c - jwt_validate: every rejection reason, the accepted shapes,
 * and the claims handed back. Keys are generated here; no network (the key
 * set is built with keys_from_jwks, which never refreshes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "conf.h"
#include "el_limits.h"
#include "jwks.h"
#include "jwt.h"
#include "test_jwt_mint.h"

static struct el_config *cfg;
static struct el_keys *keys;
static EVP_PKEY *k1, *weak, *rogue;
static char *k1_pem;
static size_t k1_pem_len;

static int setup(void **state)
{
	json_t *jwks;
	char *text;

	(void)state;
	if (cfg_parse("test.conf", T_CONF, strlen(T_CONF), &cfg, NULL, 0) < 0)
		return -1;
	k1 = t_rsa(2048);
	weak = t_rsa(1024);
	rogue = t_rsa(2048);
	k1_pem = t_pem(k1, &k1_pem_len);
	jwks = json_pack("{s:[o, o]}", "keys", t_jwk(k1, "k1"), t_jwk(weak, "weak"));
	text = json_dumps(jwks, JSON_COMPACT);
	if (keys_from_jwks(text, strlen(text), &keys) < 0)
		return -1;
	free(text);
	json_decref(jwks);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	keys_free(keys);
	cfg_free(cfg);
	EVP_PKEY_free(k1), EVP_PKEY_free(weak), EVP_PKEY_free(rogue);
	free(k1_pem);
	return 0;
}

static int validate(const char *tok, enum jwt_kind kind, const char *user, struct jwt_claims **ret)
{
	return jwt_validate(cfg, keys, tok, strlen(tok), kind, user, (time_t)T_NOW, ret);
}

/* ---- table: one change to a valid token, one reason ---- */

struct change {
	const char *name;
	const char *kind;		/* t_claims kind; id_pasted = ID claims validated as an access
					 * token, access_as_id the other way round */
	const char *header_set;		/* JSON object merged into the header */
	const char *header_del;		/* member removed from the header */
	const char *claims_set;
	const char *claims_del;		/* comma list */
	const char *alg;		/* default RS256 */
	const char *key;		/* k1 (default), weak, rogue, pem (HS secret) */
	const char *user;		/* expected name */
	int expect;
};

static const struct change changes[] = {
	{ "alg lower-case", "access", "{\"alg\":\"rs256\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "alg none, no signature", "access", "{\"alg\":\"none\"}", NULL, NULL, NULL, "none", NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "alg None", "access", "{\"alg\":\"None\"}", NULL, NULL, NULL, "none", NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "alg none with RS256 signature", "access", "{\"alg\":\"none\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "HS256 keyed with the JWKS PEM", "access", "{\"alg\":\"HS256\"}", NULL, NULL, NULL, "HS256", "pem", NULL, EL_ERR_TOKEN_ALG },
	{ "HS512 keyed with the JWKS PEM", "access", "{\"alg\":\"HS512\"}", NULL, NULL, NULL, "HS512", "pem", NULL, EL_ERR_TOKEN_ALG },
	{ "RS384 validly signed", "access", "{\"alg\":\"RS384\"}", NULL, NULL, NULL, "RS384", NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "PS256 validly signed", "access", "{\"alg\":\"PS256\"}", NULL, NULL, NULL, "PS256", NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "alg missing", "access", NULL, "alg", NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "alg not a string", "access", "{\"alg\":256}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "alg with trailing space", "access", "{\"alg\":\"RS256 \"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ALG },
	{ "jku header", "access", "{\"jku\":\"https://evil.example/keys\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_HEADER_FORBIDDEN },
	{ "x5u header", "access", "{\"x5u\":\"https://evil.example/cert\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_HEADER_FORBIDDEN },
	{ "jwk header", "access", "{\"jwk\":{\"kty\":\"RSA\"}}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_HEADER_FORBIDDEN },
	{ "x5c header", "access", "{\"x5c\":[\"MIIB\"]}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_HEADER_FORBIDDEN },
	{ "crit header", "access", "{\"crit\":[\"exp\"]}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_HEADER_FORBIDDEN },
	{ "typ not JWT", "access", "{\"typ\":\"at+jwt\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_HEADER },
	{ "kid missing", "access", NULL, "kid", NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_KID_MISSING },
	{ "kid empty", "access", "{\"kid\":\"\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_KID_MISSING },
	{ "kid a number", "access", "{\"kid\":1}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_KID_MISSING },
	{ "kid unknown", "access", "{\"kid\":\"nope\"}", NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_KID_UNKNOWN },
	{ "key under 2048 bits", "access", "{\"kid\":\"weak\"}", NULL, NULL, NULL, NULL, "weak", NULL, EL_ERR_TOKEN_KEY_WEAK },
	{ "signed by another key", "access", NULL, NULL, NULL, NULL, NULL, "rogue", NULL, EL_ERR_TOKEN_SIGNATURE },
	{ "issuer of another tenant", "access", NULL, NULL, "{\"iss\":\"https://login.microsoftonline.com/" T_OTHER_TENANT "/v2.0\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ISSUER },
	{ "issuer common", "access", NULL, NULL, "{\"iss\":\"https://login.microsoftonline.com/common/v2.0\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ISSUER },
	{ "issuer trailing slash", "access", NULL, NULL, "{\"iss\":\"" T_ISSUER "/\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ISSUER },
	{ "issuer upper-case", "access", NULL, NULL, "{\"iss\":\"https://login.microsoftonline.com/" "6E2D6A5C-7F3B-4A8E-9C41-2B5D8F0E1A37" "/v2.0\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ISSUER },
	{ "issuer missing", "access", NULL, NULL, NULL, "iss", NULL, NULL, NULL, EL_ERR_TOKEN_ISSUER },
	{ "v1 issuer on an ID token", "id", NULL, NULL, "{\"iss\":\"" T_ISSUER_V1 "\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_ISSUER },
	{ "tid of another tenant", "access", NULL, NULL, "{\"tid\":\"" T_OTHER_TENANT "\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_TENANT },
	{ "tid missing", "access", NULL, NULL, NULL, "tid", NULL, NULL, NULL, EL_ERR_TOKEN_TENANT },
	{ "Microsoft Graph audience", "access", NULL, NULL, "{\"aud\":\"00000003-0000-0000-c000-000000000000\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_AUDIENCE },
	{ "two audiences", "access", NULL, NULL, "{\"aud\":[\"" T_CLIENT "\",\"https://other\"]}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_AUDIENCE },
	{ "audience missing", "access", NULL, NULL, NULL, "aud", NULL, NULL, NULL, EL_ERR_TOKEN_AUDIENCE },
	{ "api:// audience on an ID token", "id", NULL, NULL, "{\"aud\":\"api://" T_CLIENT "\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_AUDIENCE },
	{ "exp missing", "access", NULL, NULL, NULL, "exp", NULL, NULL, NULL, EL_ERR_TOKEN_EXP_MISSING },
	{ "exp a string", "access", NULL, NULL, "{\"exp\":\"1700003300\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_EXP_TYPE },
	{ "exp a float", "access", NULL, NULL, "{\"exp\":1700003300.0}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_EXP_TYPE },
	{ "exp null", "access", NULL, NULL, "{\"exp\":null}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_EXP_TYPE },
	{ "exp past the skew", "access", NULL, NULL, "{\"exp\":1699999880}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_EXPIRED },
	{ "exp most negative", "access", NULL, NULL, "{\"exp\":-9223372036854775808}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_EXPIRED },
	{ "nbf beyond the skew", "access", NULL, NULL, "{\"nbf\":1700000121}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_NOT_YET_VALID },
	{ "nbf a string", "access", NULL, NULL, "{\"nbf\":\"1699999700\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_NBF_TYPE },
	{ "iat missing", "access", NULL, NULL, NULL, "iat", NULL, NULL, NULL, EL_ERR_TOKEN_IAT_MISSING },
	{ "iat a float", "access", NULL, NULL, "{\"iat\":1699999700.5}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_IAT_TYPE },
	{ "iat a boolean", "access", NULL, NULL, "{\"iat\":true}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_IAT_TYPE },
	{ "iat beyond the skew", "access", NULL, NULL, "{\"iat\":1700000121,\"nbf\":1700000000}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_IAT_FUTURE },
	{ "iat older than token_max_age", "access", NULL, NULL, "{\"iat\":1699999399}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_TOO_OLD },
	{ "oid missing", "access", NULL, NULL, NULL, "oid", NULL, NULL, NULL, EL_ERR_TOKEN_OID },
	{ "oid not a GUID", "access", NULL, NULL, "{\"oid\":\"alice\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_OID },
	{ "oid a number", "access", NULL, NULL, "{\"oid\":12}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_OID },
	{ "idtyp app", "access", NULL, NULL, "{\"idtyp\":\"app\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_APP_ONLY },
	{ "no scp and no user name", "access", NULL, NULL, "{\"roles\":[\"VirtualMachineAdministratorLogin\"]}", "scp,preferred_username", NULL, NULL, NULL, EL_ERR_TOKEN_APP_ONLY },
	{ "ID token pasted as an access token", "id_pasted", NULL, NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_KIND },
	{ "access token as a sign-in", "access_as_id", NULL, NULL, NULL, NULL, NULL, NULL, NULL, EL_ERR_TOKEN_KIND },
	{ "scp not a string", "access", NULL, NULL, "{\"scp\":[\"access_as_user\"]}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_CLAIM_TYPE },
	{ "ID token without a name", "id", NULL, NULL, NULL, "preferred_username", NULL, NULL, NULL, EL_ERR_TOKEN_NO_NAME },
	{ "user name not ASCII", "access", NULL, NULL, "{\"preferred_username\":\"al\\u00efce@contoso.com\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_NAME },
	{ "user name without domain", "access", NULL, NULL, "{\"preferred_username\":\"alice\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_NAME },
	{ "user name a number", "access", NULL, NULL, "{\"preferred_username\":7}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_CLAIM_TYPE },
	{ "token for another user", "access", NULL, NULL, NULL, NULL, NULL, NULL, "bob@contoso.com", EL_ERR_TOKEN_USER_MISMATCH },
	{ "roles not an array", "access", NULL, NULL, "{\"roles\":\"VirtualMachineAdministratorLogin\"}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_CLAIM_TYPE },
	{ "roles with a number", "access", NULL, NULL, "{\"roles\":[\"a\",1]}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_CLAIM_TYPE },
	{ "groups an object", "access", NULL, NULL, "{\"groups\":{}}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_CLAIM_TYPE },
	{ "display name a number", "access", NULL, NULL, "{\"name\":1}", NULL, NULL, NULL, NULL, EL_ERR_TOKEN_CLAIM_TYPE },
};

static char *mint_change(const struct change *c)
{
	json_t *h = t_header("k1"), *patch, *cl;
	const char *alg = c->alg ? c->alg : "RS256";
	EVP_PKEY *key = k1;
	char *hs, *cs, *tok;

	cl = t_claims(strcmp(c->kind, "id_pasted") == 0 ? "id" : strcmp(c->kind, "access_as_id") == 0 ? "access" : c->kind);
	if (c->header_set) {
		patch = json_loads(c->header_set, 0, NULL);
		json_object_update(h, patch);
		json_decref(patch);
	}
	if (c->header_del)
		json_object_del(h, c->header_del);
	if (c->claims_set) {
		patch = json_loads(c->claims_set, 0, NULL);
		assert_non_null(patch);
		json_object_update(cl, patch);
		json_decref(patch);
	}
	if (c->claims_del) {
		char list[128], *save = NULL;

		snprintf(list, sizeof(list), "%s", c->claims_del);
		for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
			json_object_del(cl, m);
	}
	if (c->key && strcmp(c->key, "weak") == 0)
		key = weak;
	else if (c->key && strcmp(c->key, "rogue") == 0)
		key = rogue;
	hs = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cs = json_dumps(cl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (c->key && strcmp(c->key, "pem") == 0)
		tok = t_sign_raw(hs, cs, alg, NULL, k1_pem, k1_pem_len);
	else
		tok = t_sign_raw(hs, cs, alg, key, NULL, 0);
	free(hs), free(cs);
	json_decref(h), json_decref(cl);
	return tok;
}

static void test_jwt_validate_each_change_has_its_reason(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		const struct change *c = &changes[i];
		enum jwt_kind kind = strcmp(c->kind, "id") == 0 || strcmp(c->kind, "access_as_id") == 0 ? JWT_ID_TOKEN
													   : JWT_ACCESS_TOKEN;
		struct jwt_claims *claims = NULL;
		char *tok = mint_change(c);
		int r = validate(tok, kind, c->user, &claims);

		if (r != c->expect) {
			print_error("%s: got %s, want %s\n", c->name, el_errname(r), el_errname(c->expect));
			failures++;
		}
		assert_null(claims);
		free(tok);
	}
	assert_int_equal(failures, 0);
}

/* ---- malformed tokens, built byte by byte ---- */

static void expect_raw(const char *tok, size_t len, int want)
{
	struct jwt_claims *claims = NULL;
	int r = jwt_validate(cfg, keys, tok, len, JWT_ACCESS_TOKEN, NULL, (time_t)T_NOW, &claims);

	if (r != want)
		fail_msg("'%.40s...' (%zu bytes): got %s, want %s", tok, len, el_errname(r), el_errname(want));
	assert_null(claims);
}

static char *valid_access(void)
{
	return mint_change(&(struct change){ .kind = "access" });
}

static void test_jwt_validate_size_cap_first(void **state)
{
	size_t n = EL_TOKEN_MAX + 1;
	char *big = malloc(n);

	(void)state;
	memset(big, 'A', n);	/* not even a JWT: the size is checked first */
	expect_raw(big, n, EL_ERR_TOKEN_TOO_LONG);
	free(big);
}

static void test_jwt_validate_segment_count(void **state)
{
	char *tok = valid_access(), buf[EL_TOKEN_MAX];

	(void)state;
	expect_raw("", 0, EL_ERR_TOKEN_FORMAT);
	expect_raw("abc", 3, EL_ERR_TOKEN_FORMAT);
	expect_raw("a.b", 3, EL_ERR_TOKEN_FORMAT);
	snprintf(buf, sizeof(buf), "%s.", tok);
	expect_raw(buf, strlen(buf), EL_ERR_TOKEN_FORMAT);
	snprintf(buf, sizeof(buf), "%s.%s", tok, "x");
	expect_raw(buf, strlen(buf), EL_ERR_TOKEN_FORMAT);
	free(tok);
}

static void test_jwt_validate_strict_base64url(void **state)
{
	char *tok = valid_access(), buf[EL_TOKEN_MAX];
	size_t n = strlen(tok);

	(void)state;
	snprintf(buf, sizeof(buf), "%s\n", tok);
	expect_raw(buf, n + 1, EL_ERR_TOKEN_BASE64);		/* trailing newline */
	snprintf(buf, sizeof(buf), "%s==", tok);
	expect_raw(buf, n + 2, EL_ERR_TOKEN_BASE64);		/* padding */
	snprintf(buf, sizeof(buf), " %s", tok);
	expect_raw(buf, n + 1, EL_ERR_TOKEN_BASE64);
	memcpy(buf, tok, n);
	buf[5] = '+';
	expect_raw(buf, n, EL_ERR_TOKEN_BASE64);
	memcpy(buf, tok, n);
	buf[n - 3] = '\0';					/* embedded NUL */
	expect_raw(buf, n, EL_ERR_TOKEN_BASE64);
	free(tok);
}

static void test_jwt_validate_header_json(void **state)
{
	char *t;

	(void)state;
	t = t_sign_raw("not json", "{}", "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_HEADER);
	free(t);
	t = t_sign_raw("[\"RS256\"]", "{}", "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_HEADER);
	free(t);
	t = t_sign_raw("", "{}", "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_HEADER);
	free(t);
	t = t_sign_raw("{\"alg\":\"RS256\",\"kid\":\"k1\",\"alg\":\"none\"}", "{}", "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_DUPLICATE);
	free(t);
}

static void test_jwt_validate_claims_json(void **state)
{
	static const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"k1\"}";
	char deep[128] = "{\"a\":", *t, *cs;
	json_t *c = t_claims("access");

	(void)state;
	t = t_sign_raw(hdr, "[]", "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_CLAIMS);
	free(t);
	t = t_sign_raw(hdr, "{\"exp\":1", "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_CLAIMS);
	free(t);
	for (int i = 0; i < 20; i++)
		strcat(deep, "[");
	for (int i = 0; i < 20; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	t = t_sign_raw(hdr, deep, "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_CLAIMS);
	free(t);
	/* A second "preferred_username" appended to a valid claim set. */
	cs = json_dumps(c, JSON_COMPACT | JSON_PRESERVE_ORDER);
	cs = realloc(cs, strlen(cs) + 64);
	strcpy(cs + strlen(cs) - 1, ",\"preferred_username\":\"bob@contoso.com\"}");
	t = t_sign_raw(hdr, cs, "RS256", k1, NULL, 0);
	expect_raw(t, strlen(t), EL_ERR_TOKEN_DUPLICATE);
	free(t), free(cs);
	json_decref(c);
}

static void test_jwt_validate_tampered_payload(void **state)
{
	char *good = valid_access(), *other, *dot1, *dot2, buf[EL_TOKEN_MAX];
	json_t *c = t_claims("access");

	(void)state;
	/* The payload of a token for bob, the signature of alice's. */
	json_object_set_new(c, "preferred_username", json_string("bob@contoso.com"));
	other = t_sign(t_header("k1"), c, "RS256", k1);	/* takes c */
	dot1 = strchr(other, '.');
	dot2 = strrchr(good, '.');
	snprintf(buf, sizeof(buf), "%.*s%s", (int)(strchr(dot1 + 1, '.') - other), other, dot2);
	expect_raw(buf, strlen(buf), EL_ERR_TOKEN_SIGNATURE);
	/* A signature two characters short (still canonical base64url). */
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(good) - 2, good);
	expect_raw(buf, strlen(buf), EL_ERR_TOKEN_SIGNATURE);
	free(good), free(other);
}

/* ---- accepted tokens ---- */

static struct jwt_claims *expect_valid(json_t *h, json_t *c, enum jwt_kind kind, const char *user)
{
	struct jwt_claims *claims = NULL;
	char *tok = t_sign(h, c, "RS256", k1);
	int r = validate(tok, kind, user, &claims);

	if (r != 0)
		fail_msg("refused: %s", el_errname(r));
	free(tok);
	return claims;
}

static void test_jwt_validate_access_v2(void **state)
{
	json_t *c = t_claims("access");
	struct jwt_claims *cl;

	(void)state;
	json_object_set_new(c, "roles", json_pack("[s, s]", "VirtualMachineAdministratorLogin", "Other"));
	json_object_set_new(c, "groups", json_pack("[s]", T_OTHER_TENANT));
	cl = expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, "alice@contoso.com");
	assert_int_equal(cl->kind, JWT_ACCESS_TOKEN);
	assert_false(cl->v1);
	assert_string_equal(cl->name, "alice@contoso.com");
	assert_string_equal(cl->oid, T_OID);
	assert_string_equal(cl->tid, T_TENANT);
	assert_string_equal(cl->display_name, "Alice Example");
	assert_int_equal(cl->iat, T_NOW - 300);
	assert_int_equal(cl->exp, T_NOW + 3300);
	assert_int_equal(cl->roles.n, 2);
	assert_string_equal(cl->roles.items[0], "VirtualMachineAdministratorLogin");
	assert_int_equal(cl->groups.n, 1);
	assert_false(cl->groups_overage);
	jwt_claims_free(cl);
}

static void test_jwt_validate_access_v1(void **state)
{
	struct jwt_claims *cl;

	(void)state;
	cl = expect_valid(t_header("k1"), t_claims("access_v1"), JWT_ACCESS_TOKEN, NULL);
	assert_true(cl->v1);
	assert_string_equal(cl->name, "alice@contoso.com");
	jwt_claims_free(cl);
}

static void test_jwt_validate_id_token(void **state)
{
	json_t *c = t_claims("id");
	struct jwt_claims *cl;

	(void)state;
	json_object_set_new(c, "iat", json_integer(T_NOW - 3000));	/* token_max_age is for pasted tokens */
	cl = expect_valid(t_header("k1"), c, JWT_ID_TOKEN, "alice@contoso.com");
	assert_int_equal(cl->kind, JWT_ID_TOKEN);
	assert_int_equal(cl->roles.n, 0);
	jwt_claims_free(cl);
}

static void test_jwt_validate_name_lowercased_and_preference(void **state)
{
	json_t *c = t_claims("access");
	struct jwt_claims *cl;

	(void)state;
	/* Access tokens: upn first; ID tokens: preferred_username first. */
	json_object_set_new(c, "upn", json_string("Alice@Contoso.COM"));
	json_object_set_new(c, "preferred_username", json_string("other@contoso.com"));
	cl = expect_valid(t_header("k1"), json_deep_copy(c), JWT_ACCESS_TOKEN, "alice@contoso.com");
	jwt_claims_free(cl);
	json_object_del(c, "scp");
	cl = expect_valid(t_header("k1"), c, JWT_ID_TOKEN, "other@contoso.com");
	jwt_claims_free(cl);
}

static void test_jwt_validate_audiences(void **state)
{
	const char *ok[] = { T_CLIENT, "api://" T_CLIENT, "https://vm.contoso.com" };
	json_t *c;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		c = t_claims("access");
		json_object_set_new(c, "aud", json_string(ok[i]));
		jwt_claims_free(expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL));
	}
	c = t_claims("access");
	json_object_set_new(c, "aud", json_pack("[s]", T_CLIENT));	/* one value in an array */
	jwt_claims_free(expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL));
}

static void test_jwt_validate_time_edges(void **state)
{
	json_t *c;

	(void)state;
	c = t_claims("access");	/* exp just inside the skew, nbf absent */
	json_object_set_new(c, "exp", json_integer(T_NOW - 119));
	json_object_del(c, "nbf");
	jwt_claims_free(expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL));
	c = t_claims("access");	/* iat and nbf at the edge of the skew */
	json_object_set_new(c, "iat", json_integer(T_NOW + 120));
	json_object_set_new(c, "nbf", json_integer(T_NOW + 120));
	jwt_claims_free(expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL));
	c = t_claims("access");	/* exactly token_max_age old */
	json_object_set_new(c, "iat", json_integer(T_NOW - 600));
	jwt_claims_free(expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL));
	c = t_claims("access");
	json_object_set_new(c, "exp", json_integer(9223372036854775807LL));	/* no overflow */
	jwt_claims_free(expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL));
}

static void test_jwt_validate_groups_overage(void **state)
{
	json_t *c = t_claims("access");
	struct jwt_claims *cl;

	(void)state;
	json_object_set_new(c, "groups", json_pack("[s]", T_OTHER_TENANT));
	json_object_set_new(c, "_claim_names", json_pack("{s:s}", "groups", "src1"));
	cl = expect_valid(t_header("k1"), c, JWT_ACCESS_TOKEN, NULL);
	assert_true(cl->groups_overage);
	assert_int_equal(cl->groups.n, 0);	/* overage means none, never all */
	jwt_claims_free(cl);
}

static void test_jwt_validate_not_nul_terminated(void **state)
{
	char *tok = valid_access();
	size_t n = strlen(tok);
	char *buf = malloc(n + 8);
	struct jwt_claims *cl = NULL;

	(void)state;
	memcpy(buf, tok, n);
	memcpy(buf + n, "garbage!", 8);
	assert_int_equal(jwt_validate(cfg, keys, buf, n, JWT_ACCESS_TOKEN, NULL, (time_t)T_NOW, &cl), 0);
	jwt_claims_free(cl);
	free(buf), free(tok);
}

static void test_jwt_validate_bad_arguments(void **state)
{
	struct jwt_claims *cl = NULL;

	(void)state;
	assert_int_equal(jwt_validate(cfg, keys, NULL, 0, JWT_ACCESS_TOKEN, NULL, 0, &cl), EL_ERR_INVAL);
	assert_int_equal(jwt_validate(cfg, keys, "a.b.c", 5, (enum jwt_kind)7, NULL, 0, &cl), EL_ERR_INVAL);
	jwt_claims_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt_validate_each_change_has_its_reason),
		cmocka_unit_test(test_jwt_validate_size_cap_first),
		cmocka_unit_test(test_jwt_validate_segment_count),
		cmocka_unit_test(test_jwt_validate_strict_base64url),
		cmocka_unit_test(test_jwt_validate_header_json),
		cmocka_unit_test(test_jwt_validate_claims_json),
		cmocka_unit_test(test_jwt_validate_tampered_payload),
		cmocka_unit_test(test_jwt_validate_access_v2),
		cmocka_unit_test(test_jwt_validate_access_v1),
		cmocka_unit_test(test_jwt_validate_id_token),
		cmocka_unit_test(test_jwt_validate_name_lowercased_and_preference),
		cmocka_unit_test(test_jwt_validate_audiences),
		cmocka_unit_test(test_jwt_validate_time_edges),
		cmocka_unit_test(test_jwt_validate_groups_overage),
		cmocka_unit_test(test_jwt_validate_not_nul_terminated),
		cmocka_unit_test(test_jwt_validate_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
