/* nss_entra.c - the entry points of libnss_entra.so.2 (service "entra").
 *
 * Answers passwd, group, shadow and initgroups for directory users from
 * the user database, and a provisional passwd entry (with the UID it will
 * keep) for a name of ours the database does not know yet (never for a
 * tombstone: a renamed-away or purged name). Never answers
 * for a name or id of /etc/passwd or /etc/group, never emits an id of 0 or
 * below uid_min (uid_floor: users allocated under the former default
 * keep their uids; a pinned uid imported from Microsoft's extension may be
 * lower, never below UDB_PINNED_ID_MIN). libc only, no network, no writes,
 * thread-safe; errno is left as found, *errnop set only for TRYAGAIN
 * (ERANGE) and UNAVAIL.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announced.h"
#include "cache.h"
#include "el_limits.h"
#include "groups.h"
#include "names.h"
#include "pack.h"
#include "userdb_format.h"

struct ent {
	const char *name, *display;
	uint32_t uid;
	enum udb_role role;
	bool in_db;
	const char *home, *shell;	/* pinned, "" = from the configuration */
};

static enum nss_status to_nss(int r, int *errnop)
{
	switch (r) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case EL_ERR_RANGE:
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	case EL_ERR_NOMEM:
		*errnop = ENOMEM;
		return NSS_STATUS_TRYAGAIN;
	case EL_ERR_NOT_FOUND:
	case EL_ERR_NOT_OURS:
	case EL_ERR_FULL:
		return NSS_STATUS_NOTFOUND;
	default:		/* no configuration, damaged database, unreadable files */
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
}

/* An id that may be emitted: never 0, a role group id or a local id; at
 * least uid_min unless pinned (imported, see userdb.h), and a pinned one
 * never below UDB_PINNED_ID_MIN. */
static bool id_ok(const struct nss_snap *s, uint32_t id, bool pinned)
{
	if (id == 0 || id == s->cfg->admin_gid || id == s->cfg->user_gid)
		return false;
	if (id < s->cfg->uid_floor && !(pinned && id >= UDB_PINNED_ID_MIN))
		return false;
	return !uidmap_local_has_id(s->local, id);
}

static struct ent ent_of(const struct udb_user *u)
{
	return (struct ent){ u->name, u->display_name, u->uid, u->role, true, u->home, u->shell };
}

/* Configuration and local files usable: 0 or the code to answer with. */
static int usable(const struct nss_snap *s)
{
	if (!s->cfg)
		return EL_ERR_CONFIG;
	return s->local ? 0 : EL_ERR_IO;
}

static int db_taken(void *userdata, uint32_t id)
{
	const struct udb *db = userdata;
	struct udb_user u;
	int r;

	if (!db)
		return 0;
	r = udb_lookup_uid(db, id, &u);
	if (r == EL_ERR_NOT_FOUND)
		return 0;
	return r < 0 ? r : 1;
}

/* Provisional names this thread resolved lately, so that getpwuid and
 * getgrgid right after getpwnam (id(1), sshd) can name the uid. Per thread:
 * no lock, and fork copies the caller's. Always re-derived before use. */
#define RECENT_N 4
static _Thread_local struct {
	char name[EL_NAME_MAX + 1];
	uint32_t uid;
} recent[RECENT_N];
static _Thread_local unsigned recent_next;

static void recent_put(const char *name, uint32_t uid)
{
	size_t n = strlen(name);

	for (unsigned i = 0; i < RECENT_N; i++)
		if (recent[i].uid == uid && strcmp(recent[i].name, name) == 0)
			return;
	if (n > EL_NAME_MAX)
		return;
	memcpy(recent[recent_next].name, name, n + 1);
	recent[recent_next].uid = uid;
	recent_next = (recent_next + 1) % RECENT_N;
}

static const char *recent_get(uint32_t uid)
{
	for (unsigned i = 0; i < RECENT_N; i++)
		if (recent[i].uid == uid && recent[i].name[0])
			return recent[i].name;
	return NULL;
}

