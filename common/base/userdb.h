/* userdb.h - the user database: which directory names this host knows,
 * bound to which Entra object (oid + tid), with which UID and role.
 *
 * One file, <state_dir>/users.db (layout in userdb_format.h), plus a lock
 * file <state_dir>/users.lock. Writers (PAM, the CLI; root only) take an
 * exclusive flock on the lock file, read the current file, and replace it
 * whole (temp file, fsync, rename), so concurrent logins never lose an
 * update. Readers (NSS in every process) map the file read-only without
 * locks: a rename never tears what they mapped. After each replacement
 * the writer increments the 8-byte counter in <state_dir>/users.stamp,
 * which every reader maps, so a process sees a new file on its next call
 * (one memory read), without a system call.
 *
 * A file that is not a regular file, not owned by root, writable by group
 * or others, larger than EL_USERDB_SIZE_MAX, or fails any structural or
 * checksum test is never used: readers get EL_ERR_INSECURE/EL_ERR_CORRUPT
 * and writers refuse to overwrite it (bindings are security state).
 *
 * The only in-place writes are the "superseded" word of a file that has
 * just been replaced and the counter in users.stamp.
 *
 * Backup and restore (README "Backing up the user database"): never
 * truncate or edit users.db in place (`cp backup users.db`, an editor):
 * copy the backup next to it and rename it over (`cp backup users.db.new
 * && mv users.db.new users.db`). Readers copy a file of up to UDB_COPY_MAX
 * bytes (2 MiB, about 14,000 users) into private memory, so an in-place
 * write cannot crash them (they see a corrupt file, UNAVAIL, until it is
 * whole again); a larger file is mapped shared (it would cost every process
 * its size in memory otherwise), and cutting it short in place makes
 * every process that maps it fault (SIGBUS). Checking the size on every
 * lookup would cost an fstat (about 150 ns, more than the lookup itself).
 *
 * libc only. Reader calls on one struct udb are thread-safe (it is
 * read-only); writer calls are safe across threads and processes.
 */
#ifndef EL_USERDB_H
#define EL_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "err.h"

#define UDB_FILE "users.db"
#define UDB_LOCK_FILE "users.lock"
#define UDB_STAMP_FILE "users.stamp"	/* u64 count of writes, mapped by readers */
#define UDB_COPY_MAX (2u << 20)		/* readers copy files up to this size */
#define UDB_LOCK_TIMEOUT_MS 15000	/* a writer waits this long for the lock */

enum udb_role { UDB_ROLE_NONE, UDB_ROLE_USER, UDB_ROLE_ADMIN };
enum udb_group { UDB_GROUP_ADMINS, UDB_GROUP_USERS };	/* aad_admins, aad_users */

/* One user as stored. The strings are borrowed from the mapping (or, in a
 * udb_foreach callback, valid only during the call). */
struct udb_user {
	const char *name;		/* lower-case UPN, NUL-terminated */
	const char *display_name;	/* may be "", sanitized: no ':' or control bytes */
	uint32_t uid;			/* = gid of the user-private group */
	enum udb_role role;		/* UDB_ROLE_NONE when not bound */
	bool bound;			/* false: forgotten, name keeps its uid */
	uint8_t oid[16], tid[16];	/* zero when not bound */
	int64_t first_login, last_login;	/* Unix seconds, 0 = never */
};

struct udb;

/* ---- reading (NSS, PAM, CLI) ---- */

/* Path of the database for cfg into buf. Returns 0 or EL_ERR_RANGE. */
int udb_path(const struct el_config *cfg, char *buf, size_t buflen) EL_MUST_CHECK;

/* Map and validate a database file. On success *ret_db is set; close it
 * with udb_close(). Returns 0, EL_ERR_NOT_FOUND (no such file),
 * EL_ERR_INSECURE (owner, mode, not a regular file), EL_ERR_CORRUPT
 * (size, magic, version, offsets, header checksum), EL_ERR_IO, EL_ERR_NOMEM. */
int udb_open_path(const char *path, struct udb **ret_db) EL_MUST_CHECK;
/* Same for cfg's database. */
int udb_open(const struct el_config *cfg, struct udb **ret_db) EL_MUST_CHECK;
void udb_close(struct udb *db);		/* accepts NULL */

/* Look a user up by exact name or by uid; fills *ret (borrowed strings).
 * Returns 0, EL_ERR_NOT_FOUND, EL_ERR_CORRUPT (a record or table entry
 * failed its checks: treat the whole database as unusable). */
int udb_lookup_name(const struct udb *db, const char *name, struct udb_user *ret) EL_MUST_CHECK;
int udb_lookup_uid(const struct udb *db, uint32_t uid, struct udb_user *ret) EL_MUST_CHECK;

/* Users in name order: udb_get(db, i) for i < udb_count(db).
 * Returns 0, EL_ERR_NOT_FOUND (i out of range), EL_ERR_CORRUPT. */
