/* test_userdb_identity.c - identity over time (issue 19): tombstones,
 * blocked names, release, role sources and compare-and-set role writes,
 * homes that are never shared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_userdb_fx.h"
#include "uidmap.h"
#include "userdb.h"
#include "userdb_format.h"

#define OID_A "aaaaaaaa-2222-4333-8444-555555555555"
#define OID_B "bbbbbbbb-2222-4333-8444-555555555555"
#define OID_C "cccccccc-2222-4333-8444-555555555555"

static int setup(void **state)
{
	return udb_fx_setup(state, "/tmp/udb-ident-XXXXXX", "contoso.com", "");
}

/* Copy what the caller needs out of a lookup (the mapping goes away). */
struct seen {
	int r;
	uint32_t uid;
	enum udb_role role;
	enum udb_source source;
	bool bound, blocked, retired;
	char home[300];
};

static struct seen look(struct fx *fx, const char *name)
{
	struct seen s = { 0 };
	struct udb *db = NULL;
	struct udb_user u;

	s.r = udb_open(fx->cfg, &db);
	if (s.r == 0)
		s.r = udb_lookup_name(db, name, &u);
	if (s.r == 0) {
		s.uid = u.uid;
		s.role = u.role;
		s.source = u.source;
		s.bound = u.bound;
		s.blocked = u.blocked;
		s.retired = u.retired;
		snprintf(s.home, sizeof(s.home), "%s", u.home);
	}
	udb_close(db);
	return s;
}

