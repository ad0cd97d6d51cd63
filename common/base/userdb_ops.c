/* userdb_ops.c - the writer calls of userdb.h, each one transaction. libc only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "uidmap.h"
#include "userdb.h"
#include "userdb_format.h"
#include "userdb_write.h"

struct parsed_login {
	const char *name, *display;
	enum udb_role role;
	enum udb_source source;
	uint8_t oid[16], tid[16];
};

static const uint8_t zero_guid[16];

static bool role_ok(enum udb_role role)
{
	return role == UDB_ROLE_NONE || role == UDB_ROLE_USER || role == UDB_ROLE_ADMIN;
}

static int parse_login(const struct el_config *cfg, const struct udb_login *in, struct parsed_login *out)
{
	if (!in->name || !name_is_ours(cfg, in->name))
		return EL_ERR_NOT_OURS;
	if (!role_ok(in->role))
		return EL_ERR_INVAL;
	if (udb_guid_parse(in->oid, out->oid) < 0 || udb_guid_parse(in->tid, out->tid) < 0)
		return EL_ERR_INVAL;
	out->name = in->name;
	out->display = in->display_name ? in->display_name : "";
	out->role = in->role;
	out->source = UDB_SRC_UNKNOWN;
	return 0;
}

/* Whether oid+tid may (re)bind a record found under its name: 0, or why
 * not. A tombstone takes nobody; a blocked name nobody; a forgotten name
 * only the object it was bound to (a version 2 record forgot it: nobody). */
static int rebind_ok(bool retired, bool blocked, bool bound, const uint8_t rec_oid[16], const uint8_t rec_tid[16],
		     const uint8_t oid[16], const uint8_t tid[16])
{
	bool same = memcmp(rec_oid, oid, 16) == 0 && memcmp(rec_tid, tid, 16) == 0;

	if (retired)
		return EL_ERR_NAME_RETIRED;
	if (blocked)
		return EL_ERR_NAME_BLOCKED;
	if (bound)
		return same ? 0 : EL_ERR_BOUND_OTHER;
	return same && memcmp(rec_oid, zero_guid, 16) != 0 ? 0 : EL_ERR_NAME_RETIRED;
}

/* A first binding: if the home the template gives this name is pinned by
 * another record (rename --keep-home kept it, an import brought it), the
 * newcomer gets "<home>.<uid>" pinned instead, never someone's files. */
static int home_unshared(struct udb_ws *w, struct udb_wrec *rec)
{
	char home[UDB_PATH_MAX + 1], alt[UDB_PATH_MAX + 16];
	size_t n;
	int r;

	if (rec->home_len)
		return 0;
	if (name_home(w->cfg->home, rec->name, home, sizeof(home)) < 0)
		return 0;	/* no home this long can be pinned by anyone */
	n = strlen(home);
	for (size_t i = 0; i < w->n; i++) {
		const struct udb_wrec *o = &w->recs[i];

		if (o == rec || o->deleted || o->home_len != n || memcmp(o->home, home, n) != 0)
			continue;
		r = snprintf(alt, sizeof(alt), "%s.%u", home, (unsigned)rec->uid);
		if (r < 0 || (size_t)r > UDB_PATH_MAX || !udb_path_field_ok(alt, (size_t)r))
			return EL_ERR_RANGE;
		r = udb_ws_strdup(w, alt, strlen(alt), &rec->home);
		if (r < 0)
			return r;
		rec->home_len = strlen(alt);
		break;
	}
	return 0;
}

struct login_op {
	const struct parsed_login *logins;
	size_t n;
	int64_t now;
	uint32_t expect_uid;	/* 0, or the UID the login was announced (one login) */
	uint32_t *ret_uid;	/* of the last login, may be NULL */
};

