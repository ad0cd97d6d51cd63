/* test_certgrant.c - the "authorized-keys granted a role" record PAM account checks
 * (common/base/certgrant.c), the name rules for service principals, and the SSH config keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "certgrant.h"
#include "conf.h"
#include "names.h"

#define CONF "tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37\n" \
	     "client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\n" \
	     "domains = contoso.com\n"
#define OID "11111111-2222-4333-8444-555555555555"
#define SP "9c6b4d2a-1e3f-4a5b-8c7d-0e1f2a3b4c5d"

static struct el_config *config(const char *extra, const char *state_dir)
{
	char text[2048];
	struct el_config *cfg = NULL;

	snprintf(text, sizeof(text), "%s%sstate_dir = %s\n", CONF, extra, state_dir ? state_dir : "/nonexistent");
	assert_int_equal(cfg_parse("test.conf", text, strlen(text), &cfg, NULL, 0), 0);
	return cfg;
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/certgrant-test-XXXXXX");

	assert_non_null(mkdtemp(d));
	assert_int_equal(chmod(d, 0755), 0);
	return d;
}

static void rm_tree(const char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static void test_grant_window(void **state)
{
	char *d = tmpdir();
	struct el_config *cfg = config("", d);

	(void)state;
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000), EL_ERR_NOT_FOUND);
	assert_int_equal(certgrant_record(cfg, "alice@contoso.com", OID, 1000), 0);
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000), 0);
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000 + CERTGRANT_WINDOW), 0);
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000 + CERTGRANT_WINDOW + 1), EL_ERR_NOT_FOUND);
	assert_int_equal(certgrant_recent(cfg, "bob@contoso.com", 1000), EL_ERR_NOT_FOUND);
	/* from the future beyond clock_skew: not a grant */
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000 - 121), EL_ERR_NOT_FOUND);
	{
		time_t t = 0;

		assert_int_equal(certgrant_last(cfg, "alice@contoso.com", &t), 0);
		assert_int_equal((long)t, 1000);
	}
	cfg_free(cfg);
	rm_tree(d);
	free(d);
}

static void test_grant_file_must_be_private(void **state)
{
	char *d = tmpdir(), path[512];
	struct el_config *cfg = config("", d);

	(void)state;
	assert_int_equal(certgrant_record(cfg, "alice@contoso.com", OID, 1000), 0);
	snprintf(path, sizeof(path), "%s/certgrant/alice@contoso.com", d);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000), EL_ERR_INSECURE);
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/certgrant", d);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000), EL_ERR_INSECURE);
	cfg_free(cfg);
	rm_tree(d);
	free(d);
}

static void test_grant_names(void **state)
{
	struct el_config *cfg = config("", "/tmp");

	(void)state;
	assert_int_equal(certgrant_record(cfg, "../etc/passwd", OID, 1), EL_ERR_INVAL);
	assert_int_equal(certgrant_recent(cfg, "a/b@contoso.com", 1), EL_ERR_INVAL);
	assert_int_equal(certgrant_recent(cfg, ".", 1), EL_ERR_INVAL);
	assert_int_equal(certgrant_recent(cfg, "", 1), EL_ERR_INVAL);
	cfg_free(cfg);
}

static void test_service_principal_names(void **state)
{
	struct el_config *off = config("", NULL), *on = config("ssh_service_principals = yes\n", NULL);
	char home[256];

	(void)state;
	assert_int_equal(off->ssh_service_principals, 0);
	assert_false(name_is_ours(off, SP));
	assert_true(name_is_ours(on, SP));
	assert_false(name_is_ours(on, "9C6B4D2A-1E3F-4A5B-8C7D-0E1F2A3B4C5D"));	/* lower case only */
	assert_false(name_is_ours(on, "9c6b4d2a-1e3f-4a5b-8c7d-0e1f2a3b4c5"));
	assert_true(name_is_ours(on, "alice@contoso.com"));
	assert_int_equal(name_home("/home/%u", SP, home, sizeof(home)), 0);
	assert_string_equal(home, "/home/" SP);
	assert_int_equal(name_home("/home/%d/%l", SP, home, sizeof(home)), 0);
	assert_string_equal(home, "/home//" SP);
	assert_int_equal(name_home("/home/%u", "nodomain", home, sizeof(home)), EL_ERR_INVAL);
	cfg_free(off);
	cfg_free(on);
}