/* A provisional entry's home when it is not the template's (resolve_name). */
static _Thread_local char prov_home[UDB_PATH_MAX + 16];

static int resolve_name(const struct nss_snap *s, const char *name, struct ent *ret)
{
	struct udb_user u;
	uint32_t uid;
	int r;

	r = usable(s);
	if (r < 0)
		return r;
	if (!name || !name_is_ours(s->cfg, name) || uidmap_local_has_name(s->local, name))
		return EL_ERR_NOT_OURS;
	if (!s->db && s->db_err != EL_ERR_NOT_FOUND)
		return s->db_err;
	if (s->db) {
		r = udb_lookup_name(s->db, name, &u);
		if (r == 0) {
			/* A tombstone (renamed away, purged): nothing, not even a
			 * provisional entry, until an administrator releases it. */
			if (u.retired || !id_ok(s, u.uid, u.pinned))
				return EL_ERR_NOT_FOUND;
			*ret = ent_of(&u);
			return 0;
		}
		if (r != EL_ERR_NOT_FOUND)
			return r;
	}
	/* Provisional: the UID its first login will assign. */
	r = uidmap_pick(s->cfg, s->local, name, db_taken, (void *)s->db, s->db ? udb_count(s->db) : 0, &uid);
	if (r < 0)
		return r;
	recent_put(name, uid);
	*ret = (struct ent){ name, "", uid, UDB_ROLE_NONE, false, "", "" };
	/* The home the template gives is someone else's (kept by rename
	 * --keep-home or by a released name's reservation): the first binding
	 * pins "<home>.<uid>" (userdb_ops.c), announce the same. */
	if (s->db && name_home(s->cfg->home, name, prov_home, sizeof(prov_home)) == 0 &&
	    udb_home_pinned(s->db, prov_home)) {
		size_t used = strlen(prov_home);
		int n = snprintf(prov_home + used, sizeof(prov_home) - used, ".%u", (unsigned)uid);

		if (n < 0 || (size_t)n >= sizeof(prov_home) - used)
			return EL_ERR_RANGE;
		ret->home = prov_home;
	}
	return 0;
}

/* A database user may be answered: its name is still ours (domains may
 * have changed), not local, and its id may be emitted. */
static int user_ok(const struct nss_snap *s, const struct udb_user *u)
{
	if (u->retired || !name_is_ours(s->cfg, u->name) || uidmap_local_has_name(s->local, u->name) ||
	    !id_ok(s, u->uid, u->pinned))
		return EL_ERR_NOT_FOUND;
	return 0;
}

static int resolve_uid(const struct nss_snap *s, uint32_t uid, struct ent *ret)
{
	struct udb_user u;
	const char *name;
	int r;

	r = usable(s);
	if (r < 0)
		return r;
	if (!id_ok(s, uid, true))	/* the widest rule; user_ok applies the record's */
		return EL_ERR_NOT_FOUND;
	r = s->db ? udb_lookup_uid(s->db, uid, &u) : s->db_err;
	if (r == 0) {
		r = user_ok(s, &u);
		if (r < 0)
			return r;
		*ret = ent_of(&u);
		return 0;
	}
	if (r != EL_ERR_NOT_FOUND)
		return r;
	/* Not in the database: a provisional name this thread just resolved? */
	name = recent_get(uid);
	if (!name)
		return EL_ERR_NOT_FOUND;
	r = resolve_name(s, name, ret);
	if (r == 0 && (ret->in_db || ret->uid != uid))
		r = EL_ERR_NOT_FOUND;
	return r;
}

static int pack_ent_pw(const struct nss_snap *s, const struct ent *e, struct passwd *pw, char *buf, size_t len)
{
	return pack_passwd(pw, buf, len, e->name, e->uid, e->display, e->home[0] ? NULL : s->cfg->home,
			   e->home[0] ? e->home : NULL, e->shell[0] ? e->shell : s->cfg->shell);
}