static int op_login(struct udb_ws *w, void *arg)
{
	const struct login_op *op = arg;

	w->decides = false;	/* until a record, a binding or a role changes */
	for (size_t i = 0; i < op->n; i++) {
		const struct parsed_login *l = &op->logins[i];
		struct udb_wrec *rec = udb_ws_find(w, l->name);
		enum udb_source src;
		int r;

		if (uidmap_local_has_name(w->local, l->name))
			return EL_ERR_NOT_OURS;
		if (rec) {
			r = rebind_ok(rec->retired, rec->blocked, rec->bound, rec->oid, rec->tid, l->oid, l->tid);
			if (r < 0)
				return r;
		}
		/* One name per directory object: a new name for a bound oid is a
		 * rename, which only an administrator does (udb_rename). */
		if (udb_ws_find_oid(w, l->oid, l->tid, rec, &r) != NULL)
			return EL_ERR_OID_OTHER_NAME;
		if (r < 0)
			return r;
		if (!rec) {
			r = udb_ws_add(w, l->name, &rec);
			if (r == 0)
				r = home_unshared(w, rec);
			if (r < 0)
				return r;
			w->decides = true;	/* a new UID */
		}
		/* NSS told sshd (and the session it sets up) another UID: recording
		 * this one would run the session as someone else's id. */
		if (op->expect_uid != 0 && rec->uid != op->expect_uid)
			return EL_ERR_UID_CHANGED;
		if (!rec->bound) {
			rec->bound = true;
			memcpy(rec->oid, l->oid, 16);
			memcpy(rec->tid, l->tid, 16);
			rec->first_login = op->now;
			w->decides = true;	/* a new binding */
			r = udb_ws_note_oid(w, rec);
			if (r < 0)
				return r;
		}
		/* A login recorded without its source (a certificate login's pending
		 * decision, decided by a token-free source) keeps a stored token-free
		 * source for an unchanged role, so that no login flips it back and
		 * forth with account's write; a stored "claims" becomes unknown (no
		 * token confirmed it this time: the token-free claims source must
		 * not keep answering for it). */
		src = l->role == UDB_ROLE_NONE ? UDB_SRC_UNKNOWN
		      : l->source == UDB_SRC_UNKNOWN && rec->role == l->role && rec->source != UDB_SRC_CLAIMS
		      ? rec->source : l->source;
		if (rec->role != l->role || rec->source != src)
			w->decides = true;	/* NSS group membership, or who may revoke it, changes */
		rec->role = l->role;
		rec->source = src;
		rec->last_login = op->now;
		r = udb_ws_set_display(w, rec, l->display);
		if (r < 0)
			return r;
		if (op->ret_uid)
			*op->ret_uid = rec->uid;
	}
	return 0;
}

int udb_record_logins(const struct el_config *cfg, const struct udb_login *logins, size_t n, int64_t now)
{
	struct parsed_login *parsed;
	struct login_op op = { .n = n, .now = now };
	int r = 0;

	if (!cfg || (n && !logins))
		return EL_ERR_INVAL;
	parsed = calloc(n ? n : 1, sizeof(*parsed));
	if (!parsed)
		return EL_ERR_NOMEM;
	for (size_t i = 0; i < n && r == 0; i++)
		r = parse_login(cfg, &logins[i], &parsed[i]);
	if (r == 0) {
		op.logins = parsed;
		r = udb_transact(cfg, op_login, &op);
	}
	free(parsed);
	return r;
}

int udb_record_login(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
		     const char *display_name, enum udb_role role, int64_t now, uint32_t *ret_uid)
{
	return udb_record_login_expect(cfg, name, oid, tid, display_name, role, now, 0, ret_uid);
}

/* The one login write: strict (ret_unsaved NULL: every write error fails)
 * or tolerant (a write error that loses only bookkeeping is *ret_unsaved). */
static int login_write(const struct el_config *cfg, const struct udb_login *in, enum udb_source source, int64_t now,
		       uint32_t expect_uid, uint32_t *ret_uid, int *ret_unsaved)
{
	struct parsed_login parsed;
	uint32_t uid = 0;
	struct login_op op = { .logins = &parsed, .n = 1, .now = now, .expect_uid = expect_uid, .ret_uid = &uid };
	int unsaved = 0, r;

	if (!cfg || !in || (unsigned)source > UDB_SRC_MAX)
		return EL_ERR_INVAL;
	r = parse_login(cfg, in, &parsed);
	if (r < 0)
		return r;
	parsed.source = source;
	r = ret_unsaved ? udb_transact_tolerant(cfg, op_login, &op, &unsaved) : udb_transact(cfg, op_login, &op);
	if (r < 0)
		return r;
	if (ret_uid)
		*ret_uid = uid;
	if (ret_unsaved)
		*ret_unsaved = unsaved;
	return 0;
}