uint32_t udb_count(const struct udb *db);
int udb_get(const struct udb *db, uint32_t i, struct udb_user *ret) EL_MUST_CHECK;

/* Members of a role group in name order (admins: role admin; users: role
 * admin or user). Same returns as udb_get. */
uint32_t udb_group_count(const struct udb *db, enum udb_group group);
int udb_group_get(const struct udb *db, enum udb_group group, uint32_t i, struct udb_user *ret) EL_MUST_CHECK;

/* True once a writer has replaced this file: reopen to see the new state.
 * One memory read; readers poll it on every call. */
bool udb_superseded(const struct udb *db);
/* Number of writes that led to this file. */
uint64_t udb_generation(const struct udb *db);

/* GUID helpers: parse 8-4-4-4-12 hex (either case) into 16 bytes in text
 * order (0 or EL_ERR_INVAL); format as lower-case text into buf[37]. */
int udb_guid_parse(const char *s, uint8_t ret_guid[16]) EL_MUST_CHECK;
void udb_guid_format(const uint8_t guid[16], char buf[37]);

/* "none", "user", "admin"; parse the same words (0 or EL_ERR_INVAL). */
const char *udb_role_name(enum udb_role role);
int udb_role_parse(const char *s, enum udb_role *ret_role) EL_MUST_CHECK;

/* ---- writing (PAM, CLI; root) ----
 * Each call validates its inputs, takes the lock (EL_ERR_LOCK after
 * UDB_LOCK_TIMEOUT_MS), re-reads the file, writes the new one, releases.
 * Besides the codes listed: EL_ERR_NOT_OURS (name fails name_is_ours or
 * exists in /etc/passwd or /etc/group), EL_ERR_INVAL (bad oid/tid/role),
 * EL_ERR_CORRUPT/EL_ERR_INSECURE (existing file unusable: nothing is
 * written), EL_ERR_IO, EL_ERR_NOMEM, EL_ERR_FULL (no UID left, or
 * EL_USERDB_USERS_MAX reached). */

/* A login was accepted: bind name to oid+tid on its first login (assigning
 * its UID, or reusing the UID it kept when it was forgotten), then set role,
 * display name (sanitized and capped at UDB_DISPLAY_MAX bytes) and last
 * login = now. *ret_uid (may be NULL) gets the user's UID.
 * Returns 0 or EL_ERR_BOUND_OTHER (name bound to another oid/tid: nothing
 * changed). */
int udb_record_login(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
		     const char *display_name, enum udb_role role, int64_t now, uint32_t *ret_uid) EL_MUST_CHECK;

/* The same, for a login whose user NSS already announced with expect_uid
 * (getpwnam before authentication gives a provisional UID for a first
 * login; sshd sets the session up with it). If the user's UID in the
 * database, as found or as it would be assigned now, is not expect_uid
 * (another first login took it meanwhile), nothing is written and the
 * call returns EL_ERR_UID_CHANGED: the login must fail and be retried, it
 * must never run as the UID announced. expect_uid 0 = no expectation (=
 * udb_record_login). */
int udb_record_login_expect(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
			    const char *display_name, enum udb_role role, int64_t now, uint32_t expect_uid,
			    uint32_t *ret_uid) EL_MUST_CHECK;

/* Several logins in one write (imports, tests, benchmarks): all or none. */
struct udb_login {
	const char *name, *oid, *tid, *display_name;
	enum udb_role role;
};
int udb_record_logins(const struct el_config *cfg, const struct udb_login *logins, size_t n,
		      int64_t now) EL_MUST_CHECK;

/* Read-only check before a login is accepted: 0 if name is unknown,
 * forgotten, or bound to this oid+tid; EL_ERR_BOUND_OTHER if bound to
 * another. No lock (the login itself re-checks under the lock). */
int udb_check_binding(const struct el_config *cfg, const char *name, const char *oid,
		      const char *tid) EL_MUST_CHECK;

/* Change a bound user's role (refresh). EL_ERR_NOT_FOUND if the name is
 * unknown or not bound. Writes nothing when the role is unchanged. */
int udb_set_role(const struct el_config *cfg, const char *name, enum udb_role role) EL_MUST_CHECK;

/* Forget a user: drop the binding, display name and role; the name keeps
 * its UID (so files it owns never change hands) unless purge, which removes
 * the entry and frees the UID. EL_ERR_NOT_FOUND if the name is unknown. */
int udb_forget(const struct el_config *cfg, const char *name, bool purge) EL_MUST_CHECK;

/* Call cb for each user in name order on a consistent snapshot, without
 * the lock (cb may take long, e.g. resolve roles over the network, and
 * then call udb_set_role). Stops at and returns cb's first negative value;
 * otherwise 0. A missing database is empty (0, no call). */
int udb_foreach(const struct el_config *cfg, int (*cb)(const struct udb_user *user, void *userdata),
		void *userdata) EL_MUST_CHECK;

#endif