/* ---- passwd ---- */

EL_PUBLIC enum nss_status _nss_entra_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen,
						int *errnop);
enum nss_status _nss_entra_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	struct ent e;

	r = resolve_name(s, name, &e);
	if (r == 0)
		r = pack_ent_pw(s, &e, pw, buf, buflen);
	if (r == 0)
		announced_put(e.name, e.uid);
	nss_snap_leave(t);
	errno = saved;
	return to_nss(r, errnop);
}

EL_PUBLIC enum nss_status _nss_entra_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
						int *errnop);
enum nss_status _nss_entra_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	struct ent e;

	r = resolve_uid(s, uid, &e);
	if (r == 0)
		r = pack_ent_pw(s, &e, pw, buf, buflen);
	nss_snap_leave(t);
	errno = saved;
	return to_nss(r, errnop);
}

/* ---- shadow ---- */

EL_PUBLIC enum nss_status _nss_entra_getspnam_r(const char *name, struct spwd *sp, char *buf, size_t buflen,
						int *errnop);
enum nss_status _nss_entra_getspnam_r(const char *name, struct spwd *sp, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	struct ent e;

	r = resolve_name(s, name, &e);
	if (r == 0)
		r = pack_spwd(sp, buf, buflen, e.name);
	nss_snap_leave(t);
	errno = saved;
	return to_nss(r, errnop);
}

/* ---- group ---- */

struct members {
	const struct nss_snap *s;
	enum udb_group group;
};

static int member_at(void *userdata, size_t i, const char **ret_name)
{
	const struct members *m = userdata;
	struct udb_user u;
	int r;

	r = udb_group_get(m->s->db, m->group, (uint32_t)i, &u);
	if (r < 0)
		return r;
	if (user_ok(m->s, &u) < 0)
		return 1;
	*ret_name = u.name;
	return 0;
}

/* A mapped Entra group's member (issue 21, groups.c): a database user that may be answered. */
static int mapped_member(const struct nss_snap *s, uint32_t uid, const char **ret_name)
{
	struct udb_user u;
	int r;

	if (!s->db)
		return 1;
	r = udb_lookup_uid(s->db, uid, &u);
	if (r == EL_ERR_NOT_FOUND || (r == 0 && user_ok(s, &u) < 0))
		return 1;
	if (r < 0)
		return r;
	*ret_name = u.name;
	return 0;
}

/* A local user or group owns the role group's name or id: the local one
 * wins, ours is hidden from every call (getgr*, enumeration, initgroups). */
static bool role_group_hidden(const struct nss_snap *s, enum udb_group g)
{
	return s->role_hidden[g];	/* worked out once per snapshot (cache.c) */
}

/* A role group: 0 if it may be answered, with its members (none when
 * there is no database yet). */
static int pack_role_group(const struct nss_snap *s, enum udb_group g, struct group *gr, char *buf, size_t len)
{
	const char *name = g == UDB_GROUP_ADMINS ? s->cfg->admin_group : s->cfg->user_group;
	uint32_t gid = g == UDB_GROUP_ADMINS ? s->cfg->admin_gid : s->cfg->user_gid;
	struct members m = { s, g };

	if (role_group_hidden(s, g))
		return EL_ERR_NOT_FOUND;
	if (!s->db && s->db_err != EL_ERR_NOT_FOUND)
		return s->db_err;
	return pack_group(gr, buf, len, name, gid, s->db ? udb_group_count(s->db, g) : 0, member_at, &m);
}

static int role_group_of_name(const struct nss_snap *s, const char *name)
{
	if (name && strcmp(name, s->cfg->admin_group) == 0)
		return UDB_GROUP_ADMINS;
	if (name && strcmp(name, s->cfg->user_group) == 0)
		return UDB_GROUP_USERS;
	return -1;
}

EL_PUBLIC enum nss_status _nss_entra_getgrnam_r(const char *name, struct group *gr, char *buf, size_t buflen,
						int *errnop);
