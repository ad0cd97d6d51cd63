/* test_uidmap.c - name -> UID mapping and the local files' names and ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "uidmap.h"

#define CONF "tenant_id = 6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37\n" \
	     "client_id = 3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b\n" \
	     "domains = contoso.com\n"

static struct el_config *config(const char *extra)
{
	char text[1024];
	struct el_config *cfg = NULL;

	snprintf(text, sizeof(text), "%s%s", CONF, extra);
	assert_int_equal(cfg_parse("test.conf", text, strlen(text), &cfg, NULL, 0), 0);
	return cfg;
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/uidmap-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int taken_none(void *u, uint32_t id)
{
	(void)u;
	(void)id;
	return 0;
}

static int taken_all(void *u, uint32_t id)
{
	(void)u;
	(void)id;
	return 1;
}

static int taken_list(void *u, uint32_t id)
{
	for (const uint32_t *p = u; *p; p++)
		if (*p == id)
			return 1;
	return 0;
}

static int taken_error(void *u, uint32_t id)
{
	(void)u;
	(void)id;
	return EL_ERR_CORRUPT;
}

static void test_uidmap_hash_fnv1a_vectors(void **state)
{
	(void)state;
	/* Published FNV-1a 64 test vectors: the hash is part of the product. */
	assert_true(uidmap_hash("") == 0xcbf29ce484222325ull);
	assert_true(uidmap_hash("a") == 0xaf63dc4c8601ec8cull);
	assert_true(uidmap_hash("foobar") == 0x85944171f73967e8ull);
	assert_true(uidmap_hash("Alice@Contoso.COM") == uidmap_hash("alice@contoso.com"));
}

static void test_uidmap_pick_home_slot_when_free(void **state)
{
	struct el_config *cfg = config("");
	uint32_t uid = 0;

	(void)state;
	assert_int_equal(uidmap_pick(cfg, NULL, "alice@contoso.com", taken_none, NULL, 0, &uid), 0);
	assert_int_equal(uid, 1879048192u + uidmap_hash("alice@contoso.com") % (1999999999u - 1879048192u + 1));
	for (int i = 0; i < 2000; i++) {
		char name[64];

		snprintf(name, sizeof(name), "user%d@contoso.com", i);
		assert_int_equal(uidmap_pick(cfg, NULL, name, taken_none, NULL, 0, &uid), 0);
		assert_true(uid >= cfg->uid_min && uid <= cfg->uid_max);
	}
	cfg_free(cfg);
}

static void test_uidmap_pick_probes_past_taken_ids(void **state)
{
	struct el_config *cfg = config("");
	uint32_t home = 0, uid = 0, taken[3] = { 0 };

	(void)state;
	assert_int_equal(uidmap_pick(cfg, NULL, "bob@contoso.com", NULL, NULL, 0, &home), 0);
	taken[0] = home;
	taken[1] = home + 1;
	assert_int_equal(uidmap_pick(cfg, NULL, "bob@contoso.com", taken_list, taken, 2, &uid), 0);
	assert_int_equal(uid, home + 2);
	cfg_free(cfg);
}

static void test_uidmap_pick_wraps_at_uid_max(void **state)
{
	struct el_config *cfg = config("uid_min = 5000\nuid_max = 6000\n");
	char name[64];
	uint32_t uid = 0, taken[2] = { 6000, 0 };
	int i;

	(void)state;
	for (i = 0; i < 1000000; i++) {
		snprintf(name, sizeof(name), "w%d@contoso.com", i);
		if (uidmap_hash(name) % 1001 == 1000)
			break;
	}
	assert_int_equal(uidmap_pick(cfg, NULL, name, taken_none, NULL, 0, &uid), 0);
	assert_int_equal(uid, 6000);
	assert_int_equal(uidmap_pick(cfg, NULL, name, taken_list, taken, 1, &uid), 0);
	assert_int_equal(uid, 5000);
	cfg_free(cfg);
}

static void test_uidmap_pick_full_and_errors(void **state)
{
	struct el_config *cfg = config("uid_min = 5000\nuid_max = 6000\n");
	uint32_t uid = 7;

	(void)state;
	assert_int_equal(uidmap_pick(cfg, NULL, "c@contoso.com", taken_all, NULL, 50, &uid), EL_ERR_FULL);
	assert_int_equal(uidmap_pick(cfg, NULL, "c@contoso.com", taken_all, NULL, 5000000, &uid), EL_ERR_FULL);
	assert_int_equal(uid, 7);	/* untouched on failure */
	assert_int_equal(uidmap_pick(cfg, NULL, "c@contoso.com", taken_error, NULL, 1, &uid), EL_ERR_CORRUPT);
	cfg_free(cfg);
}

