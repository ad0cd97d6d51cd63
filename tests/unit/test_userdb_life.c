/* test_userdb_life.c - users over their whole life (issue 15): format v2
 * (pinned uid, home, shell) and reading v1 files, one name per object id,
 * udb_import, udb_rename, the refusal message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_userdb_fx.h"
#include "userdb.h"
#include "userdb_format.h"

#define OID_A "aaaaaaaa-2222-4333-8444-555555555555"
#define OID_B "bbbbbbbb-2222-4333-8444-555555555555"
#define OID_C "cccccccc-2222-4333-8444-555555555555"

static int setup(void **state)
{
	return udb_fx_setup(state, "/tmp/udb-life-XXXXXX", "contoso.com", "");
}

/* Re-sum record i and the header of an image, as a writer of version
 * `version` would have. */
static void resign(unsigned char *img, uint32_t i, uint32_t version)
{
	struct udb_disk_hdr *h = (struct udb_disk_hdr *)img;
	struct udb_disk_rec *r = (struct udb_disk_rec *)(img + h->records_off) + i;
	const unsigned char *pool = img + h->strings_off;
	uint64_t sum = udb_hash64(r, UDB_REC_SUMMED, UDB_SEED_REC);

	sum = udb_hash64(pool + r->name_off, (uint64_t)r->name_len + 1, sum);
	sum = udb_hash64(pool + r->display_off, (uint64_t)r->display_len + 1, sum);
	if (version >= 2)
		sum = udb_hash64(pool + r->extra_off, (uint64_t)r->extra_len + 1, sum);
	r->checksum = sum;
	resign_header_whole(img, version);
}

#define REC(img, i) ((struct udb_disk_rec *)((img) + ((struct udb_disk_hdr *)(img))->records_off) + (i))

static int lookup(struct fx *fx, const char *name, struct udb_user *u, char *home, char *shell)
{
	struct udb *db = NULL;
	int r = udb_open(fx->cfg, &db);

	if (r < 0)
		return r;
	r = udb_lookup_name(db, name, u);
	if (r == 0) {
		if (home)
			strcpy(home, u->home);
		if (shell)
			strcpy(shell, u->shell);
		u->name = u->display_name = u->home = u->shell = NULL;
	}
	udb_close(db);
	return r;
}

static void test_udb_reads_version_1_and_upgrades_it(void **state)
{
	struct fx *fx = *state;
	struct udb_user u;
	unsigned char *img;
	size_t len;
	uint32_t uid_a = 0;

	assert_int_equal(udb_record_login(fx->cfg, "a@contoso.com", OID_A, TID, "A", UDB_ROLE_ADMIN, 5, &uid_a), 0);
	assert_int_equal(udb_record_login(fx->cfg, "b@contoso.com", OID_B, TID, "B", UDB_ROLE_USER, 5, NULL), 0);
	img = slurp(fx->path, &len);
	assert_int_equal(((struct udb_disk_hdr *)img)->version, UDB_VERSION);
	/* What the version 1 writer wrote: no extra pair, checksums without it. */
	for (uint32_t i = 0; i < 2; i++) {
		REC(img, i)->extra_len = 0;
		REC(img, i)->extra_off = 0;
		resign(img, i, 1);
	}
	spit(fx->path, img, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), 0);
	assert_int_equal(u.uid, uid_a);
	assert_false(u.pinned);
	/* A version 1 file cannot carry a pinned flag or an extra pair. */
	REC(img, 0)->flags |= UDB_FLAG_PINNED;
	resign(img, 0, 1);
	spit(fx->path, img, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), EL_ERR_CORRUPT);
	REC(img, 0)->flags &= (uint8_t)~UDB_FLAG_PINNED;
	REC(img, 0)->extra_off = 4;
	resign(img, 0, 1);
	spit(fx->path, img, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), EL_ERR_CORRUPT);
	REC(img, 0)->extra_off = 0;
	resign(img, 0, 1);
	spit(fx->path, img, len);
	/* The next write upgrades it, keeping every user. */
	assert_int_equal(udb_record_login(fx->cfg, "c@contoso.com", OID_C, TID, "C", UDB_ROLE_USER, 6, NULL), 0);
	free(img);
	img = slurp(fx->path, &len);
	assert_int_equal(((struct udb_disk_hdr *)img)->version, UDB_VERSION);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), 0);
	assert_int_equal(u.uid, uid_a);
	assert_int_equal(u.role, UDB_ROLE_ADMIN);
	assert_int_equal(lookup(fx, "b@contoso.com", &u, NULL, NULL), 0);
	free(img);
}

/* A version 2 file (tables chained into the header checksum) is still
 * read, and still verified whole when opened: a flipped table byte is
 * refused at open. The same flip in a version 3 file opens (tables are
 * checked per use) and every lookup stays exact; a damaged v3 table only
 * hides users, and the next write repairs it. */
