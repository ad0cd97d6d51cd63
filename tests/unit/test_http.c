/* test_http.c - the HTTP client's policy and the discovery checks, offline;
 * and, with arguments, a driver that tests/integration/test_http*.py points
 * at the fake Entra ID:
 *
 *   test_http get CONF URL [HEADER...]     one http_get
 *   test_http post CONF URL NAME=VALUE...  one http_post_form
 *   test_http discover CONF                oidc_discover
 *   test_http keys CONF                    keys_open
 *
 * The driver prints "status=N len=N ms=N" and the body, or "error=EL_ERR_X
 * ms=N"; it exits 0 either way (2 on usage errors). DEADLINE=seconds in
 * the environment sets an absolute deadline for get/post.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "el_limits.h"
#include "http.h"
#include "jwks.h"
#include "oidc.h"

#define TENANT "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
#define AUTH "https://login.microsoftonline.com"

static struct el_config *cfg;

static int setup(void **state)
{
	static const char text[] = "tenant_id = " TENANT "\nclient_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\n"
				   "domains = contoso.com\nhttp_timeout = 2\nstate_dir = /nonexistent/el\n";

	(void)state;
	return cfg_parse("t.conf", text, strlen(text), &cfg, NULL, 0) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	cfg_free(cfg);
	return 0;
}

static void test_http_form_add_percent_encodes(void **state)
{
	struct http_form f = { 0 };

	(void)state;
	assert_int_equal(http_form_add(&f, "grant_type", "urn:ietf:params:oauth:grant-type:device_code"), 0);
	assert_int_equal(http_form_add(&f, "scope", "openid profile"), 0);
	assert_int_equal(http_form_add(&f, "x y", "a&b=c/d+e\xc3\xa9~._-"), 0);
	assert_int_equal(http_form_add(&f, "empty", ""), 0);
	assert_string_equal(f.buf, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
				   "&scope=openid%20profile&x%20y=a%26b%3Dc%2Fd%2Be%C3%A9~._-&empty=");
	assert_int_equal(f.len, strlen(f.buf));
	http_form_free(&f);
	assert_null(f.buf);
	assert_int_equal(f.len, 0);
	http_form_free(&f);
	http_form_free(NULL);
}

static void test_http_form_add_refuses_bad_input(void **state)
{
	struct http_form f = { 0 };
	char *big = malloc(EL_HTTP_BODY_MAX / 2);

	(void)state;
	assert_int_equal(http_form_add(&f, NULL, "v"), EL_ERR_INVAL);
	assert_int_equal(http_form_add(&f, "", "v"), EL_ERR_INVAL);
	assert_int_equal(http_form_add(&f, "n", NULL), EL_ERR_INVAL);
	memset(big, '&', EL_HTTP_BODY_MAX / 2 - 1);	/* triples when encoded */
	big[EL_HTTP_BODY_MAX / 2 - 1] = '\0';
	assert_int_equal(http_form_add(&f, "n", big), EL_ERR_RANGE);
	free(big);
	http_form_free(&f);
}

static void test_http_allowed_protocols(void **state)
{
	(void)state;
	assert_string_equal(http_allowed_protocols(cfg, "https://login.microsoftonline.com/x"), "https");
	assert_string_equal(http_allowed_protocols(cfg, "http://169.254.169.254/metadata/identity"), "http");
	assert_string_equal(http_allowed_protocols(cfg, "http://169.254.169.254"), "http");
	assert_string_equal(http_allowed_protocols(cfg, "http://169.254.169.254?x"), "http");
	assert_null(http_allowed_protocols(cfg, "http://169.254.169.254.evil.example/"));
	assert_null(http_allowed_protocols(cfg, "http://169.254.169.2540/"));
	assert_null(http_allowed_protocols(cfg, "http://login.microsoftonline.com/"));
	assert_null(http_allowed_protocols(cfg, "HTTPS://login.microsoftonline.com/"));
	assert_null(http_allowed_protocols(cfg, "ftp://login.microsoftonline.com/"));
	assert_null(http_allowed_protocols(cfg, "file:///etc/shadow"));
	assert_null(http_allowed_protocols(cfg, "//login.microsoftonline.com/"));
	assert_null(http_allowed_protocols(cfg, NULL));
}

static void test_http_get_refuses_scheme_before_connecting(void **state)
{
	struct http_response *resp = NULL;

	(void)state;
	assert_int_equal(http_get(cfg, "http://127.0.0.1:9/", NULL, 0, &resp), EL_ERR_HTTP_SCHEME);
	assert_int_equal(http_get(cfg, "file:///etc/passwd", NULL, 0, &resp), EL_ERR_HTTP_SCHEME);
	assert_int_equal(http_post_form(cfg, "gopher://127.0.0.1:9/", NULL, NULL, 0, &resp), EL_ERR_HTTP_SCHEME);
	assert_null(resp);
}