int udb_record_login_src(const struct el_config *cfg, const struct udb_login *in, enum udb_source source,
			 int64_t now, uint32_t expect_uid, uint32_t *ret_uid)
{
	return login_write(cfg, in, source, now, expect_uid, ret_uid, NULL);
}

int udb_record_login_expect(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
			    const char *display_name, enum udb_role role, int64_t now, uint32_t expect_uid,
			    uint32_t *ret_uid)
{
	struct udb_login in = { name, oid, tid, display_name, role };

	return login_write(cfg, &in, UDB_SRC_UNKNOWN, now, expect_uid, ret_uid, NULL);
}

int udb_record_login_tolerant(const struct el_config *cfg, const struct udb_login *in, enum udb_source source,
			      int64_t now, uint32_t expect_uid, uint32_t *ret_uid, int *ret_unsaved)
{
	if (!ret_unsaved)
		return EL_ERR_INVAL;
	return login_write(cfg, in, source, now, expect_uid, ret_uid, ret_unsaved);
}

int udb_check_binding(const struct el_config *cfg, const char *name, const char *oid, const char *tid)
{
	struct udb *db = NULL;
	struct udb_user u = { 0 };
	uint8_t o[16], t[16];
	int r;

	if (!cfg || !name || !name_is_ours(cfg, name))
		return EL_ERR_NOT_OURS;
	if (udb_guid_parse(oid, o) < 0 || udb_guid_parse(tid, t) < 0)
		return EL_ERR_INVAL;
	r = udb_open(cfg, &db);
	if (r == EL_ERR_NOT_FOUND)
		return 0;
	if (r < 0)
		return r;
	r = udb_lookup_name(db, name, &u);
	if (r == EL_ERR_NOT_FOUND)
		r = 0;
	else if (r == 0)
		r = rebind_ok(u.retired, u.blocked, u.bound, u.oid, u.tid, o, t);
	if (r == 0 && !u.bound) {
		struct udb_user other;
		int f = udb_lookup_oid(db, o, t, &other);

		if (f == 0)
			r = EL_ERR_OID_OTHER_NAME;	/* bound, and not under this name */
		else if (f != EL_ERR_NOT_FOUND)
			r = f;
	}
	udb_close(db);
	return r;
}

struct role_op {
	const char *name;
	uint8_t oid[16], tid[16];
	enum udb_role role;
	enum udb_source source;
};

static int op_role(struct udb_ws *w, void *arg)
{
	const struct role_op *op = arg;
	struct udb_wrec *rec = udb_ws_find(w, op->name);

	/* Compare and set: the role was decided for this object, maybe seconds
	 * ago; the name may have been renamed, forgotten or rebound since. */
	if (!rec || !rec->bound || rec->blocked || rec->retired || memcmp(rec->oid, op->oid, 16) != 0 ||
	    memcmp(rec->tid, op->tid, 16) != 0)
		return EL_ERR_BINDING_CHANGED;
	if (rec->role == op->role && rec->source == op->source)
		return 1;
	rec->role = op->role;
	rec->source = op->source;
	return 0;
}

int udb_set_role(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
		 enum udb_role role, enum udb_source source)
{
	struct role_op op = { .name = name, .role = role, .source = role == UDB_ROLE_NONE ? UDB_SRC_UNKNOWN : source };

	if (!cfg || !name || !name_is_ours(cfg, name))
		return EL_ERR_NOT_OURS;
	if (!role_ok(role) || (unsigned)source > UDB_SRC_MAX || udb_guid_parse(oid, op.oid) < 0 ||
	    udb_guid_parse(tid, op.tid) < 0)
		return EL_ERR_INVAL;
	return udb_transact(cfg, op_role, &op);
}

struct forget_op {
	const char *name;
	bool purge;
};

static int op_forget(struct udb_ws *w, void *arg)
{
	const struct forget_op *op = arg;
	struct udb_wrec *rec = udb_ws_find(w, op->name);

	if (!rec)
		return EL_ERR_NOT_FOUND;
	if (rec->retired || (!op->purge && rec->blocked && !rec->bound))
		return 1;	/* already a tombstone / already forgotten */
	/* The oid+tid stay: they say who held the name (a forgotten name takes
	 * back only that object), and the uid stays reserved either way. */
	rec->bound = false;
	rec->role = UDB_ROLE_NONE;
	rec->source = UDB_SRC_UNKNOWN;
	rec->display = "";
	rec->display_len = 0;
	if (op->purge) {
		rec->retired = true;
		rec->blocked = false;
	} else {
		rec->blocked = true;
	}
	return 0;
}