static void test_udb_reads_version_2_verified_whole(void **state)
{
	struct fx *fx = *state;
	struct udb_user u;
	struct udb_disk_hdr *h;
	unsigned char *img, *v3;
	size_t len;
	uint32_t uid_a = 0;

	assert_int_equal(udb_record_login(fx->cfg, "a@contoso.com", OID_A, TID, "A", UDB_ROLE_ADMIN, 5, &uid_a), 0);
	assert_int_equal(udb_record_login(fx->cfg, "b@contoso.com", OID_B, TID, "B", UDB_ROLE_USER, 5, NULL), 0);
	v3 = slurp(fx->path, &len);
	img = malloc(len);
	assert_non_null(img);
	memcpy(img, v3, len);
	for (uint32_t i = 0; i < 2; i++)
		resign(img, i, 2);
	spit(fx->path, img, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), 0);
	assert_int_equal(u.uid, uid_a);
	h = (struct udb_disk_hdr *)img;
	img[h->uid_table_off + 8 * (h->uid_slots - 1) + 7] ^= 0x40;	/* a byte of the tables */
	spit(fx->path, img, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), EL_ERR_CORRUPT);
	v3[h->uid_table_off + 8 * (h->uid_slots - 1) + 7] ^= 0x40;
	spit(fx->path, v3, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), 0);
	assert_int_equal(u.uid, uid_a);
	assert_int_equal(lookup(fx, "b@contoso.com", &u, NULL, NULL), 0);
	/* A version 3 name table that hides a: not found (never another
	 * user); the writer reads records, not tables, so the next write
	 * finds a, keeps its uid and repairs the table. */
	memset(v3 + h->name_table_off, 0, (size_t)h->name_slots * 8);
	spit(fx->path, v3, len);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_record_login(fx->cfg, "c@contoso.com", OID_C, TID, "C", UDB_ROLE_USER, 6, NULL), 0);
	assert_int_equal(lookup(fx, "a@contoso.com", &u, NULL, NULL), 0);
	assert_int_equal(u.uid, uid_a);
	assert_int_equal(lookup(fx, "b@contoso.com", &u, NULL, NULL), 0);
	free(img);
	free(v3);
}