enum nss_status _nss_entra_getgrnam_r(const char *name, struct group *gr, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r, g;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	struct ent e;

	r = usable(s);
	if (r == 0 && (g = role_group_of_name(s, name)) >= 0) {
		r = pack_role_group(s, (enum udb_group)g, gr, buf, buflen);
	} else if (r == 0) {
		r = resolve_name(s, name, &e);
		if (r == 0)
			r = pack_group(gr, buf, buflen, e.name, e.uid, 0, NULL, NULL);
		else if (r == EL_ERR_NOT_OURS && name)
			r = nssgr_by_name(s, name, mapped_member, gr, buf, buflen);
	}
	nss_snap_leave(t);
	errno = saved;
	return to_nss(r, errnop);
}

EL_PUBLIC enum nss_status _nss_entra_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
						int *errnop);
enum nss_status _nss_entra_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	struct ent e;

	r = usable(s);
	if (r == 0 && (gid == s->cfg->admin_gid || gid == s->cfg->user_gid)) {
		r = pack_role_group(s, gid == s->cfg->admin_gid ? UDB_GROUP_ADMINS : UDB_GROUP_USERS, gr, buf, buflen);
	} else if (r == 0 && gid >= s->cfg->gid_min && gid <= s->cfg->gid_max) {
		r = nssgr_by_gid(s, gid, mapped_member, gr, buf, buflen);
	} else if (r == 0) {
		r = resolve_uid(s, gid, &e);
		if (r == 0)
			r = pack_group(gr, buf, buflen, e.name, e.uid, 0, NULL, NULL);
	}
	nss_snap_leave(t);
	errno = saved;
	return to_nss(r, errnop);
}

static int add_gid(gid_t gid, gid_t skip, long *start, long *size, gid_t **groupsp, long limit)
{
	if (gid == skip)
		return 0;
	for (long i = 0; i < *start; i++)
		if ((*groupsp)[i] == gid)
			return 0;
	if (*start >= *size) {
		long nsize = *size > 0 ? 2 * *size : 8;
		gid_t *p;

		if (limit > 0 && *size >= limit)
			return 0;	/* glibc's rule: stop silently at the limit */
		if (limit > 0 && nsize > limit)
			nsize = limit;
		p = realloc(*groupsp, (size_t)nsize * sizeof(gid_t));
		if (!p)
			return EL_ERR_NOMEM;
		*groupsp = p;
		*size = nsize;
	}
	(*groupsp)[(*start)++] = gid;
	return 0;
}

EL_PUBLIC enum nss_status _nss_entra_initgroups_dyn(const char *user, gid_t group, long *start, long *size,
						    gid_t **groupsp, long limit, int *errnop);
enum nss_status _nss_entra_initgroups_dyn(const char *user, gid_t group, long *start, long *size, gid_t **groupsp,
					  long limit, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	struct ent e;

	r = resolve_name(s, user, &e);
	if (r == 0 && !e.in_db)
		r = EL_ERR_NOT_FOUND;
	if (r == 0 && e.role == UDB_ROLE_ADMIN && !role_group_hidden(s, UDB_GROUP_ADMINS))
		r = add_gid(s->cfg->admin_gid, group, start, size, groupsp, limit);
	if (r == 0 && e.role != UDB_ROLE_NONE && !role_group_hidden(s, UDB_GROUP_USERS))
		r = add_gid(s->cfg->user_gid, group, start, size, groupsp, limit);
	if (r == 0)
		r = nssgr_initgroups(s, e.uid, group, start, size, groupsp, limit, add_gid);
	nss_snap_leave(t);
	errno = saved;
	return to_nss(r, errnop);
}

/* ---- enumeration: database users, then (groups) the two role groups ----
 * glibc serializes set/get/end per database; the atomics only keep a
 * misbehaving caller free of data races. */

static atomic_uint pw_next, gr_next, gr_mapped_next;