static void test_http_get_refuses_bad_arguments(void **state)
{
	static const char *const injected[] = { "X-A: 1\r\nX-B: 2", NULL };
	struct http_response *resp = NULL;
	char *url = malloc(EL_URL_MAX + 32);

	(void)state;
	snprintf(url, EL_URL_MAX + 32, "https://127.0.0.1:9/%0*d", EL_URL_MAX, 0);
	assert_int_equal(http_get(cfg, url, NULL, 0, &resp), EL_ERR_INVAL);
	assert_int_equal(http_get(cfg, "https://127.0.0.1:9/", injected, 0, &resp), EL_ERR_INVAL);
	assert_int_equal(http_get(NULL, "https://127.0.0.1:9/", NULL, 0, &resp), EL_ERR_INVAL);
	assert_null(resp);
	free(url);
}

static void test_http_get_connection_refused(void **state)
{
	struct http_response *resp = NULL;

	(void)state;
	assert_int_equal(http_get(cfg, "https://127.0.0.1:9/", NULL, 0, &resp), EL_ERR_HTTP_CONNECT);
	assert_true(http_err_unavailable(EL_ERR_HTTP_CONNECT));
	assert_false(http_err_unavailable(EL_ERR_TOKEN_SIGNATURE));
	assert_null(resp);
}

static void test_http_deadline_in_the_past(void **state)
{
	struct http_response *resp = NULL;
	uint64_t t0 = http_now_ms();

	(void)state;
	assert_int_equal(http_get(cfg, "https://127.0.0.1:9/", NULL, 1, &resp), EL_ERR_HTTP_TIMEOUT);
	assert_true(http_deadline_in(2) >= t0 + 2000);
	assert_null(resp);
}