int udb_forget(const struct el_config *cfg, const char *name, bool purge)
{
	struct forget_op op = { name, purge };

	/* No name_is_ours check: a name left over from a domain since removed
	 * from the configuration must still be removable. */
	if (!cfg || !name || strlen(name) == 0)
		return EL_ERR_INVAL;
	return udb_transact(cfg, op_forget, &op);
}

struct block_op {
	const char *name;
	bool block;
};

static int op_block(struct udb_ws *w, void *arg)
{
	const struct block_op *op = arg;
	struct udb_wrec *rec = udb_ws_find(w, op->name);

	if (!rec)
		return EL_ERR_NOT_FOUND;
	if (rec->retired)
		return op->block ? 1 : EL_ERR_NAME_RETIRED;
	if (rec->blocked == op->block)
		return 1;
	rec->blocked = op->block;
	if (op->block) {
		rec->role = UDB_ROLE_NONE;
		rec->source = UDB_SRC_UNKNOWN;
	}
	return 0;
}

int udb_block(const struct el_config *cfg, const char *name, bool block)
{
	struct block_op op = { name, block };

	if (!cfg || !name || strlen(name) == 0)
		return EL_ERR_INVAL;
	return udb_transact(cfg, op_block, &op);
}

struct release_op {
	const char *name;
	uint32_t uid;
};

static int op_release(struct udb_ws *w, void *arg)
{
	struct release_op *op = arg;
	struct udb_wrec *rec = udb_ws_find(w, op->name), *res;
	char rname[16], home[UDB_PATH_MAX + 1];
	uint32_t uid;
	bool pinned;

	if (!rec || rec->name[0] == UDB_RESERVED_PREFIX)
		return EL_ERR_NOT_FOUND;
	if (rec->bound)
		return EL_ERR_BOUND_OTHER;
	uid = rec->uid;
	pinned = rec->pinned;
	/* The home the name had (pinned, else its template's): kept on the
	 * reservation, so the next holder is given another path (home_unshared). */
	if (rec->home_len)
		snprintf(home, sizeof(home), "%s", rec->home);
	else if (name_home(w->cfg->home, rec->name, home, sizeof(home)) < 0 ||
		 !udb_path_field_ok(home, strlen(home)))
		home[0] = '\0';
	rec->deleted = true;
	op->uid = uid;
	if (uid == 0)
		return 0;	/* a rename tombstone: the uid (and home) live on under the new name */
	/* The uid was handed out: it stays reserved, under a name that is never
	 * a directory name, so the next holder of the name gets another. */
	snprintf(rname, sizeof(rname), "%c%u", UDB_RESERVED_PREFIX, (unsigned)uid);
	{
		int r = udb_ws_add_uid(w, rname, uid, &res);

		if (r < 0)
			return r;
	}
	res->retired = true;
	res->pinned = pinned;
	{
		int r = udb_ws_strdup(w, home, strlen(home), &res->home);

		if (r < 0)
			return r;
	}
	res->home_len = strlen(home);
	return 0;
}

int udb_release(const struct el_config *cfg, const char *name, uint32_t *ret_uid)
{
	struct release_op op = { name, 0 };
	int r;

	if (!cfg || !name || strlen(name) == 0)
		return EL_ERR_INVAL;
	r = udb_transact(cfg, op_release, &op);
	if (r < 0)
		return r;
	if (ret_uid)
		*ret_uid = op.uid;
	return 0;
}

int udb_foreach(const struct el_config *cfg, int (*cb)(const struct udb_user *user, void *userdata),
		void *userdata)
{
	struct udb *db = NULL;
	int r;

	if (!cfg || !cb)
		return EL_ERR_INVAL;
	r = udb_open(cfg, &db);
	if (r == EL_ERR_NOT_FOUND)
		return 0;
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < udb_count(db); i++) {
		struct udb_user u;

		r = udb_get(db, i, &u);
		if (r < 0)
			break;
		r = cb(&u, userdata);
		if (r < 0)
			break;
		r = 0;
	}
	udb_close(db);
	return r;
}
