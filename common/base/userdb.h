/* userdb.h - the user database: which directory names this host knows,
 * bound to which Entra object (oid + tid), with which UID and role.
 *
 * One file, <state_dir>/users.db (layout in userdb_format.h), plus a lock
 * file <state_dir>/users.lock. Writers (PAM, the CLI; root only) take an
 * exclusive flock on the lock file, read the current file, and replace it
 * whole (temp file, fsync, rename), so concurrent logins never lose an
 * update. Readers (NSS in every process) map the file shared and read-only
 * without locks, never copy it, and verify at open only its header: a
 * process's first lookup costs the same with 10 or 100,000 users, and only
 * the pages a lookup touches are read. A rename never tears what they
 * mapped. After each replacement the writer sets the "superseded" word of
 * the old file in place, which every reader checks on each call (one
 * memory read), so a process sees a new file on its next call.
 *
 * <state_dir>/users.stamp, the write counter readers of format 2 mapped
 * (a copied file could not show the superseded word), is neither read nor
 * written any more: such readers cannot read a format 3 file anyway (they
 * refuse it until their process restarts), so counting on for them would
 * gain nothing. A leftover stamp is harmless and may be deleted.
 *
 * A file that is not a regular file, not owned by root, writable by group
 * or others, larger than EL_USERDB_SIZE_MAX, or fails any structural or
 * checksum test is never used: readers get EL_ERR_INSECURE/EL_ERR_CORRUPT
 * and writers refuse to overwrite it (bindings are security state).
 *
 * The only in-place write is the "superseded" word of a file that has just
 * been replaced.
 *
 * Backup and restore (README "The state directory: caches, user database, backups"): never
 * truncate or edit users.db in place (`cp backup users.db`, an editor):
 * copy the backup next to it and rename it over (`cp backup users.db.new
 * && mv users.db.new users.db`). As with SSSD's memory cache (sss_cache(8):
 * the file is mapped by every process, so it cannot be truncated), cutting
 * the file short in place under a process that maps it makes that process
 * fault (SIGBUS) on its next lookup: unsupported. A process that opens the
 * file while it is cut short refuses it (its size must be the header's:
 * EL_ERR_CORRUPT, UNAVAIL) until it is whole again. Checking the size on
 * every lookup would cost an fstat (about 150 ns, more than the lookup
 * itself).
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
#include "el_limits.h"
#include "err.h"

#define UDB_FILE "users.db"
#define UDB_LOCK_FILE "users.lock"
#define UDB_LOCK_TIMEOUT_MS 15000	/* a writer gives up after this long without progress */
#define UDB_LOCK_MAX_WAIT_MS 60000	/* ... and after this long however busy the database */
#define UDB_PINNED_ID_MIN 1000u	/* a pinned (imported) uid below this is a system id: refused */

enum udb_role { UDB_ROLE_NONE, UDB_ROLE_USER, UDB_ROLE_ADMIN };
enum udb_group { UDB_GROUP_ADMINS, UDB_GROUP_USERS };	/* aad_admins, aad_users */
/* Which role source decided a stored role: the same numbers as
 * enum el_role_source (conf.h). UNKNOWN: a version 1/2 record, or a role
 * written without a source; the token-free claims source never answers for
 * it (roles.h). */
enum udb_source { UDB_SRC_UNKNOWN = 0, UDB_SRC_CLAIMS = 1, UDB_SRC_STATIC = 2, UDB_SRC_ARM = 3, UDB_SRC_GROUPS = 4 };
#define UDB_SRC_MAX UDB_SRC_GROUPS
_Static_assert((int)UDB_SRC_CLAIMS == (int)EL_SRC_CLAIMS && (int)UDB_SRC_STATIC == (int)EL_SRC_STATIC &&
		       (int)UDB_SRC_ARM == (int)EL_SRC_ARM && (int)UDB_SRC_GROUPS == (int)EL_SRC_GROUPS,
	       "role sources are stored with the numbers of enum el_role_source");
#define UDB_RESERVED_PREFIX '#'	/* "#<uid>": a released name's uid, kept reserved */

/* One user as stored. The strings are borrowed from the mapping (or, in a
 * udb_foreach callback, valid only during the call). */