static void test_uidmap_pick_avoids_local_ids_and_names(void **state)
{
	struct el_config *cfg = config("");
	struct uidmap_local *local = NULL;
	char pw[512], *pwpath, *grpath;
	uint32_t home = 0, uid = 0;

	(void)state;
	assert_int_equal(uidmap_pick(cfg, NULL, "dave@contoso.com", NULL, NULL, 0, &home), 0);
	/* home is a uid in passwd, home+1 a gid in passwd, home+2 a gid in group. */
	snprintf(pw, sizeof(pw), "root:x:0:0:root:/root:/bin/bash\nx1:x:%u:100::/:/bin/sh\n"
		 "x2:x:101:%u::/:/bin/sh\nerin@contoso.com:x:102:102::/:/bin/sh\n", home, home + 1);
	pwpath = write_tmp(pw);
	snprintf(pw, sizeof(pw), "root:x:0:\ng3:x:%u:x1\nfrank@contoso.com:x:103:\n", home + 2);
	grpath = write_tmp(pw);
	assert_int_equal(uidmap_local_load(pwpath, grpath, &local), 0);
	assert_int_equal(uidmap_pick(cfg, local, "dave@contoso.com", NULL, NULL, 0, &uid), 0);
	assert_int_equal(uid, home + 3);
	assert_int_equal(uidmap_pick(cfg, local, "erin@contoso.com", NULL, NULL, 0, &uid), EL_ERR_NOT_OURS);
	assert_int_equal(uidmap_pick(cfg, local, "frank@contoso.com", NULL, NULL, 0, &uid), EL_ERR_NOT_OURS);
	uidmap_local_free(local);
	unlink(pwpath);
	unlink(grpath);
	free(pwpath);
	free(grpath);
	cfg_free(cfg);
}

static void test_uidmap_local_load_skips_bad_lines(void **state)
{
	struct uidmap_local *local = NULL;
	char *pw = write_tmp("root:x:0:0:root:/root:/bin/bash\n+nisuser::::::\n-other\n# comment\n\n"
			     "short:x\nbaduid:x:12a:5::/:/bin/sh\nbig:x:4294967296:7::/:/bin/sh\n"
			     ":x:55:55::/:\nok:x:1001:1002:Ok:/home/ok:/bin/sh");
	char *gr = write_tmp("wheel:x:10:root,ok\nnomem:x:11\n");

	(void)state;
	assert_int_equal(uidmap_local_load(pw, gr, &local), 0);
	assert_true(uidmap_local_has_name(local, "root"));
	assert_true(uidmap_local_has_name(local, "ok"));
	assert_true(uidmap_local_has_name(local, "wheel"));
	assert_true(uidmap_local_has_name(local, "nomem"));
	assert_true(uidmap_local_has_name(local, "baduid"));	/* the name still counts */
	assert_false(uidmap_local_has_name(local, "+nisuser"));
	assert_false(uidmap_local_has_name(local, "nobody"));
	assert_true(uidmap_local_has_id(local, 0));
	assert_true(uidmap_local_has_id(local, 1001));
	assert_true(uidmap_local_has_id(local, 1002));
	assert_true(uidmap_local_has_id(local, 5));
	assert_true(uidmap_local_has_id(local, 10));
	assert_true(uidmap_local_has_id(local, 11));
	assert_false(uidmap_local_has_id(local, 12));
	assert_false(uidmap_local_has_id(local, 55));	/* empty name: line skipped */
	assert_int_equal(uidmap_local_count(local), 7);	/* 0 5 7 10 11 1001 1002 */
	uidmap_local_free(local);
	unlink(pw);
	unlink(gr);
	free(pw);
	free(gr);
}

static void test_uidmap_local_load_missing_files_are_empty(void **state)
{
	struct uidmap_local *local = NULL;

	(void)state;
	assert_int_equal(uidmap_local_load("/nonexistent/passwd", NULL, &local), 0);
	assert_int_equal(uidmap_local_count(local), 0);
	assert_false(uidmap_local_has_name(local, "root"));
	uidmap_local_free(local);
	assert_int_equal(uidmap_local_load("/", NULL, &local), EL_ERR_IO);
	uidmap_local_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uidmap_hash_fnv1a_vectors),
		cmocka_unit_test(test_uidmap_pick_home_slot_when_free),
		cmocka_unit_test(test_uidmap_pick_probes_past_taken_ids),
		cmocka_unit_test(test_uidmap_pick_wraps_at_uid_max),
		cmocka_unit_test(test_uidmap_pick_full_and_errors),
		cmocka_unit_test(test_uidmap_pick_avoids_local_ids_and_names),
		cmocka_unit_test(test_uidmap_local_load_skips_bad_lines),
		cmocka_unit_test(test_uidmap_local_load_missing_files_are_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