static void test_oidc_same_origin(void **state)
{
	(void)state;
	assert_true(oidc_same_origin(AUTH, AUTH "/t/discovery/v2.0/keys"));
	assert_true(oidc_same_origin(AUTH, "https://LOGIN.microsoftonline.com/t"));
	assert_true(oidc_same_origin(AUTH, "https://login.microsoftonline.com:443/t"));
	assert_true(oidc_same_origin(AUTH, AUTH));
	assert_true(oidc_same_origin("https://127.0.0.1:8443", "https://127.0.0.1:8443/t/keys"));
	assert_true(oidc_same_origin("https://[::1]:8443", "https://[::1]:8443/k"));
	assert_false(oidc_same_origin("https://127.0.0.1:8443", "https://127.0.0.1:8444/t/keys"));
	assert_false(oidc_same_origin("https://127.0.0.1:8443", "https://127.0.0.1/t/keys"));
	assert_false(oidc_same_origin(AUTH, "http://login.microsoftonline.com/t"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com.evil.example/t"));
	assert_false(oidc_same_origin(AUTH, "https://evil.example/login.microsoftonline.com"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com@evil.example/t"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com\\@evil.example/t"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com:0/t"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com:/t"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com:99999/t"));
	assert_false(oidc_same_origin(AUTH, "https://login.microsoftonline.com/t x"));
	assert_false(oidc_same_origin(AUTH, "https:///t"));
	assert_false(oidc_same_origin(AUTH, NULL));
}

#define DOC(issuer, jwks, token, device) \
	"{\"issuer\":\"" issuer "\",\"jwks_uri\":\"" jwks "\",\"token_endpoint\":\"" token "\"," \
	"\"device_authorization_endpoint\":\"" device "\",\"response_types_supported\":[\"code\"]}"
#define ISS AUTH "/" TENANT "/v2.0"
#define KEYS AUTH "/" TENANT "/discovery/v2.0/keys"
#define TOKEN AUTH "/" TENANT "/oauth2/v2.0/token"
#define DEVICE AUTH "/" TENANT "/oauth2/v2.0/devicecode"

static int parse(const char *doc)
{
	struct oidc_meta *m = NULL;
	int r = oidc_parse(cfg, doc, strlen(doc), &m);

	if (r == 0) {
		assert_string_equal(m->issuer, ISS);
		assert_string_equal(m->jwks_uri, KEYS);
		assert_string_equal(m->token_endpoint, TOKEN);
		assert_string_equal(m->device_authorization_endpoint, DEVICE);
		assert_false(m->from_cache);
	}
	oidc_meta_free(m);
	return r;
}

static void test_oidc_parse(void **state)
{
	(void)state;
	assert_int_equal(parse(DOC(ISS, KEYS, TOKEN, DEVICE)), 0);
	assert_int_equal(parse(DOC(ISS "/", KEYS, TOKEN, DEVICE)), EL_ERR_DISCOVERY);
	assert_int_equal(parse(DOC(AUTH "/common/v2.0", KEYS, TOKEN, DEVICE)), EL_ERR_DISCOVERY);
	assert_int_equal(parse(DOC(AUTH "/{tenantid}/v2.0", KEYS, TOKEN, DEVICE)), EL_ERR_DISCOVERY);
	assert_int_equal(parse(DOC(ISS, "https://evil.example/keys", TOKEN, DEVICE)), EL_ERR_DISCOVERY);
	assert_int_equal(parse(DOC(ISS, "http://login.microsoftonline.com/keys", TOKEN, DEVICE)), EL_ERR_DISCOVERY);
	assert_int_equal(parse(DOC(ISS, KEYS, "https://login.microsoftonline.com:8443/t", DEVICE)), EL_ERR_DISCOVERY);
	assert_int_equal(parse(DOC(ISS, KEYS, TOKEN, "https://login.microsoftonline.com@evil.example/d")), EL_ERR_DISCOVERY);
	assert_int_equal(parse("{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" KEYS "\",\"token_endpoint\":\"" TOKEN "\"}"),
			 EL_ERR_DISCOVERY);
	assert_int_equal(parse("{\"issuer\":\"" ISS "\",\"issuer\":\"" ISS "\"}"), EL_ERR_JSON);
	assert_int_equal(parse("[]"), EL_ERR_DISCOVERY);
	assert_int_equal(parse("<html>"), EL_ERR_JSON);
}

/* ---- driver mode ---- */

static int driver(int argc, char **argv)
{
	struct el_config *dcfg = NULL;
	struct http_response *resp = NULL;
	struct http_form form = { 0 };
	const char *dl = getenv("DEADLINE");
	uint64_t t0 = http_now_ms(), deadline = dl ? t0 + (uint64_t)(atof(dl) * 1000) : 0;
	char err[512];
	int r = 0;

	if (argc < 3 || cfg_load(argv[2], &dcfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_http: bad usage or config: %s\n", argc < 3 ? "" : err);
		return 2;
	}
	if (strcmp(argv[1], "get") == 0 && argc >= 4) {
		r = http_get(dcfg, argv[3], (const char *const *)argv + 4, deadline, &resp);
	} else if (strcmp(argv[1], "post") == 0 && argc >= 4) {
		for (int i = 4; i < argc && r == 0; i++) {
			char *eq = strchr(argv[i], '=');

			if (!eq)
				return 2;
			*eq = '\0';
			r = http_form_add(&form, argv[i], eq + 1);
		}
		if (r == 0)
			r = http_post_form(dcfg, argv[3], NULL, &form, deadline, &resp);
	} else if (strcmp(argv[1], "discover") == 0) {
		struct oidc_meta *m = NULL;

		r = oidc_discover(dcfg, deadline, &m);
		if (r == 0)
			printf("from_cache=%d\njwks_uri=%s\ntoken_endpoint=%s\ndevice_authorization_endpoint=%s\n",
			       m->from_cache, m->jwks_uri, m->token_endpoint, m->device_authorization_endpoint);
		oidc_meta_free(m);
	} else if (strcmp(argv[1], "keys") == 0) {
		struct el_keys *ks = NULL;

		r = keys_open(dcfg, &ks);
		if (r == 0) {
			printf("from_cache=%d fetches=%u\n", keys_from_cache(ks), keys_fetch_count(ks));
			for (size_t i = 0; i < keys_count(ks); i++)
				printf("kid=%s bits=%d\n", keys_get(ks, i)->kid, keys_get(ks, i)->bits);
		}
		keys_free(ks);
	} else {
		cfg_free(dcfg);
		return 2;
	}
	if (r < 0)
		printf("error=%s ms=%llu\n", el_errname(r), (unsigned long long)(http_now_ms() - t0));
	else if (resp)
		printf("status=%ld len=%zu ms=%llu\n%s", resp->status, resp->len,
		       (unsigned long long)(http_now_ms() - t0), resp->body);
	http_response_free(resp);
	http_form_free(&form);
	cfg_free(dcfg);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_form_add_percent_encodes),
		cmocka_unit_test(test_http_form_add_refuses_bad_input),
		cmocka_unit_test(test_http_allowed_protocols),
		cmocka_unit_test(test_http_get_refuses_scheme_before_connecting),
		cmocka_unit_test(test_http_get_refuses_bad_arguments),
		cmocka_unit_test(test_http_get_connection_refused),
		cmocka_unit_test(test_http_deadline_in_the_past),
		cmocka_unit_test(test_oidc_same_origin),
		cmocka_unit_test(test_oidc_parse),
	};

	if (argc > 1)
		return driver(argc, argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