static void test_udb_import_pins_uid_home_shell(void **state)
{
	struct fx *fx = *state;
	struct udb_pinned in[] = {
		{ "alice@contoso.com", OID_A, TID, "Alice", "/home/alice", "/bin/zsh", 1000001 },
		{ "sys@contoso.com", OID_B, TID, "", "/home/sys", "", 999 },
		{ "role@contoso.com", OID_B, TID, "", "/home/role", "", 999999001 },
		{ "rel@contoso.com", OID_B, TID, "", "home/rel", "", 1000003 },
		{ "bob@contoso.com", OID_B, TID, "B:ob\n", "/home/bob_1", "", 1000002 },
		{ "bob2@contoso.com", OID_B, TID, "", "/home/bob2", "", 1000004 },
	};
	struct udb_import_status st[6];
	struct udb_user u;
	char home[300], shell[300];
	struct stat sb;

	assert_int_equal(udb_import(fx->cfg, in, 6, false, st), 0);
	assert_int_equal(stat(fx->path, &sb), -1);	/* dry run: no file */
	assert_int_equal(st[0].result, UDB_IMPORT_NEW);
	assert_int_equal(st[1].result, UDB_IMPORT_ID_RESERVED);
	assert_int_equal(st[2].result, UDB_IMPORT_ID_RESERVED);
	assert_int_equal(st[3].result, UDB_IMPORT_INVALID);
	assert_int_equal(st[4].result, UDB_IMPORT_NEW);
	assert_int_equal(st[5].result, UDB_IMPORT_DUP_OID);
	assert_string_equal(st[5].other, "bob@contoso.com");
	assert_int_equal(udb_import(fx->cfg, in, 6, true, st), 0);
	assert_int_equal(st[0].result, UDB_IMPORT_NEW);
	assert_int_equal(st[5].result, UDB_IMPORT_DUP_OID);
	assert_int_equal(lookup(fx, "alice@contoso.com", &u, home, shell), 0);
	assert_int_equal(u.uid, 1000001);
	assert_true(u.pinned && u.bound);
	assert_int_equal(u.role, UDB_ROLE_NONE);
	assert_int_equal(u.last_login, 0);
	assert_string_equal(home, "/home/alice");
	assert_string_equal(shell, "/bin/zsh");
	assert_int_equal(lookup(fx, "bob@contoso.com", &u, home, shell), 0);
	assert_string_equal(home, "/home/bob_1");
	assert_string_equal(shell, "");
	assert_int_equal(lookup(fx, "sys@contoso.com", &u, NULL, NULL), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_import(fx->cfg, in, 6, true, st), 0);
	assert_int_equal(st[0].result, UDB_IMPORT_UNCHANGED);
	assert_int_equal(st[4].result, UDB_IMPORT_UNCHANGED);
	/* A login keeps the pinned uid; a second name for the object is refused. */
	{
		uint32_t uid = 0;

		assert_int_equal(udb_record_login(fx->cfg, "alice@contoso.com", OID_A, TID, "A", UDB_ROLE_USER, 9, &uid),
				 0);
		assert_int_equal(uid, 1000001);
		assert_int_equal(udb_record_login(fx->cfg, "alice2@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 9, NULL),
				 EL_ERR_OID_OTHER_NAME);
	}
}

static void test_udb_reader_refuses_bad_pinned_fields(void **state)
{
	struct fx *fx = *state;
	struct udb_pinned in = { "alice@contoso.com", OID_A, TID, "", "/home/alice", "/bin/sh", 1000001 };
	struct udb_import_status st;
	struct udb_user u;
	unsigned char *img, *orig;
	size_t len;
	struct udb_disk_hdr *h;
	char *pool;

	assert_int_equal(udb_import(fx->cfg, &in, 1, true, &st), 0);
	orig = slurp(fx->path, &len);
	img = malloc(len);
	h = (struct udb_disk_hdr *)img;
	/* Each edit is re-signed: the structural checks are what refuse it. */
	for (int edit = 0; edit < 6; edit++) {
		memcpy(img, orig, len);
		pool = (char *)img + h->strings_off + REC(img, 0)->extra_off;
		switch (edit) {
		case 0: REC(img, 0)->uid = 999; break;			/* pinned system id */
		case 1: pool[0] = 'h'; break;				/* relative home */
		case 2: pool[3] = ':'; break;				/* ':' in home */
		case 3: pool[3] = '\n'; break;				/* control byte */
		case 4: REC(img, 0)->extra_len = 5; break;		/* pair cut short */
		case 5: REC(img, 0)->flags |= 4; break;			/* unknown flag */
		}
		resign(img, 0, 2);
		spit(fx->path, img, len);
		assert_int_equal(lookup(fx, "alice@contoso.com", &u, NULL, NULL), EL_ERR_CORRUPT);
	}
	spit(fx->path, orig, len);
	assert_int_equal(lookup(fx, "alice@contoso.com", &u, NULL, NULL), 0);
	free(img);
	free(orig);
}

static void test_udb_one_name_per_oid_and_message(void **state)
{
	struct fx *fx = *state;
	struct udb_login batch[] = {
		{ "one@contoso.com", OID_A, TID, "", UDB_ROLE_USER },
		{ "two@contoso.com", OID_A, TID, "", UDB_ROLE_USER },
	};
	char buf[400], name[65];
	struct stat sb;

	assert_int_equal(udb_record_logins(fx->cfg, batch, 2, 1), EL_ERR_OID_OTHER_NAME);
	assert_int_equal(stat(fx->path, &sb), -1);
	assert_int_equal(udb_record_login(fx->cfg, "one@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	assert_int_equal(udb_check_binding(fx->cfg, "two@contoso.com", OID_A, TID), EL_ERR_OID_OTHER_NAME);
	assert_int_equal(udb_check_binding(fx->cfg, "one@contoso.com", OID_A, TID), 0);
	assert_int_equal(udb_name_of_oid(fx->cfg, OID_A, TID, name, sizeof(name)), 0);
	assert_string_equal(name, "one@contoso.com");
	assert_int_equal(udb_name_of_oid(fx->cfg, OID_B, TID, name, sizeof(name)), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_oid_other_name_message(buf, sizeof(buf), name, "two@contoso.com"), 0);
	assert_non_null(strstr(buf, "already set up on this host as one@contoso.com"));
	assert_non_null(strstr(buf, "entra-login rename one@contoso.com two@contoso.com"));
	assert_int_equal(udb_oid_other_name_message(buf, sizeof(buf), name, "x\n@contoso.com"), 0);
	assert_null(strchr(buf, '\n'));
	assert_int_equal(udb_oid_other_name_message(buf, 20, name, "two@contoso.com"), EL_ERR_RANGE);
	/* Forgotten, the object may come back under another name. */
	assert_int_equal(udb_forget(fx->cfg, "one@contoso.com", false), 0);
	assert_int_equal(udb_record_login(fx->cfg, "two@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 2, NULL), 0);
}

static void test_udb_rename_keeps_the_record(void **state)
{
	struct fx *fx = *state;
	struct udb_user u;
	uint32_t uid = 0;
	char home[300];

	assert_int_equal(udb_record_login(fx->cfg, "old@contoso.com", OID_A, TID, "Old", UDB_ROLE_ADMIN, 7, &uid), 0);
	assert_int_equal(udb_record_login(fx->cfg, "other@contoso.com", OID_B, TID, "", UDB_ROLE_USER, 7, NULL), 0);
	assert_int_equal(udb_rename(fx->cfg, "old@contoso.com", "other@contoso.com", NULL), EL_ERR_BOUND_OTHER);
	assert_int_equal(udb_rename(fx->cfg, "old@contoso.com", "new@evil.example", NULL), EL_ERR_NOT_OURS);
	assert_int_equal(udb_rename(fx->cfg, "nope@contoso.com", "new@contoso.com", NULL), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_rename(fx->cfg, "old@contoso.com", "new@contoso.com", "rel/home"), EL_ERR_INVAL);
	assert_int_equal(udb_rename(fx->cfg, "old@contoso.com", "new@contoso.com", "/home/old@contoso.com"), 0);
	/* The old name stays as a tombstone without a uid (issue 19). */
	assert_int_equal(lookup(fx, "old@contoso.com", &u, NULL, NULL), 0);
	assert_true(u.retired);
	assert_false(u.bound);
	assert_int_equal(u.uid, 0);
	assert_int_equal(lookup(fx, "new@contoso.com", &u, home, NULL), 0);
	assert_int_equal(u.uid, uid);
	assert_int_equal(u.role, UDB_ROLE_ADMIN);
	assert_int_equal(u.first_login, 7);
	assert_string_equal(home, "/home/old@contoso.com");
	assert_int_equal(udb_record_login(fx->cfg, "old@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 8, NULL),
			 EL_ERR_NAME_RETIRED);
	/* Renamed again without a pinned home: the template applies. */
	assert_int_equal(udb_rename(fx->cfg, "new@contoso.com", "newer@contoso.com", ""), 0);
	assert_int_equal(lookup(fx, "newer@contoso.com", &u, home, NULL), 0);
	assert_string_equal(home, "");
	assert_int_equal(u.uid, uid);
}

static void test_udb_import_many_then_rename(void **state)
{
	struct fx *fx = *state;
	enum { N = 300 };
	struct udb_pinned *in = calloc(N, sizeof(*in));
	struct udb_import_status *st = calloc(N, sizeof(*st));
	char (*names)[40] = calloc(N, 40), (*oids)[37] = calloc(N, 37), (*homes)[40] = calloc(N, 40);
	struct udb_user u;
	struct udb *db = NULL;

	/* One user first: the import grows the record array past its first
	 * capacity, so the writer's indexes are rebuilt mid-transaction. */
	assert_int_equal(udb_record_login(fx->cfg, "first@contoso.com", OID_A, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], 40, "imp%03d@contoso.com", i);
		snprintf(oids[i], 37, "%08x-1111-4111-8111-111111111111", 0x10000000 + i);
		snprintf(homes[i], 40, "/home/imp%03d_1", i);
		in[i] = (struct udb_pinned){ names[i], oids[i], TID, "", homes[i], "", 3000000u + (uint32_t)i };
	}
	assert_int_equal(udb_import(fx->cfg, in, N, true, st), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(st[i].result, UDB_IMPORT_NEW);
	assert_int_equal(udb_rename(fx->cfg, "imp007@contoso.com", "renamed@contoso.com", NULL), 0);
	assert_int_equal(udb_open(fx->cfg, &db), 0);
	assert_int_equal(udb_count(db), N + 2);	/* and the tombstone of imp007 */
	assert_int_equal(udb_lookup_uid(db, 3000007u, &u), 0);
	assert_string_equal(u.name, "renamed@contoso.com");
	assert_string_equal(u.home, "/home/imp007_1");
	assert_true(u.pinned);
	assert_int_equal(udb_lookup_name(db, "imp007@contoso.com", &u), 0);
	assert_true(u.retired);
	assert_int_equal(udb_lookup_name(db, "imp299@contoso.com", &u), 0);
	assert_int_equal(u.uid, 3000299u);
	udb_close(db);
	assert_int_equal(udb_import(fx->cfg, in, N, true, st), 0);
	assert_int_equal(st[7].result, UDB_IMPORT_NAME_TAKEN);	/* the old name is a tombstone */
	assert_string_equal(st[7].other, "imp007@contoso.com");
	assert_int_equal(st[8].result, UDB_IMPORT_UNCHANGED);
	free(in);
	free(st);
	free(names);
	free(oids);
	free(homes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udb_reads_version_1_and_upgrades_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_reads_version_2_verified_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_import_pins_uid_home_shell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_reader_refuses_bad_pinned_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_one_name_per_oid_and_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_rename_keeps_the_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_import_many_then_rename, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
