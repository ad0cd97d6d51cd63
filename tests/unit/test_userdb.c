/* test_userdb.c - the user database writer and reader APIs (userdb.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_userdb_fx.h"
#include "uidmap.h"
#include "userdb.h"
#include "userdb_format.h"

#define OID1 "11111111-2222-4333-8444-555555555555"
#define OID2 "21111111-2222-4333-8444-555555555555"
#define OID3 "31111111-2222-4333-8444-555555555555"
#define OID4 "41111111-2222-4333-8444-555555555555"

/* A distinct oid per i (one name per directory object). */
static void oid_n(unsigned i, char buf[37])
{
	snprintf(buf, 37, "%08x-2222-4333-8444-555555555555", 0x50000000u + i);
}

static int setup_range(void **state, const char *extra)
{
	return udb_fx_setup(state, "/tmp/udb-test-XXXXXX", "contoso.com, fabrikam.example", extra);
}

static int setup(void **state)
{
	return setup_range(state, "");
}

static int setup_small(void **state)
{
	return setup_range(state, "uid_min = 5000\nuid_max = 6000\n");
}

/* Look a user up through the reader API; returns the lookup's code. */
static int get(struct fx *fx, const char *name, struct udb_user *u, char *display, size_t dlen)
{
	struct udb *db = NULL;
	int r = udb_open(fx->cfg, &db);

	if (r < 0)
		return r;
	r = udb_lookup_name(db, name, u);
	if (r == 0) {
		struct udb_user v;

		assert_int_equal(udb_lookup_uid(db, u->uid, &v), 0);
		assert_string_equal(v.name, name);
		if (display)
			snprintf(display, dlen, "%s", u->display_name);
		u->name = NULL;
		u->display_name = NULL;
	}
	udb_close(db);
	return r;
}

