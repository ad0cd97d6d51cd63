/* userdb_ops.c - the writer calls of userdb.h, each one transaction. libc only. */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "uidmap.h"
#include "userdb.h"
#include "userdb_write.h"

struct parsed_login {
	const char *name, *display;
	enum udb_role role;
	uint8_t oid[16], tid[16];
};

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
		int r;

		if (uidmap_local_has_name(w->local, l->name))
			return EL_ERR_NOT_OURS;
		if (rec && rec->bound && (memcmp(rec->oid, l->oid, 16) != 0 || memcmp(rec->tid, l->tid, 16) != 0))
			return EL_ERR_BOUND_OTHER;
		/* One name per directory object: a new name for a bound oid is a
		 * rename, which only an administrator does (udb_rename). */
		if (udb_ws_find_oid(w, l->oid, l->tid, rec, &r) != NULL)
			return EL_ERR_OID_OTHER_NAME;
		if (r < 0)
			return r;
		if (!rec) {
			r = udb_ws_add(w, l->name, &rec);
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
		if (rec->role != l->role)
			w->decides = true;	/* NSS group membership changes */
		rec->role = l->role;
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

static int record_login(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
			const char *display_name, enum udb_role role, int64_t now, uint32_t expect_uid,
			uint32_t *ret_uid, int *ret_unsaved)
{
	struct udb_login in = { name, oid, tid, display_name, role };
	struct parsed_login parsed;
	uint32_t uid = 0;
	struct login_op op = { .logins = &parsed, .n = 1, .now = now, .expect_uid = expect_uid, .ret_uid = &uid };
	int unsaved = 0, r;

	if (!cfg)
		return EL_ERR_INVAL;
	r = parse_login(cfg, &in, &parsed);
	if (r < 0)
		return r;
	r = ret_unsaved ? udb_transact_tolerant(cfg, op_login, &op, &unsaved) : udb_transact(cfg, op_login, &op);
	if (r < 0)
		return r;
	if (ret_uid)
		*ret_uid = uid;
	if (ret_unsaved)
		*ret_unsaved = unsaved;
	return 0;
}

int udb_record_login_expect(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
			    const char *display_name, enum udb_role role, int64_t now, uint32_t expect_uid,
			    uint32_t *ret_uid)
{
	return record_login(cfg, name, oid, tid, display_name, role, now, expect_uid, ret_uid, NULL);
}

int udb_record_login_tolerant(const struct el_config *cfg, const char *name, const char *oid, const char *tid,
			      const char *display_name, enum udb_role role, int64_t now, uint32_t expect_uid,
			      uint32_t *ret_uid, int *ret_unsaved)
{
	if (!ret_unsaved)
		return EL_ERR_INVAL;
	return record_login(cfg, name, oid, tid, display_name, role, now, expect_uid, ret_uid, ret_unsaved);
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
	else if (r == 0 && u.bound && (memcmp(u.oid, o, 16) != 0 || memcmp(u.tid, t, 16) != 0))
		r = EL_ERR_BOUND_OTHER;
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
	enum udb_role role;
};

static int op_role(struct udb_ws *w, void *arg)
{
	const struct role_op *op = arg;
	struct udb_wrec *rec = udb_ws_find(w, op->name);

	if (!rec || !rec->bound)
		return EL_ERR_NOT_FOUND;
	if (rec->role == op->role)
		return 1;
	rec->role = op->role;
	return 0;
}

int udb_set_role(const struct el_config *cfg, const char *name, enum udb_role role)
{
	struct role_op op = { name, role };

	if (!cfg || !name || !name_is_ours(cfg, name))
		return EL_ERR_NOT_OURS;
	if (!role_ok(role))
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
	if (op->purge) {
		rec->deleted = true;
		return 0;
	}
	if (!rec->bound && rec->role == UDB_ROLE_NONE && rec->display_len == 0)
		return 1;
	rec->bound = false;
	rec->role = UDB_ROLE_NONE;
	memset(rec->oid, 0, 16);
	memset(rec->tid, 0, 16);
	rec->display = "";
	rec->display_len = 0;
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