struct udb_user {
	const char *name;		/* lower-case UPN, NUL-terminated */
	const char *display_name;	/* may be "", sanitized: no ':' or control bytes */
	uint32_t uid;			/* = gid of the user-private group */
	enum udb_role role;		/* UDB_ROLE_NONE when not bound */
	enum udb_source source;		/* who decided role */
	bool bound;			/* false: forgotten, name keeps its uid */
	bool blocked;			/* every login refused until unblock (forget sets it) */
	bool retired;			/* tombstone (rename, forget --purge, or a "#uid"
					 * reservation): never answered, never bound again
					 * until released; uid 0 when its uid moved on */
	bool pinned;			/* uid imported (import-aadpasswd): may lie
					 * outside uid_min..uid_max, never below
					 * UDB_PINNED_ID_MIN; gid = uid as for all */
	const char *home, *shell;	/* "" = from the configuration (template,
					 * shell); else kept from an import or a
					 * rename --keep-home */
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
 * (size, magic, version, offsets, header checksum), EL_ERR_NEWER_FORMAT
 * (our magic, a version newer than this build writes: a later package's
 * file, refused whole, never misread), EL_ERR_IO, EL_ERR_NOMEM. */
int udb_open_path(const char *path, struct udb **ret_db) EL_MUST_CHECK;
/* Same for cfg's database. */
int udb_open(const struct el_config *cfg, struct udb **ret_db) EL_MUST_CHECK;
void udb_close(struct udb *db);		/* accepts NULL */

/* Look a user up by exact name or by uid; fills *ret (borrowed strings).
 * Returns 0, EL_ERR_NOT_FOUND, EL_ERR_CORRUPT (a record or table entry
 * failed its checks: treat the whole database as unusable). */
int udb_lookup_name(const struct udb *db, const char *name, struct udb_user *ret) EL_MUST_CHECK;
int udb_lookup_uid(const struct udb *db, uint32_t uid, struct udb_user *ret) EL_MUST_CHECK;

/* The bound user whose oid+tid these are (16-byte GUIDs): 0 and *ret,
 * EL_ERR_NOT_FOUND, EL_ERR_CORRUPT. A scan of every record: for login
 * refusals and the CLI, not for NSS. */
int udb_lookup_oid(const struct udb *db, const uint8_t oid[16], const uint8_t tid[16],
		   struct udb_user *ret) EL_MUST_CHECK;

/* True if a record of db pins home (exactly) as its home: a scan, for a
 * name's first binding (NSS's provisional entry, the writer), never for
 * users the database knows. Such a name is given "<home>.<uid>" instead
 * (rename --keep-home, or release, keeps the old path with its owner). */
bool udb_home_pinned(const struct udb *db, const char *home);

/* Users in name order: udb_get(db, i) for i < udb_count(db).
 * Returns 0, EL_ERR_NOT_FOUND (i out of range), EL_ERR_CORRUPT. */
uint32_t udb_count(const struct udb *db);
int udb_get(const struct udb *db, uint32_t i, struct udb_user *ret) EL_MUST_CHECK;

/* Members of a role group in name order (admins: role admin; users: role
 * admin or user). Same returns as udb_get. */
uint32_t udb_group_count(const struct udb *db, enum udb_group group);
int udb_group_get(const struct udb *db, enum udb_group group, uint32_t i, struct udb_user *ret) EL_MUST_CHECK;

/* True once a writer has replaced this file: reopen to see the new state.
 * One memory read (the superseded word); readers poll it on every call. */
bool udb_superseded(const struct udb *db);
/* Number of writes that led to this file. */
uint64_t udb_generation(const struct udb *db);

/* GUID helpers: parse 8-4-4-4-12 hex (either case) into 16 bytes in text
 * order (0 or EL_ERR_INVAL); format as lower-case text into buf[37]. */
int udb_guid_parse(const char *s, uint8_t ret_guid[16]) EL_MUST_CHECK;
void udb_guid_format(const uint8_t guid[16], char buf[37]);

/* True if s[0..n) may be a pinned home or shell: empty, or a normalized
 * absolute path other than "/" (no empty, "." or ".." component) of at
 * most UDB_PATH_MAX bytes without ':' or control bytes. */
bool udb_path_field_ok(const char *s, size_t n);

/* "none", "user", "admin"; parse the same words (0 or EL_ERR_INVAL). */
const char *udb_role_name(enum udb_role role);
int udb_role_parse(const char *s, enum udb_role *ret_role) EL_MUST_CHECK;

/* ---- writing (PAM, CLI; root) ----
 * Each call validates its inputs, takes the lock (EL_ERR_LOCK after
 * UDB_LOCK_TIMEOUT_MS in which no other writer replaced the file, or after
 * UDB_LOCK_MAX_WAIT_MS), re-reads the file, writes the new one, releases.
 * Besides the codes listed: EL_ERR_NOT_OURS (name fails name_is_ours or
 * exists in /etc/passwd or /etc/group), EL_ERR_INVAL (bad oid/tid/role),
 * EL_ERR_CORRUPT/EL_ERR_INSECURE (existing file unusable: nothing is
 * written), EL_ERR_IO, EL_ERR_NOMEM, EL_ERR_FULL (no UID left, or
 * EL_USERDB_USERS_MAX reached). */

/* A login was accepted: bind name to oid+tid on its first login (assigning
 * its UID, or reusing the UID it kept when it was forgotten), then set role,
 * display name (sanitized and capped at UDB_DISPLAY_MAX bytes) and last
 * login = now. *ret_uid (may be NULL) gets the user's UID.
 * Returns 0, EL_ERR_BOUND_OTHER (name bound to another oid/tid: nothing
 * changed) or EL_ERR_OID_OTHER_NAME (oid+tid already bound to another
 * name: one name per directory object; nothing changed - an admin renames
 * with udb_rename / `entra-login rename OLD NEW`). */
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

/* udb_record_login_expect for one login with the source that decided its
 * role (which the token-free paths need: roles.h; the others store
 * UDB_SRC_UNKNOWN). Same returns. */
int udb_record_login_src(const struct el_config *cfg, const struct udb_login *login, enum udb_source source,
			 int64_t now, uint32_t expect_uid, uint32_t *ret_uid) EL_MUST_CHECK;

/* udb_record_login_src for a login that may proceed when only its
 * bookkeeping (last login, display name) cannot be written: if the
 * database cannot be written (no space, read-only, I/O error) and the
 * login changes no decision (same binding, same UID, same role), returns 0
 * with *ret_unsaved = EL_ERR_DB_NOSPACE / EL_ERR_DB_READONLY /
 * EL_ERR_DB_WRITE (the caller warns once); a login that needs a change (new
 * user, new binding, role change) returns that error. *ret_unsaved = 0 when
 * everything was written. */
int udb_record_login_tolerant(const struct el_config *cfg, const struct udb_login *login, enum udb_source source,
			      int64_t now, uint32_t expect_uid, uint32_t *ret_uid, int *ret_unsaved) EL_MUST_CHECK;

/* Every writer call that binds or records a login also refuses, nothing
 * written: EL_ERR_NAME_RETIRED (a tombstone: the name was renamed away or
 * purged, or it was forgotten and oid+tid is not the object it was bound
 * to: an administrator frees it with udb_release / `entra-login release`)
 * and EL_ERR_NAME_BLOCKED (blocked: udb_block / `entra-login unblock`).
 *
 * Read-only check before a login is accepted: 0 if name is unknown, bound
 * to this oid+tid, or forgotten (unblocked) from this oid+tid;
 * EL_ERR_NAME_RETIRED, EL_ERR_NAME_BLOCKED as above; EL_ERR_BOUND_OTHER if
 * bound to another; EL_ERR_OID_OTHER_NAME if oid+tid is bound to another
 * name. No lock (the login itself re-checks under the lock). */
int udb_check_binding(const struct el_config *cfg, const char *name, const char *oid,
		      const char *tid) EL_MUST_CHECK;

/* Change a bound user's role and its source (account, refresh, a refused
 * login), compare-and-set: the role was decided for oid+tid (text GUIDs),
 * maybe seconds ago (ARM calls); if name is no longer bound to exactly
 * that object, or is blocked or retired, nothing is written and the call
 * returns EL_ERR_BINDING_CHANGED (also for an unknown name). Writes
 * nothing (0) when role and source are unchanged. */
int udb_set_role(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
		 enum udb_role role, enum udb_source source) EL_MUST_CHECK;

/* Forget a user: drop the binding, display name and role and block the
 * name; the name keeps its UID and remembers the oid+tid it was bound to,
 * so neither files nor the UID ever pass to another object: only the same
 * object may come back (after udb_block(.., false)), and another needs
 * udb_release first and then gets a fresh UID. purge: retire the name
 * instead (a tombstone NSS never answers; the UID stays reserved).
 * EL_ERR_NOT_FOUND if the name is unknown. */
int udb_forget(const struct el_config *cfg, const char *name, bool purge) EL_MUST_CHECK;

/* Block (refuse every login of) or unblock a name; block also drops its
 * role (role groups). Returns 0, EL_ERR_NOT_FOUND, EL_ERR_NAME_RETIRED
 * (unblock of a tombstone: release it). */
int udb_block(const struct el_config *cfg, const char *name, bool block) EL_MUST_CHECK;

/* Free a forgotten or retired name for whoever signs in with it next, who
 * gets a fresh UID: a tombstone that still holds a UID becomes the
 * reservation "#<uid>" (never answered, never reused), a rename tombstone
 * goes. *ret_uid (may be NULL) gets the uid kept reserved, 0 if none.
 * Returns 0, EL_ERR_NOT_FOUND, EL_ERR_BOUND_OTHER (the name is bound:
 * forget it first). */
int udb_release(const struct el_config *cfg, const char *name, uint32_t *ret_uid) EL_MUST_CHECK;

/* ---- one name per directory object ----
 * The name oid+tid is bound to, copied into buf: 0, EL_ERR_NOT_FOUND,
 * EL_ERR_RANGE, EL_ERR_INVAL, or a database error. Read-only, no lock; a
 * scan (for refusals and the CLI, never on an NSS path). */
int udb_name_of_oid(const struct el_config *cfg, const char *oid, const char *tid, char *buf,
		    size_t buflen) EL_MUST_CHECK;

/* The text a user refused with EL_ERR_OID_OTHER_NAME is shown: it names
 * the name the account is bound to and the command an administrator must
 * run ("entra-login rename OLD NEW"). Names are printed only if they pass
 * name_syntax_ok (else "(invalid name)"). Returns 0 or EL_ERR_RANGE. */
int udb_oid_other_name_message(char *buf, size_t buflen, const char *bound_name,
			       const char *new_name) EL_MUST_CHECK;

/* ---- renames and imports (CLI) ---- */

/* Rename a bound user: its record (oid, tid, uid, role, display, times,
 * pinned fields) moves to new_name; old_name stays as a retired tombstone
 * (uid 0: never answered, never bound until udb_release). home: NULL keeps the
 * record's pinned home as it is, "" drops it (the home follows the template
 * of the new name), else the absolute path to pin. Returns 0,
 * EL_ERR_NOT_FOUND (old_name unknown or not bound), EL_ERR_NOT_OURS
 * (new_name not ours or a local name), EL_ERR_BOUND_OTHER (new_name is
 * in the database, bound or forgotten), EL_ERR_INVAL. */
int udb_rename(const struct el_config *cfg, const char *old_name, const char *new_name,
	       const char *home) EL_MUST_CHECK;

/* A user to import with a pinned uid (gid = uid), home and shell. */
struct udb_pinned {
	const char *name, *oid, *tid, *display, *home, *shell;
	uint32_t uid;
};

/* What import did, or would do, with one entry. */
enum udb_import_result {
	UDB_IMPORT_NEW,			/* added (dry run: would be) */
	UDB_IMPORT_UNCHANGED,		/* already there: same oid, tid, uid */
	UDB_IMPORT_INVALID,		/* name not ours, bad GUID, home or shell */
	UDB_IMPORT_ID_RESERVED,		/* uid 0, a system id, admin_gid, user_gid */
	UDB_IMPORT_NAME_LOCAL,		/* name of a local user or group */
	UDB_IMPORT_ID_LOCAL,		/* uid is a local uid or gid */
	UDB_IMPORT_NAME_TAKEN,		/* name in the database with another oid or uid, or forgotten */
	UDB_IMPORT_UID_TAKEN,		/* uid held by another name in the database */
	UDB_IMPORT_OID_TAKEN,		/* oid+tid bound to another name in the database */
	UDB_IMPORT_DUP_NAME,		/* an earlier entry has this name */
	UDB_IMPORT_DUP_OID,		/* an earlier entry has this oid */
	UDB_IMPORT_DUP_UID,		/* an earlier entry has this uid */
};

struct udb_import_status {
	enum udb_import_result result;
	char other[EL_NAME_MAX + 1];	/* the name it clashes with, or "" */
	uint32_t other_uid;		/* NAME_TAKEN: the uid the name has */
};

/* Judge each entry against the database and the local files under the
 * lock, in order (an earlier entry wins a duplicate), and with apply write
 * every NEW entry in one atomic write (bound, role none, never logged in).
 * Entries that are not NEW are never written; nothing is written when
 * none is NEW or !apply. status[i] gets each verdict. Returns 0 or a
 * database/lock error (then nothing was written). */
int udb_import(const struct el_config *cfg, const struct udb_pinned *in, size_t n, bool apply,
	       struct udb_import_status *status) EL_MUST_CHECK;

/* Call cb for each user in name order on a consistent snapshot, without
 * the lock (cb may take long, e.g. resolve roles over the network, and
 * then call udb_set_role). Stops at and returns cb's first negative value;
 * otherwise 0. A missing database is empty (0, no call). */
int udb_foreach(const struct el_config *cfg, int (*cb)(const struct udb_user *user, void *userdata),
		void *userdata) EL_MUST_CHECK;

#endif