EL_PUBLIC enum nss_status _nss_entra_setpwent(int stayopen);
enum nss_status _nss_entra_setpwent(int stayopen)
{
	(void)stayopen;
	atomic_store(&pw_next, 0);
	return NSS_STATUS_SUCCESS;
}

EL_PUBLIC enum nss_status _nss_entra_endpwent(void);
enum nss_status _nss_entra_endpwent(void)
{
	atomic_store(&pw_next, 0);
	return NSS_STATUS_SUCCESS;
}

/* The next database user from *cursor that may be answered: 0 and *ret,
 * EL_ERR_NOT_FOUND at the end, or an error. *cursor is left on it. */
static int next_user(const struct nss_snap *s, unsigned *cursor, struct udb_user *ret)
{
	int r = usable(s);

	if (r < 0)
		return r;
	if (!s->db)
		return s->db_err;
	for (; *cursor < udb_count(s->db); (*cursor)++) {
		r = udb_get(s->db, *cursor, ret);
		if (r < 0)
			return r;
		if (user_ok(s, ret) == 0)
			return 0;
	}
	return EL_ERR_NOT_FOUND;
}

EL_PUBLIC enum nss_status _nss_entra_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_entra_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	unsigned cursor = atomic_load(&pw_next);
	struct udb_user u;

	r = next_user(s, &cursor, &u);
	if (r == 0) {
		struct ent e = ent_of(&u);

		r = pack_ent_pw(s, &e, pw, buf, buflen);
	}
	if (r == 0)
		atomic_store(&pw_next, cursor + 1);
	nss_snap_leave(t);
	errno = saved;
	return r == EL_ERR_NOT_FOUND || r == EL_ERR_CONFIG ? NSS_STATUS_NOTFOUND : to_nss(r, errnop);
}

EL_PUBLIC enum nss_status _nss_entra_setgrent(int stayopen);
enum nss_status _nss_entra_setgrent(int stayopen)
{
	(void)stayopen;
	atomic_store(&gr_next, 0);
	atomic_store(&gr_mapped_next, 0);
	return NSS_STATUS_SUCCESS;
}

EL_PUBLIC enum nss_status _nss_entra_endgrent(void);
enum nss_status _nss_entra_endgrent(void)
{
	atomic_store(&gr_next, 0);
	atomic_store(&gr_mapped_next, 0);
	return NSS_STATUS_SUCCESS;
}

EL_PUBLIC enum nss_status _nss_entra_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_entra_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;
	unsigned long t;
	const struct nss_snap *s = nss_snap_enter(&t);
	unsigned cursor = atomic_load(&gr_next);
	struct udb_user u;

	/* 0 and 1 are the role groups, 2.. the users' private groups. */
	r = usable(s);
	while (r == 0 && cursor < 2) {
		r = pack_role_group(s, cursor == 0 ? UDB_GROUP_ADMINS : UDB_GROUP_USERS, gr, buf, buflen);
		if (r != EL_ERR_NOT_FOUND)
			break;
		r = 0;
		cursor++;
	}
	if (r == 0 && cursor >= 2) {
		unsigned i = cursor - 2;

		r = next_user(s, &i, &u);
		if (r == 0)
			r = pack_group(gr, buf, buflen, u.name, u.uid, 0, NULL, NULL);
		cursor = i + 2;
	}
	if (r == 0)
		atomic_store(&gr_next, cursor + 1);
	if (r == EL_ERR_NOT_FOUND && s->cfg) {
		/* then the mapped Entra groups (issue 21) */
		unsigned mi = atomic_load(&gr_mapped_next);

		r = nssgr_next(s, &mi, mapped_member, gr, buf, buflen);
		if (r == 0)
			atomic_store(&gr_mapped_next, mi + 1);
	}
	nss_snap_leave(t);
	errno = saved;
	return r == EL_ERR_NOT_FOUND || r == EL_ERR_CONFIG ? NSS_STATUS_NOTFOUND : to_nss(r, errnop);
}