static void test_ssh_config_keys(void **state)
{
	struct el_config *cfg = config("", NULL);
	char text[1024], err[256];

	(void)state;
	assert_string_equal(cfg->ssh_ca_keys, "jwks");
	assert_int_equal(cfg->ssh_ca_max_age, 86400);
	cfg_free(cfg);
	cfg = config("ssh_ca_keys = /etc/ca.pub\nssh_ca_max_age = 3600\n", NULL);
	assert_string_equal(cfg->ssh_ca_keys, "/etc/ca.pub");
	assert_int_equal(cfg->ssh_ca_max_age, 3600);
	cfg_free(cfg);
	cfg = NULL;
	snprintf(text, sizeof(text), "%sssh_ca_keys = relative.pub\n", CONF);
	assert_int_equal(cfg_parse("t", text, strlen(text), &cfg, err, sizeof(err)), EL_ERR_CONFIG);
	assert_non_null(strstr(err, "ssh_ca_keys"));
	snprintf(text, sizeof(text), "%sssh_service_principals = maybe\n", CONF);
	assert_int_equal(cfg_parse("t", text, strlen(text), &cfg, err, sizeof(err)), EL_ERR_CONFIG);
	snprintf(text, sizeof(text), "%sssh_ca_max_age = 10\n", CONF);
	assert_int_equal(cfg_parse("t", text, strlen(text), &cfg, err, sizeof(err)), EL_ERR_CONFIG);
}

#define TID "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"

/* Issue 19 item 5: the pending decision authorized-keys leaves is taken once, within the window. */
static void test_pending_decision(void **state)
{
	char *d = tmpdir(), path[512];
	struct el_config *cfg = config("", d);
	struct certgrant_pending p;
	FILE *f;

	(void)state;
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000, &p), EL_ERR_NOT_FOUND);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 2, 1000), 0);
	/* a pending decision is not a grant */
	assert_int_equal(certgrant_recent(cfg, "alice@contoso.com", 1000), EL_ERR_NOT_FOUND);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000 + CERTGRANT_WINDOW, &p), 0);
	assert_string_equal(p.oid, OID);
	assert_string_equal(p.tid, TID);
	assert_int_equal(p.role, 2);
	assert_int_equal(p.at, 1000);
	/* one decision, one login */
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000, &p), EL_ERR_NOT_FOUND);
	/* too old, or from the future */
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 1, 1000), 0);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000 + CERTGRANT_WINDOW + 1, &p),
			 EL_ERR_NOT_FOUND);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 1, 1000), 0);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000 - 121, &p), EL_ERR_NOT_FOUND);
	/* two objects for one name within the window: a conflict, never consumed as either */
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 2, 1000), 0);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", SP, TID, 1, 1001), 0);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 2, 1002), 0);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1003, &p), EL_ERR_BOUND_OTHER);
	/* the same object again is no conflict; an old other one is none either */
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", SP, TID, 1, 1000), 0);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 2, 1000 + CERTGRANT_WINDOW + 1), 0);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 2, 1000 + CERTGRANT_WINDOW + 2), 0);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000 + CERTGRANT_WINDOW + 2, &p), 0);
	assert_string_equal(p.oid, OID);
	/* bad input is never written */
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", "nope", TID, 1, 1000), EL_ERR_INVAL);
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 0, 1000), EL_ERR_INVAL);
	assert_int_equal(certgrant_pending_put(cfg, "../x", OID, TID, 1, 1000), EL_ERR_INVAL);
	/* a newer format version is refused, never misread */
	snprintf(path, sizeof(path), "%s/" CERTPENDING_DIR "/alice@contoso.com", d);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "2 " OID " " TID " 2 1000\n");
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000, &p), EL_ERR_CORRUPT);
	/* not private: refused */
	assert_int_equal(certgrant_pending_put(cfg, "alice@contoso.com", OID, TID, 1, 1000), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(certgrant_pending_take(cfg, "alice@contoso.com", 1000, &p), EL_ERR_INSECURE);
	cfg_free(cfg);
	rm_tree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grant_window),
		cmocka_unit_test(test_pending_decision),
		cmocka_unit_test(test_grant_file_must_be_private),
		cmocka_unit_test(test_grant_names),
		cmocka_unit_test(test_service_principal_names),
		cmocka_unit_test(test_ssh_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
