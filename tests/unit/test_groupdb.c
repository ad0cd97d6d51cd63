/* test_groupdb.c - mapped groups database (groupdb.h): names, gids, merge rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "groupdb.h"
#include "test_userdb_fx.h"

static int setup(void **state)
{
	/* a range of 1001 gids: collisions are easy to find */
	return udb_fx_setup(state, "/tmp/gdb-test-XXXXXX", "contoso.com", "gid_min = 2100000000\ngid_max = 2100001000\n"
			    "uid_min = 1000000000\nuid_max = 1999999999\n");
}

static void oid_n(unsigned i, char buf[37])
{
	snprintf(buf, 37, "%08x-1111-4111-8111-111111111111", 0x70000000u + i);
}

static void test_gdb_sanitize_name_table(void **state)
{
	static const struct {
		const char *raw, *want;	/* want NULL: refused */
	} t[] = {
		{ "Linux Platform", "linux-platform" },
		{ "  Linux   Platform  ", "linux-platform" },
		{ "linux_db", "linux_db" },
		{ "SUDO", "sudo" },
		{ "-.-Team", "team" },
		{ "Équipe Données", "quipe-donn-es" },
		{ "a:b,c\nd%e", "a-b-c-d-e" },
		{ "12345", NULL },
		{ "---", NULL },
		{ "", NULL },
		{ "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz012345" },
		{ "abcdefghijklmnopqrstuvwxyz01234 x", "abcdefghijklmnopqrstuvwxyz01234" },
	};
	char buf[GDB_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = gdb_sanitize_name(t[i].raw, buf, sizeof(buf));

		if (!t[i].want) {
			assert_int_equal(r, EL_ERR_INVAL);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(buf, t[i].want);
	}
	assert_int_equal(gdb_sanitize_name("x", buf, GDB_NAME_MAX), EL_ERR_INVAL);
}

static uint32_t gid_of(struct fx *fx, const char *name)
{
	struct gdb *db = NULL;
	struct gdb_group g;
	uint32_t gid;

	assert_int_equal(gdb_open(fx->cfg, &db), 0);
	if (gdb_lookup_name(db, name, &g) < 0) {
		gdb_close(db);
		return 0;
	}
	gid = g.gid;
	gdb_close(db);
	return gid;
}

/* Two object ids hashing to the same gid get distinct ones, the smaller oid
 * the hashed one; a group keeps its gid when a colliding group appears later. */
static void test_gdb_apply_gid_probing_and_stability(void **state)
{
	struct fx *fx = *state;
	char a[37], b[37];
	unsigned i = 0, j;
	uint32_t ha, gb;

	for (;; i++) {
		oid_n(i, a);
		ha = gdb_gid_hash(fx->cfg, a);
		for (j = 0; j < i; j++) {
			oid_n(j, b);
			if (gdb_gid_hash(fx->cfg, b) == ha && ha < fx->cfg->gid_max)
				break;
		}
		if (j < i)
			break;
		assert_true(i < 5000);
	}
	/* b (smaller oid) and a collide. Map a alone first: it takes the hash. */
	{
		struct gdb_in_group ga = { a, "grp-a" }, gbb = { b, "grp-b" };
		struct gdb_change c1 = { 1000000001u, &ga, 1 }, c2 = { 1000000002u, &gbb, 1 };

		assert_int_equal(gdb_apply(fx->cfg, &c1, 1, NULL, NULL, NULL, NULL), 0);
		assert_int_equal(gid_of(fx, "grp-a"), ha);
		assert_int_equal(gdb_apply(fx->cfg, &c2, 1, NULL, NULL, NULL, NULL), 0);
		assert_int_equal(gid_of(fx, "grp-a"), ha);	/* kept */
		gb = gid_of(fx, "grp-b");
		assert_int_equal(gb, ha + 1);			/* probed */
	}
}

static void test_gdb_apply_merge_keep_and_refusals(void **state)
{
	struct fx *fx = *state;
	char o1[37], o2[37], o3[37];
	struct gdb *db = NULL;
	struct gdb_group g;
	const uint32_t *gids;
	uint32_t n;

	oid_n(1, o1);
	oid_n(2, o2);
	oid_n(3, o3);
	{
		struct gdb_in_group u1[] = { { o1, "team" }, { o2, "root" } }, u2[] = { { o1, "team" }, { o3, "ops" } };
		struct gdb_change ch[] = { { 1000000001u, u1, 2 }, { 1000000002u, u2, 2 } };

		assert_int_equal(gdb_apply(fx->cfg, ch, 2, NULL, NULL, NULL, NULL), 0);
	}
	assert_int_equal(gdb_open(fx->cfg, &db), 0);
	assert_int_equal(gdb_count(db), 2);	/* "root" is a local group: refused */
	assert_int_equal(gdb_lookup_name(db, "root", &g), EL_ERR_NOT_FOUND);
	assert_int_equal(gdb_lookup_name(db, "team", &g), 0);
	assert_int_equal(g.n_members, 2);
	assert_int_equal(gdb_user_gids(db, 1000000002u, &gids, &n), 0);
	assert_int_equal(n, 2);
	gdb_close(db);
	/* user 1 re-read: now only in "ops"; user 2 untouched */
	{
		struct gdb_in_group u1[] = { { o3, "ops" } };
		struct gdb_change ch = { 1000000001u, u1, 1 };

		assert_int_equal(gdb_apply(fx->cfg, &ch, 1, NULL, NULL, NULL, NULL), 0);
	}
	assert_int_equal(gdb_open(fx->cfg, &db), 0);
	assert_int_equal(gdb_lookup_name(db, "team", &g), 0);
	assert_int_equal(g.n_members, 1);
	assert_int_equal(g.members[0], 1000000002u);
	assert_int_equal(gdb_lookup_name(db, "ops", &g), 0);
	assert_int_equal(g.n_members, 2);
	gdb_close(db);
	/* no change: the file is not rewritten (generation stays) */
	{
		struct gdb_in_group u1[] = { { o3, "ops" } };
		struct gdb_change ch = { 1000000001u, u1, 1 };
		uint64_t gen;

		assert_int_equal(gdb_open(fx->cfg, &db), 0);
		gen = gdb_generation(db);
		gdb_close(db);
		assert_int_equal(gdb_apply(fx->cfg, &ch, 1, NULL, NULL, NULL, NULL), 0);
		assert_int_equal(gdb_open(fx->cfg, &db), 0);
		assert_int_equal(gdb_generation(db), gen);
		gdb_close(db);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gdb_sanitize_name_table),
		cmocka_unit_test_setup_teardown(test_gdb_apply_gid_probing_and_stability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdb_apply_merge_keep_and_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