static void test_rename_leaves_a_tombstone_until_release(void **state)
{
	struct fx *fx = *state;
	uint32_t uid = 0, uid2 = 0, kept = 1;
	struct seen s;

	assert_int_equal(udb_record_login(fx->cfg, "old@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 1, &uid), 0);
	assert_int_equal(udb_rename(fx->cfg, "old@contoso.com", "new@contoso.com", NULL), 0);
	s = look(fx, "old@contoso.com");
	assert_int_equal(s.r, 0);
	assert_true(s.retired);
	assert_false(s.bound);
	assert_int_equal(s.uid, 0);
	/* Nobody is given the old name: not the next holder of the UPN... */
	assert_int_equal(udb_check_binding(fx->cfg, "old@contoso.com", OID_B, TID), EL_ERR_NAME_RETIRED);
	assert_int_equal(udb_record_login(fx->cfg, "old@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 2, &uid2),
			 EL_ERR_NAME_RETIRED);
	/* ...nor a role write, nor a block lifted. */
	assert_int_equal(udb_set_role(fx->cfg, "old@contoso.com", OID_A, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM),
			 EL_ERR_BINDING_CHANGED);
	assert_int_equal(udb_block(fx->cfg, "old@contoso.com", false), EL_ERR_NAME_RETIRED);
	assert_int_equal(udb_release(fx->cfg, "new@contoso.com", NULL), EL_ERR_BOUND_OTHER);
	/* Released: the next holder gets a fresh uid, never the renamed user's. */
	assert_int_equal(udb_release(fx->cfg, "old@contoso.com", &kept), 0);
	assert_int_equal(kept, 0);	/* the uid lives on under new@ */
	assert_int_equal(look(fx, "old@contoso.com").r, EL_ERR_NOT_FOUND);
	assert_int_equal(udb_record_login(fx->cfg, "old@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 3, &uid2), 0);
	assert_int_not_equal(uid2, uid);
	assert_int_equal(look(fx, "new@contoso.com").uid, uid);
	assert_int_equal(udb_release(fx->cfg, "gone@contoso.com", NULL), EL_ERR_NOT_FOUND);
}

static void test_purge_keeps_the_uid_reserved_and_release_gives_a_fresh_one(void **state)
{
	struct fx *fx = *state;
	uint32_t uid = 0, uid2 = 0, kept = 0;
	struct udb *db = NULL;
	struct udb_user u;

	assert_int_equal(udb_record_login(fx->cfg, "p@contoso.com", OID_A, TID, "", UDB_ROLE_ADMIN, 1, &uid), 0);
	assert_int_equal(udb_forget(fx->cfg, "p@contoso.com", true), 0);
	assert_true(look(fx, "p@contoso.com").retired);
	assert_int_equal(look(fx, "p@contoso.com").uid, uid);
	/* A reused UPN (new oid) and the old object alike: refused. */
	assert_int_equal(udb_record_login(fx->cfg, "p@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 2, &uid2),
			 EL_ERR_NAME_RETIRED);
	assert_int_equal(udb_record_login(fx->cfg, "p@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 2, &uid2),
			 EL_ERR_NAME_RETIRED);
	assert_int_equal(udb_release(fx->cfg, "p@contoso.com", &kept), 0);
	assert_int_equal(kept, uid);
	/* The old uid stays taken, by a reservation that is no directory name. */
	assert_int_equal(udb_open(fx->cfg, &db), 0);
	assert_int_equal(udb_lookup_uid(db, uid, &u), 0);
	assert_int_equal(u.name[0], UDB_RESERVED_PREFIX);
	assert_true(u.retired);
	udb_close(db);
	assert_int_equal(udb_release(fx->cfg, "#1", NULL), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_record_login(fx->cfg, "p@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 3, &uid2), 0);
	assert_int_not_equal(uid2, uid);
	/* ...and another home: the old one (the old holder's files) stays with the reservation. */
	{
		char want[300];

		snprintf(want, sizeof(want), "/home/p@contoso.com.%u", uid2);
		assert_string_equal(look(fx, "p@contoso.com").home, want);
	}
}

static void test_block_refuses_every_login_and_drops_the_role(void **state)
{
	struct fx *fx = *state;
	struct seen s;

	assert_int_equal(udb_record_login(fx->cfg, "b@contoso.com", OID_A, TID, "", UDB_ROLE_ADMIN, 1, NULL), 0);
	assert_int_equal(udb_block(fx->cfg, "b@contoso.com", true), 0);
	s = look(fx, "b@contoso.com");
	assert_true(s.blocked);
	assert_true(s.bound);
	assert_int_equal(s.role, UDB_ROLE_NONE);
	assert_int_equal(udb_check_binding(fx->cfg, "b@contoso.com", OID_A, TID), EL_ERR_NAME_BLOCKED);
	assert_int_equal(udb_record_login(fx->cfg, "b@contoso.com", OID_A, TID, "", UDB_ROLE_ADMIN, 2, NULL),
			 EL_ERR_NAME_BLOCKED);
	assert_int_equal(udb_set_role(fx->cfg, "b@contoso.com", OID_A, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM),
			 EL_ERR_BINDING_CHANGED);
	assert_int_equal(udb_block(fx->cfg, "b@contoso.com", false), 0);
	assert_int_equal(udb_record_login(fx->cfg, "b@contoso.com", OID_A, TID, "", UDB_ROLE_ADMIN, 3, NULL), 0);
	assert_int_equal(udb_block(fx->cfg, "x@contoso.com", true), EL_ERR_NOT_FOUND);
}

/* account and refresh read a role for one object, decide over up to
 * 3 x http_timeout of ARM calls, then write: by name + oid, never by name. */
static void test_set_role_is_compare_and_set_across_rename_and_forget(void **state)
{
	struct fx *fx = *state;
	uint64_t gen;

	assert_int_equal(udb_record_login(fx->cfg, "r@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	/* Read (OID_A), then the name is renamed away and reused by OID_B... */
	assert_int_equal(udb_rename(fx->cfg, "r@contoso.com", "r2@contoso.com", NULL), 0);
	assert_int_equal(udb_release(fx->cfg, "r@contoso.com", NULL), 0);
	assert_int_equal(udb_record_login(fx->cfg, "r@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 2, NULL), 0);
	gen = generation(fx);
	/* ...the write decided for OID_A must not make OID_B an admin. */
	assert_int_equal(udb_set_role(fx->cfg, "r@contoso.com", OID_A, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM),
			 EL_ERR_BINDING_CHANGED);
	assert_int_equal(generation(fx), gen);
	assert_int_equal(look(fx, "r@contoso.com").role, UDB_ROLE_USER);
	/* Another tenant's object of the same id is another object. */
	assert_int_equal(udb_set_role(fx->cfg, "r@contoso.com", OID_B, "00000000-0000-4000-8000-000000000000",
				      UDB_ROLE_ADMIN, UDB_SRC_ARM), EL_ERR_BINDING_CHANGED);
	/* Forgotten between read and write: nothing written either. */
	assert_int_equal(udb_forget(fx->cfg, "r2@contoso.com", false), 0);
	gen = generation(fx);
	assert_int_equal(udb_set_role(fx->cfg, "r2@contoso.com", OID_A, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM),
			 EL_ERR_BINDING_CHANGED);
	assert_int_equal(generation(fx), gen);
	/* The object the role was decided for: written, with its source. */
	assert_int_equal(udb_set_role(fx->cfg, "r@contoso.com", OID_B, TID, UDB_ROLE_ADMIN, UDB_SRC_STATIC), 0);
	assert_int_equal(look(fx, "r@contoso.com").role, UDB_ROLE_ADMIN);
	assert_int_equal(look(fx, "r@contoso.com").source, UDB_SRC_STATIC);
}

static void test_role_source_is_stored(void **state)
{
	struct fx *fx = *state;
	struct udb_login l = { "s@contoso.com", OID_A, TID, "", UDB_ROLE_ADMIN };

	assert_int_equal(udb_record_login_src(fx->cfg, &l, UDB_SRC_CLAIMS, 1, 0, NULL), 0);
	assert_int_equal(look(fx, "s@contoso.com").source, UDB_SRC_CLAIMS);
	/* A role written without a source (an older caller): unknown, which the
	 * token-free claims source never answers for. */
	assert_int_equal(udb_record_login(fx->cfg, "s@contoso.com", OID_A, TID, "", UDB_ROLE_ADMIN, 2, NULL), 0);
	assert_int_equal(look(fx, "s@contoso.com").source, UDB_SRC_UNKNOWN);
	/* No role: no source. */
	assert_int_equal(udb_set_role(fx->cfg, "s@contoso.com", OID_A, TID, UDB_ROLE_NONE, UDB_SRC_ARM), 0);
	assert_int_equal(look(fx, "s@contoso.com").source, UDB_SRC_UNKNOWN);
	assert_int_equal(udb_record_login_src(fx->cfg, &l, (enum udb_source)7, 1, 0, NULL), EL_ERR_INVAL);
}

/* rename --keep-home pins OLD's template home on NEW: whoever is given OLD
 * later must get another path, never the renamed user's files. */
static void test_a_kept_home_is_never_given_to_the_next_holder(void **state)
{
	struct fx *fx = *state;
	uint32_t uid2 = 0;
	char want[300];
	struct seen s;

	assert_int_equal(udb_record_login(fx->cfg, "h@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	assert_int_equal(udb_rename(fx->cfg, "h@contoso.com", "h2@contoso.com", "/home/h@contoso.com"), 0);
	assert_int_equal(udb_release(fx->cfg, "h@contoso.com", NULL), 0);
	assert_int_equal(udb_record_login(fx->cfg, "h@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 2, &uid2), 0);
	s = look(fx, "h@contoso.com");
	snprintf(want, sizeof(want), "/home/h@contoso.com.%u", uid2);
	assert_string_equal(s.home, want);
	assert_string_equal(look(fx, "h2@contoso.com").home, "/home/h@contoso.com");
	/* Nobody else's home taken: the template applies. */
	assert_int_equal(udb_record_login(fx->cfg, "k@contoso.com", OID_C, TID, "", UDB_ROLE_USER, 2, NULL), 0);
	assert_string_equal(look(fx, "k@contoso.com").home, "");
}

static void resign(unsigned char *img, uint32_t version)
{
	struct udb_disk_hdr *h = (struct udb_disk_hdr *)img;
	const unsigned char *pool = img + h->strings_off;
	uint64_t sum;

	for (uint32_t i = 0; i < h->n_users; i++) {
		struct udb_disk_rec *r = (struct udb_disk_rec *)(img + h->records_off) + i;

		sum = udb_hash64(r, UDB_REC_SUMMED, UDB_SEED_REC);
		sum = udb_hash64(pool + r->name_off, (uint64_t)r->name_len + 1, sum);
		sum = udb_hash64(pool + r->display_off, (uint64_t)r->display_len + 1, sum);
		r->checksum = udb_hash64(pool + r->extra_off, (uint64_t)r->extra_len + 1, sum);
	}
	resign_header_whole(img, version);
}

/* A version 2 file: a forgotten record there has no oid left, so it takes
 * nobody back until released; v2 records cannot carry the v3 bits. */
static void test_version_2_files_keep_working_and_stay_strict(void **state)
{
	struct fx *fx = *state;
	struct udb_disk_rec *r;
	unsigned char *img;
	size_t len;
	uint32_t uid = 0, uid2 = 0;

	assert_int_equal(udb_record_login(fx->cfg, "v@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 1, &uid), 0);
	img = slurp(fx->path, &len);
	r = (struct udb_disk_rec *)(img + ((struct udb_disk_hdr *)img)->records_off);
	/* What the version 2 writer's forget left: unbound, role none, oid zero. */
	r->flags = 0;
	r->role = UDB_ROLE_NONE;
	memset(r->oid, 0, 16);
	memset(r->tid, 0, 16);
	resign(img, 2);
	spit(fx->path, img, len);
	assert_int_equal(look(fx, "v@contoso.com").uid, uid);
	assert_int_equal(udb_check_binding(fx->cfg, "v@contoso.com", OID_B, TID), EL_ERR_NAME_RETIRED);
	assert_int_equal(udb_record_login(fx->cfg, "v@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 2, &uid2),
			 EL_ERR_NAME_RETIRED);
	/* A v2 record with a v3 flag or a source nibble is corrupt, not misread. */
	r->flags = UDB_FLAG_BLOCKED;
	resign(img, 2);
	spit(fx->path, img, len);
	assert_int_equal(look(fx, "v@contoso.com").r, EL_ERR_CORRUPT);
	r->flags = UDB_FLAG_BOUND;
	r->role = (uint8_t)(UDB_ROLE_USER | UDB_SRC_ARM << UDB_SRC_SHIFT);
	resign(img, 2);
	spit(fx->path, img, len);
	assert_int_equal(look(fx, "v@contoso.com").r, EL_ERR_CORRUPT);
	/* Version 3: a bound tombstone, a source beyond the known ones, or a
	 * uid-less live record are corrupt too. */
	r->role = (uint8_t)(UDB_ROLE_USER | 9u << UDB_SRC_SHIFT);
	resign(img, 3);
	spit(fx->path, img, len);
	assert_int_equal(look(fx, "v@contoso.com").r, EL_ERR_CORRUPT);
	r->role = UDB_ROLE_USER;
	r->flags = UDB_FLAG_BOUND | UDB_FLAG_RETIRED;
	resign(img, 3);
	spit(fx->path, img, len);
	assert_int_equal(look(fx, "v@contoso.com").r, EL_ERR_CORRUPT);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rename_leaves_a_tombstone_until_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_keeps_the_uid_reserved_and_release_gives_a_fresh_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_block_refuses_every_login_and_drops_the_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_role_is_compare_and_set_across_rename_and_forget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_role_source_is_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_kept_home_is_never_given_to_the_next_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_2_files_keep_working_and_stay_strict, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