static void test_udb_record_login_new_user_gets_mapped_uid(void **state)
{
	struct fx *fx = *state;
	struct uidmap_local *local = NULL;
	struct udb_user u;
	uint32_t uid = 0, want = 0;
	char disp[300], oid[37];
	struct stat st;
	char path[128];

	assert_int_equal(uidmap_local_load(UIDMAP_PASSWD, UIDMAP_GROUP, &local), 0);
	assert_int_equal(uidmap_pick(fx->cfg, local, "alice@contoso.com", NULL, NULL, 0, &want), 0);
	uidmap_local_free(local);
	assert_int_equal(udb_record_login(fx->cfg, "alice@contoso.com", OID1, TID, "Alice A", UDB_ROLE_ADMIN, 100,
					  &uid), 0);
	assert_int_equal(uid, want);
	assert_int_equal(get(fx, "alice@contoso.com", &u, disp, sizeof(disp)), 0);
	assert_int_equal(u.uid, want);
	assert_int_equal(u.role, UDB_ROLE_ADMIN);
	assert_true(u.bound);
	assert_int_equal(u.first_login, 100);
	assert_int_equal(u.last_login, 100);
	assert_string_equal(disp, "Alice A");
	udb_guid_format(u.oid, oid);
	assert_string_equal(oid, OID1);
	snprintf(path, sizeof(path), "%s/users.db", fx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(generation(fx), 1);
}

static void test_udb_record_login_again_updates_role_and_last_login(void **state)
{
	struct fx *fx = *state;
	struct udb_user u;
	uint32_t uid1 = 0, uid2 = 0;
	char disp[300];

	assert_int_equal(udb_record_login(fx->cfg, "bob@contoso.com", OID1, TID, "Bob", UDB_ROLE_USER, 100, &uid1), 0);
	/* Upper-case GUID text is the same object. */
	assert_int_equal(udb_record_login(fx->cfg, "bob@contoso.com", "11111111-2222-4333-8444-555555555555", TID,
					  "Bob B", UDB_ROLE_ADMIN, 200, &uid2), 0);
	assert_int_equal(uid1, uid2);
	assert_int_equal(get(fx, "bob@contoso.com", &u, disp, sizeof(disp)), 0);
	assert_int_equal(u.role, UDB_ROLE_ADMIN);
	assert_int_equal(u.first_login, 100);
	assert_int_equal(u.last_login, 200);
	assert_string_equal(disp, "Bob B");
	assert_int_equal(generation(fx), 2);
}

static void test_udb_record_login_bound_other_changes_nothing(void **state)
{
	struct fx *fx = *state;
	uint32_t uid = 7;

	assert_int_equal(udb_record_login(fx->cfg, "carol@contoso.com", OID1, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	assert_int_equal(udb_record_login(fx->cfg, "carol@contoso.com", OID2, TID, "", UDB_ROLE_ADMIN, 2, &uid),
			 EL_ERR_BOUND_OTHER);
	assert_int_equal(uid, 7);
	assert_int_equal(udb_record_login(fx->cfg, "carol@contoso.com", OID1, "00000000-0000-4000-8000-000000000000",
					  "", UDB_ROLE_ADMIN, 2, &uid), EL_ERR_BOUND_OTHER);
	assert_int_equal(generation(fx), 1);
	assert_int_equal(udb_check_binding(fx->cfg, "carol@contoso.com", OID1, TID), 0);
	assert_int_equal(udb_check_binding(fx->cfg, "carol@contoso.com", OID2, TID), EL_ERR_BOUND_OTHER);
	assert_int_equal(udb_check_binding(fx->cfg, "new@contoso.com", OID2, TID), 0);
}

static void test_udb_record_login_rejects_bad_input(void **state)
{
	struct fx *fx = *state;
	static const char *const bad_names[] = { "Alice@contoso.com", "alice@evil.com", "root", "a:b@contoso.com",
						 "../x@contoso.com", "", "a b@contoso.com", "a\n@contoso.com" };

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		assert_int_equal(udb_record_login(fx->cfg, bad_names[i], OID1, TID, "", UDB_ROLE_USER, 1, NULL),
				 EL_ERR_NOT_OURS);
		assert_int_equal(udb_check_binding(fx->cfg, bad_names[i], OID1, TID), EL_ERR_NOT_OURS);
	}
	assert_int_equal(udb_record_login(fx->cfg, "x@contoso.com", "not-a-guid", TID, "", UDB_ROLE_USER, 1, NULL),
			 EL_ERR_INVAL);
	assert_int_equal(udb_record_login(fx->cfg, "x@contoso.com", OID1, NULL, "", UDB_ROLE_USER, 1, NULL),
			 EL_ERR_INVAL);
	assert_int_equal(udb_record_login(fx->cfg, "x@contoso.com", OID1, TID, "", (enum udb_role)7, 1, NULL),
			 EL_ERR_INVAL);
	assert_int_equal(udb_set_role(fx->cfg, "x@contoso.com", OID1, TID, (enum udb_role)-1, UDB_SRC_ARM), EL_ERR_INVAL);
	assert_int_equal(udb_set_role(fx->cfg, "x@contoso.com", OID1, TID, UDB_ROLE_USER, (enum udb_source)9), EL_ERR_INVAL);
	assert_int_equal(udb_set_role(fx->cfg, "x@contoso.com", "zz", TID, UDB_ROLE_USER, UDB_SRC_ARM), EL_ERR_INVAL);
	assert_int_equal(udb_check_binding(fx->cfg, "x@contoso.com", OID1, "zz"), EL_ERR_INVAL);
}

static void test_udb_set_role_changes_bound_users_only(void **state)
{
	struct fx *fx = *state;
	struct udb_user u;

	assert_int_equal(udb_set_role(fx->cfg, "dave@contoso.com", OID1, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM),
			 EL_ERR_BINDING_CHANGED);
	assert_int_equal(udb_record_login(fx->cfg, "dave@contoso.com", OID1, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	assert_int_equal(udb_set_role(fx->cfg, "dave@contoso.com", OID1, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM), 0);
	assert_int_equal(get(fx, "dave@contoso.com", &u, NULL, 0), 0);
	assert_int_equal(u.role, UDB_ROLE_ADMIN);
	assert_int_equal(u.source, UDB_SRC_ARM);
	assert_int_equal(generation(fx), 2);
	assert_int_equal(udb_set_role(fx->cfg, "dave@contoso.com", OID1, TID, UDB_ROLE_ADMIN, UDB_SRC_ARM), 0);
	assert_int_equal(generation(fx), 2);	/* unchanged: not rewritten */
	assert_int_equal(udb_forget(fx->cfg, "dave@contoso.com", false), 0);
	assert_int_equal(udb_set_role(fx->cfg, "dave@contoso.com", OID1, TID, UDB_ROLE_USER, UDB_SRC_ARM),
			 EL_ERR_BINDING_CHANGED);
}

static void test_udb_forget_keeps_uid_purge_frees_it(void **state)
{
	struct fx *fx = *state;
	struct udb_user u;
	uint32_t uid = 0, uid2 = 0;
	char disp[300];

	assert_int_equal(udb_forget(fx->cfg, "erin@contoso.com", false), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_record_login(fx->cfg, "erin@contoso.com", OID1, TID, "Erin", UDB_ROLE_ADMIN, 5, &uid), 0);
	assert_int_equal(udb_forget(fx->cfg, "erin@contoso.com", false), 0);
	assert_int_equal(get(fx, "erin@contoso.com", &u, disp, sizeof(disp)), 0);
	assert_false(u.bound);
	assert_int_equal(u.role, UDB_ROLE_NONE);
	assert_int_equal(u.uid, uid);
	assert_string_equal(disp, "");
	/* Forgotten (issue 19): blocked, the old oid kept; nobody binds it, not
	 * even the same object, until an administrator unblocks or releases. */
	assert_true(u.blocked);
	assert_int_equal(udb_check_binding(fx->cfg, "erin@contoso.com", OID2, TID), EL_ERR_NAME_BLOCKED);
	assert_int_equal(udb_record_login(fx->cfg, "erin@contoso.com", OID2, TID, "E2", UDB_ROLE_USER, 9, &uid2),
			 EL_ERR_NAME_BLOCKED);
	assert_int_equal(udb_record_login(fx->cfg, "erin@contoso.com", OID1, TID, "E", UDB_ROLE_USER, 9, &uid2),
			 EL_ERR_NAME_BLOCKED);
	/* Unblocked: the same object comes back with its uid; another one does not. */
	assert_int_equal(udb_block(fx->cfg, "erin@contoso.com", false), 0);
	assert_int_equal(udb_record_login(fx->cfg, "erin@contoso.com", OID2, TID, "E2", UDB_ROLE_USER, 9, &uid2),
			 EL_ERR_NAME_RETIRED);
	assert_int_equal(udb_record_login(fx->cfg, "erin@contoso.com", OID1, TID, "E", UDB_ROLE_USER, 9, &uid2), 0);
	assert_int_equal(uid2, uid);
	assert_int_equal(get(fx, "erin@contoso.com", &u, NULL, 0), 0);
	assert_int_equal(u.first_login, 9);
	/* Purged: a tombstone, the uid still reserved. */
	assert_int_equal(udb_forget(fx->cfg, "erin@contoso.com", true), 0);
	assert_int_equal(get(fx, "erin@contoso.com", &u, NULL, 0), 0);
	assert_true(u.retired);
	assert_int_equal(u.uid, uid);
	assert_int_equal(udb_forget(fx->cfg, "erin@contoso.com", true), 0);	/* already */
	assert_int_equal(udb_forget(fx->cfg, "nobody@contoso.com", true), EL_ERR_NOT_FOUND);
}

static void test_udb_collision_probes_to_next_uid(void **state)
{
	struct fx *fx = *state;
	char a[64] = "", b[64] = "";
	uint32_t ua = 0, ub = 0, uc = 0;

	/* Two names with the same home slot in a 1001-id range. */
	for (int i = 0; i < 100000 && !b[0]; i++) {
		snprintf(b, sizeof(b), "p%d@contoso.com", i);
		for (int j = 0; j < i; j++) {
			snprintf(a, sizeof(a), "p%d@contoso.com", j);
			if (uidmap_hash(a) % 1001 == uidmap_hash(b) % 1001)
				goto found;
		}
		b[0] = '\0';
	}
	fail_msg("no collision found");
found:
	assert_int_equal(udb_record_login(fx->cfg, a, OID1, TID, "", UDB_ROLE_USER, 1, &ua), 0);
	assert_int_equal(udb_record_login(fx->cfg, b, OID2, TID, "", UDB_ROLE_USER, 1, &ub), 0);
	assert_int_equal(ub, ua == 6000 ? 5000 : ua + 1);
	/* Forgetting a keeps its id reserved; after release, another object
	 * under a gets a fresh one, never ua. */
	assert_int_equal(udb_forget(fx->cfg, a, false), 0);
	assert_int_equal(udb_release(fx->cfg, a, NULL), 0);
	assert_int_equal(udb_record_login(fx->cfg, a, OID3, TID, "", UDB_ROLE_USER, 1, &uc), 0);
	assert_int_not_equal(uc, ua);
	assert_int_not_equal(uc, ub);
}

/* The UID NSS announces for a name the database does not know yet. */
static uint32_t provisional(struct fx *fx, const char *name)
{
	struct udb *db = NULL;
	uint32_t uid = 0;
	int r = udb_open(fx->cfg, &db);

	assert_true(r == 0 || r == EL_ERR_NOT_FOUND);
	/* The slot of the name, then the next free ones: uidmap_pick does the probing. */
	assert_int_equal(uidmap_pick(fx->cfg, NULL, name, NULL, NULL, 0, &uid), 0);
	while (db) {
		struct udb_user u;

		if (udb_lookup_uid(db, uid, &u) != 0)
			break;
		uid = uid == fx->cfg->uid_max ? fx->cfg->uid_min : uid + 1;
	}
	udb_close(db);
	return uid;
}

static void test_udb_record_login_expect_refuses_a_uid_taken_meanwhile(void **state)
{
	struct fx *fx = *state;
	char thief[64] = "";
	uint32_t announced, ut = 0, ub = 0, again;
	struct udb_user u;
	uint64_t gen;

	assert_int_equal(udb_record_login(fx->cfg, "first@contoso.com", OID1, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	/* NSS announces bob's provisional UID to sshd... */
	announced = provisional(fx, "bob@contoso.com");
	/* ...then another first login whose name hashes to the same slot takes it. */
	for (int i = 0; i < 100000 && !thief[0]; i++) {
		snprintf(thief, sizeof(thief), "t%d@contoso.com", i);
		if (uidmap_hash(thief) % 1001 != announced - 5000)
			thief[0] = '\0';
	}
	assert_true(thief[0]);
	assert_int_equal(udb_record_login(fx->cfg, thief, OID2, TID, "", UDB_ROLE_USER, 2, &ut), 0);
	assert_int_equal(ut, announced);
	gen = generation(fx);
	/* bob's login must not be recorded under the next free UID. */
	assert_int_equal(udb_record_login_expect(fx->cfg, "bob@contoso.com", "31111111-2222-4333-8444-555555555555", TID,
						 "", UDB_ROLE_USER, 3, announced, &ub),
			 EL_ERR_UID_CHANGED);
	assert_int_equal(ub, 0);
	assert_int_equal(generation(fx), gen);	/* nothing written */
	assert_int_equal(get(fx, "bob@contoso.com", &u, NULL, 0), EL_ERR_NOT_FOUND);
	assert_non_null(strstr(el_strerror(EL_ERR_UID_CHANGED), "retry"));
	/* A retry sees the new provisional UID and succeeds with it. */
	again = provisional(fx, "bob@contoso.com");
	assert_int_not_equal(again, announced);
	assert_int_equal(udb_record_login_expect(fx->cfg, "bob@contoso.com", "31111111-2222-4333-8444-555555555555", TID,
						 "", UDB_ROLE_USER, 4, again, &ub),
			 0);
	assert_int_equal(ub, again);
	/* Known users: the expectation is their recorded UID; 0 = none. */
	assert_int_equal(udb_record_login_expect(fx->cfg, thief, OID2, TID, "", UDB_ROLE_USER, 5, ut + 1, NULL),
			 EL_ERR_UID_CHANGED);
	assert_int_equal(udb_record_login_expect(fx->cfg, thief, OID2, TID, "", UDB_ROLE_USER, 5, ut, NULL), 0);
	assert_int_equal(udb_record_login_expect(fx->cfg, thief, OID2, TID, "", UDB_ROLE_USER, 6, 0, NULL), 0);
}

static void test_udb_unsafe_state_dir_is_refused(void **state)
{
	struct fx *fx = *state;
	struct udb *db = NULL;
	struct udb_user u;
	char path[128];
	struct stat st;

	/* The first write into an unsafe directory creates nothing there. */
	assert_int_equal(chmod(fx->dir, 0777), 0);
	assert_int_equal(udb_record_login(fx->cfg, "alice@contoso.com", OID1, TID, "", UDB_ROLE_USER, 1, NULL),
			 EL_ERR_INSECURE);
	snprintf(path, sizeof(path), "%s/users.lock", fx->dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/users.db", fx->dir);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(chmod(fx->dir, 0755), 0);
	assert_int_equal(udb_record_login(fx->cfg, "alice@contoso.com", OID1, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	for (int i = 0; i < 3; i++) {
		if (i < 2) {
			assert_int_equal(chmod(fx->dir, i == 0 ? 0777 : 0775), 0);
		} else {
			assert_int_equal(chmod(fx->dir, 0755), 0);
			assert_int_equal(chown(fx->dir, 1000, 1000), 0);
		}
		/* Readers and the writer: whoever can write the directory can swap users.db. */
		assert_int_equal(udb_open(fx->cfg, &db), EL_ERR_INSECURE);
		assert_int_equal(udb_record_login(fx->cfg, "bob@contoso.com", OID2, TID, "", UDB_ROLE_USER, 1, NULL),
				 EL_ERR_INSECURE);
		assert_int_equal(chown(fx->dir, 0, 0), 0);
		assert_int_equal(chmod(fx->dir, 0755), 0);
	}
	assert_int_equal(get(fx, "alice@contoso.com", &u, NULL, 0), 0);
	assert_int_equal(get(fx, "bob@contoso.com", &u, NULL, 0), EL_ERR_NOT_FOUND);
}

static int collect(const struct udb_user *u, void *userdata)
{
	char *out = userdata;

	strcat(out, u->name);
	strcat(out, u->role == UDB_ROLE_ADMIN ? "=A " : u->role == UDB_ROLE_USER ? "=U " : "=N ");
	return strcmp(u->name, "stop@contoso.com") == 0 ? EL_ERR_ABORTED : 0;
}

static void test_udb_foreach_and_groups_in_name_order(void **state)
{
	struct fx *fx = *state;
	const struct udb_login logins[] = {
		{ "zed@contoso.com", OID1, TID, "", UDB_ROLE_USER },
		{ "amy@fabrikam.example", OID2, TID, "", UDB_ROLE_ADMIN },
		{ "mid@contoso.com", OID3, TID, "", UDB_ROLE_NONE },
		{ "ann@contoso.com", OID4, TID, "", UDB_ROLE_ADMIN },
	};
	struct udb *db = NULL;
	struct udb_user u;
	char out[512] = "";

	assert_int_equal(udb_foreach(fx->cfg, collect, out), 0);	/* no database yet */
	assert_string_equal(out, "");
	assert_int_equal(udb_record_logins(fx->cfg, logins, 4, 50), 0);
	assert_int_equal(udb_foreach(fx->cfg, collect, out), 0);
	assert_string_equal(out, "amy@fabrikam.example=A ann@contoso.com=A mid@contoso.com=N zed@contoso.com=U ");
	assert_int_equal(udb_open(fx->cfg, &db), 0);
	assert_int_equal(udb_group_count(db, UDB_GROUP_ADMINS), 2);
	assert_int_equal(udb_group_count(db, UDB_GROUP_USERS), 3);
	assert_int_equal(udb_group_get(db, UDB_GROUP_ADMINS, 1, &u), 0);
	assert_string_equal(u.name, "ann@contoso.com");
	assert_int_equal(udb_group_get(db, UDB_GROUP_USERS, 2, &u), 0);
	assert_string_equal(u.name, "zed@contoso.com");
	assert_int_equal(udb_group_get(db, UDB_GROUP_USERS, 3, &u), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_get(db, 4, &u), EL_ERR_NOT_FOUND);
	udb_close(db);
	assert_int_equal(udb_record_login(fx->cfg, "stop@contoso.com", "61111111-2222-4333-8444-555555555555", TID, "", UDB_ROLE_USER, 1, NULL), 0);
	out[0] = '\0';
	assert_int_equal(udb_foreach(fx->cfg, collect, out), EL_ERR_ABORTED);
	assert_string_equal(out, "amy@fabrikam.example=A ann@contoso.com=A mid@contoso.com=N stop@contoso.com=U ");
}

static void test_udb_record_logins_all_or_nothing(void **state)
{
	struct fx *fx = *state;
	const struct udb_login logins[] = {
		{ "one@contoso.com", OID1, TID, "", UDB_ROLE_USER },
		{ "one@contoso.com", OID2, TID, "", UDB_ROLE_USER },
	};
	struct udb *db = NULL;

	assert_int_equal(udb_record_logins(fx->cfg, logins, 2, 1), EL_ERR_BOUND_OTHER);
	assert_int_equal(udb_open(fx->cfg, &db), EL_ERR_NOT_FOUND);
}

static void test_udb_display_name_sanitized_and_capped(void **state)
{
	struct fx *fx = *state;
	char long_name[600], disp[600];
	struct udb_user u;

	assert_int_equal(udb_record_login(fx->cfg, "g@contoso.com", OID1, TID, "a:b\nc\td\x7f", UDB_ROLE_USER, 1, NULL),
			 0);
	assert_int_equal(get(fx, "g@contoso.com", &u, disp, sizeof(disp)), 0);
	assert_string_equal(disp, "a b c d ");
	/* 255 'x' then a 2-byte UTF-8 character that would straddle the cap. */
	memset(long_name, 'x', 255);
	strcpy(long_name + 255, "\xc3\xa9tail");
	assert_int_equal(udb_record_login(fx->cfg, "g@contoso.com", OID1, TID, long_name, UDB_ROLE_USER, 1, NULL), 0);
	assert_int_equal(get(fx, "g@contoso.com", &u, disp, sizeof(disp)), 0);
	assert_int_equal(strlen(disp), 255);
}

static void test_udb_concurrent_writers_lose_nothing(void **state)
{
	struct fx *fx = *state;
	enum { PROCS = 12, EACH = 4 };
	struct udb *db = NULL;
	struct udb_user u;
	pid_t pids[PROCS];

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			for (int i = 0; i < EACH; i++) {
				char name[64], oid[37];

				snprintf(name, sizeof(name), "c%d-%d@contoso.com", p, i);
				oid_n((unsigned)(p * EACH + i), oid);
				if (udb_record_login(fx->cfg, name, oid, TID, "", UDB_ROLE_USER, 1, NULL) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status = 0;

		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(udb_open(fx->cfg, &db), 0);
	assert_int_equal(udb_count(db), PROCS * EACH);
	assert_int_equal(udb_generation(db), PROCS * EACH);
	for (int p = 0; p < PROCS; p++) {
		for (int i = 0; i < EACH; i++) {
			char name[64];

			snprintf(name, sizeof(name), "c%d-%d@contoso.com", p, i);
			assert_int_equal(udb_lookup_name(db, name, &u), 0);
		}
	}
	udb_close(db);
}

static void test_udb_superseded_after_rewrite(void **state)
{
	struct fx *fx = *state;
	struct udb *old = NULL, *db = NULL;

	assert_int_equal(udb_record_login(fx->cfg, "h@contoso.com", OID1, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	assert_int_equal(udb_open(fx->cfg, &old), 0);
	assert_false(udb_superseded(old));
	assert_int_equal(udb_record_login(fx->cfg, "i@contoso.com", OID2, TID, "", UDB_ROLE_USER, 1, NULL), 0);
	assert_true(udb_superseded(old));
	assert_int_equal(udb_open(fx->cfg, &db), 0);
	assert_false(udb_superseded(db));
	assert_int_equal(udb_count(old), 1);	/* still readable, still consistent */
	assert_int_equal(udb_count(db), 2);
	udb_close(old);
	udb_close(db);
}

static void test_udb_many_users_all_found_by_name_and_uid(void **state)
{
	struct fx *fx = *state;
	enum { N = 20000 };
	struct udb_login *l = calloc(N, sizeof(*l));
	char (*names)[32] = calloc(N, 32), (*oids)[37] = calloc(N, 37);
	struct udb *db = NULL;
	struct udb_user u, v;
	uint32_t prev = 0;

	for (int i = 0; i < N; i++) {
		snprintf(names[i], 32, "m%05d@contoso.com", i);
		oid_n((unsigned)i, oids[i]);
		l[i] = (struct udb_login){ names[i], oids[i], TID, "M", i % 3 ? UDB_ROLE_USER : UDB_ROLE_ADMIN };
	}
	assert_int_equal(udb_record_logins(fx->cfg, l, N, 1), 0);
	assert_int_equal(udb_open(fx->cfg, &db), 0);
	assert_int_equal(udb_count(db), N);
	assert_int_equal(udb_group_count(db, UDB_GROUP_ADMINS), (N + 2) / 3);
	for (int i = 0; i < N; i++) {
		assert_int_equal(udb_lookup_name(db, names[i], &u), 0);
		assert_int_equal(udb_lookup_uid(db, u.uid, &v), 0);
		assert_string_equal(v.name, names[i]);
		assert_int_equal(udb_get(db, (uint32_t)i, &v), 0);	/* name order */
		assert_string_equal(v.name, names[i]);
		assert_true(u.uid != prev);
		prev = u.uid;
	}
	assert_int_equal(udb_lookup_name(db, "nobody@contoso.com", &u), EL_ERR_NOT_FOUND);
	assert_int_equal(udb_lookup_uid(db, 42, &u), EL_ERR_NOT_FOUND);
	udb_close(db);
	free(l);
	free(names);
	free(oids);
}

static void test_udb_guid_and_role_helpers(void **state)
{
	uint8_t g[16];
	char buf[37];
	enum udb_role role;

	(void)state;
	assert_int_equal(udb_guid_parse("6E2D6A5C-7F3B-4A8E-9C41-2B5D8F0E1A37", g), 0);
	udb_guid_format(g, buf);
	assert_string_equal(buf, TID);
	assert_int_equal(udb_guid_parse("6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a3", g), EL_ERR_INVAL);
	assert_int_equal(udb_guid_parse("6e2d6a5c-7f3b-4a8e-9c41_2b5d8f0e1a37", g), EL_ERR_INVAL);
	assert_int_equal(udb_guid_parse("6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a3g", g), EL_ERR_INVAL);
	assert_int_equal(udb_role_parse("admin", &role), 0);
	assert_int_equal(role, UDB_ROLE_ADMIN);
	assert_int_equal(udb_role_parse("Admin", &role), EL_ERR_INVAL);
	assert_string_equal(udb_role_name(UDB_ROLE_NONE), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udb_record_login_new_user_gets_mapped_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_record_login_again_updates_role_and_last_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_record_login_bound_other_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_record_login_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_set_role_changes_bound_users_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_forget_keeps_uid_purge_frees_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_collision_probes_to_next_uid, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_udb_record_login_expect_refuses_a_uid_taken_meanwhile, setup_small,
						teardown),
		cmocka_unit_test_setup_teardown(test_udb_unsafe_state_dir_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_foreach_and_groups_in_name_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_record_logins_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_display_name_sanitized_and_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_concurrent_writers_lose_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_superseded_after_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udb_many_users_all_found_by_name_and_uid, setup, teardown),
		cmocka_unit_test(test_udb_guid_and_role_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
