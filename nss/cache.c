/* cache.c - snapshots of config, database and local files for NSS.
 *
 * Readers: atomic counter per epoch parity, no lock. Reloader (a mutex,
 * taken with trylock except for the very first load): build a new
 * snapshot that shares unchanged parts, publish it with one atomic store,
 * flip the epoch, and keep the old one as "retired" until the readers of
 * its epoch have drained; only one snapshot is retired at a time, so a
 * stalled reader delays reloads, never frees memory under a reader.
 *
 * A part whose load failed for a reason that passes by itself (EMFILE,
 * ENFILE, ENOMEM, EAGAIN, EINTR) is marked retry: it is never shared into a
 * later snapshot, and a snapshot holding one reloads on the next call, so a
 * busy moment does not make every lookup UNAVAIL until the file changes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache.h"

struct fkey {			/* identity of a file's current content */
	int err;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

/* Parts are shared between snapshots; refs change only under reload_lock. */
struct part_cfg {
	int refs;
	bool retry;		/* load failed transiently: load again */
	char *path;
	struct fkey key;
	struct el_config *cfg;
	char db_path[4096];
};
struct part_db {
	int refs;
	bool retry;
	struct fkey key;
	struct udb *db;
	int err;
};
struct part_local {
	int refs;
	bool retry;
	struct fkey pw, gr;
	struct uidmap_local *local;
};

struct snap {
	struct nss_snap pub;	/* first: readers get &snap->pub */
	struct part_cfg *c;
	struct part_db *d;
	struct part_local *l;
	bool retry;		/* a part is marked retry */
};

static struct snap empty_snap = { .pub = { .db_err = EL_ERR_CONFIG } };
static _Atomic(struct snap *) current;
static atomic_ulong epoch;
static atomic_ulong readers[2];
static _Atomic long long next_check_ms;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap *retired;	/* under reload_lock */
static unsigned long retired_epoch;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&reload_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&reload_lock);
}

static void fork_child(void)
{
	/* Only the forking thread survives, and it is not inside a reader. */
	atomic_store(&readers[0], 0);
	atomic_store(&readers[1], 0);
	pthread_mutex_init(&reload_lock, NULL);
}

static void register_atfork(void)
{
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* A failed load (r, with errno as the failing call left it) worth retrying
 * at once: the process or the host was short of descriptors or memory. */
static bool transient(int r)
{
	return r == EL_ERR_NOMEM || (r == EL_ERR_IO && (errno == EMFILE || errno == ENFILE || errno == ENOMEM ||
							   errno == EAGAIN || errno == EINTR));
}

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct fkey key_of(const char *path)
{
	struct fkey k;
	struct stat st;

	memset(&k, 0, sizeof(k));
	if (stat(path, &st) < 0) {
		k.err = errno ? errno : EIO;
		return k;
	}
	k.dev = st.st_dev;
	k.ino = st.st_ino;
	k.size = st.st_size;
	k.mtim = st.st_mtim;
	k.ctim = st.st_ctim;
	return k;
}

static bool key_eq(const struct fkey *a, const struct fkey *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static void put_cfg(struct part_cfg *p)
{
	if (p && --p->refs == 0) {
		cfg_free(p->cfg);
		free(p->path);
		free(p);
	}
}

static void put_db(struct part_db *p)
{
	if (p && --p->refs == 0) {
		udb_close(p->db);
		free(p);
	}
}

static void put_local(struct part_local *p)
{
	if (p && --p->refs == 0) {
		uidmap_local_free(p->local);
		free(p);
	}
}

static void snap_free(struct snap *s)
{
	if (!s || s == &empty_snap)
		return;
	put_cfg(s->c);
	put_db(s->d);
	put_local(s->l);
	free(s);
}

static struct part_cfg *load_cfg(const char *path, const struct fkey *key)
{
	struct part_cfg *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->refs = 1;
	p->key = *key;
	p->path = strdup(path);
	if (!p->path) {
		free(p);
		return NULL;
	}
	if (key->err == 0) {
		int r;

		errno = 0;
		r = cfg_load(path, &p->cfg, NULL, 0);
		p->retry = r < 0 && transient(r);
		if (r == 0 && udb_path(p->cfg, p->db_path, sizeof(p->db_path)) < 0) {
			cfg_free(p->cfg);
			p->cfg = NULL;
		}
	}
	return p;
}

static struct part_db *load_db(const char *path, const struct fkey *key)
{
	struct part_db *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->refs = 1;
	p->key = *key;
	errno = 0;
	p->err = key->err == ENOENT ? EL_ERR_NOT_FOUND : udb_open_path(path, &p->db);
	p->retry = p->err < 0 && transient(p->err);
	return p;
}

static struct part_local *load_local(const struct fkey *pw, const struct fkey *gr)
{
	struct part_local *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return NULL;
	p->refs = 1;
	p->pw = *pw;
	p->gr = *gr;
	errno = 0;
	r = uidmap_local_load(UIDMAP_PASSWD, UIDMAP_GROUP, &p->local);
	if (r < 0) {
		p->local = NULL;
		p->retry = transient(r);
	}
	return p;
}

/* Under reload_lock: build the snapshot that reflects the files now, or
 * NULL if nothing changed (or memory ran out: keep serving the old one). */
static struct snap *build(const struct snap *old)
{
	const char *path = cfg_default_path(NULL);
	struct snap *s = calloc(1, sizeof(*s));
	struct fkey k, k2;

	if (!s)
		return NULL;
	k = key_of(path);
	if (old->c && !old->c->retry && strcmp(old->c->path, path) == 0 && key_eq(&old->c->key, &k)) {
		s->c = old->c;
		s->c->refs++;
	} else {
		s->c = load_cfg(path, &k);
	}
	if (!s->c)
		goto fail;
	if (s->c->cfg) {
		k = key_of(s->c->db_path);
		if (s->c == old->c && old->d && !old->d->retry && key_eq(&old->d->key, &k) &&
		    !(old->d->db && udb_superseded(old->d->db))) {
			s->d = old->d;
			s->d->refs++;
		} else {
			s->d = load_db(s->c->db_path, &k);
			if (!s->d)
				goto fail;
		}
	}
	k = key_of(UIDMAP_PASSWD);
	k2 = key_of(UIDMAP_GROUP);
	if (old->l && !old->l->retry && key_eq(&old->l->pw, &k) && key_eq(&old->l->gr, &k2)) {
		s->l = old->l;
		s->l->refs++;
	} else {
		s->l = load_local(&k, &k2);
		if (!s->l)
			goto fail;
	}
	if (s->c == old->c && s->d == old->d && s->l == old->l)
		goto fail;	/* unchanged */
	s->pub.cfg = s->c->cfg;
	s->pub.db = s->d ? s->d->db : NULL;
	s->pub.db_err = !s->c->cfg ? EL_ERR_CONFIG : s->d->err;
	s->pub.local = s->l->local;
	if (s->pub.cfg && s->pub.local) {
		const struct el_config *c = s->pub.cfg;

		s->pub.role_hidden[UDB_GROUP_ADMINS] = uidmap_local_has_name(s->pub.local, c->admin_group) ||
						       uidmap_local_has_id(s->pub.local, c->admin_gid);
		s->pub.role_hidden[UDB_GROUP_USERS] = uidmap_local_has_name(s->pub.local, c->user_group) ||
						      uidmap_local_has_id(s->pub.local, c->user_gid);
	}
	s->retry = s->c->retry || (s->d && s->d->retry) || s->l->retry;
	return s;
fail:
	snap_free(s);
	return NULL;
}

/* Cancellation is held off for the whole reload (as glibc does around its
 * own NSS work): the files it opens and reads are cancellation points, and
 * a thread cancelled there would unwind with reload_lock held, so every
 * later fork (the atfork handler takes the lock) and first load would hang.
 * A pending cancellation acts at the caller's next cancellation point. */
static void reload(bool wait)
{
	struct snap *old, *s;
	int cancel_state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	if (wait) {
		pthread_once(&atfork_once, register_atfork);
		pthread_mutex_lock(&reload_lock);
	} else if (pthread_mutex_trylock(&reload_lock) != 0) {
		pthread_setcancelstate(cancel_state, NULL);
		return;
	}
	if (retired) {
		if (atomic_load(&readers[retired_epoch & 1]) != 0)
			goto out;	/* readers still on the retired one: later */
		snap_free(retired);
		retired = NULL;
	}
	old = atomic_load(&current);
	if (wait && old)
		goto out;	/* another thread did the first load */
	atomic_store(&next_check_ms, now_ms() + 1000);
	s = build(old ? old : &empty_snap);
	if (!s) {
		if (!old)
			atomic_store(&current, &empty_snap);
		goto out;
	}
	atomic_store(&current, s);
	if (old && old != &empty_snap) {
		retired = old;
		retired_epoch = atomic_fetch_add(&epoch, 1);
	}
out:
	pthread_mutex_unlock(&reload_lock);
	pthread_setcancelstate(cancel_state, NULL);
}

static unsigned long enter_epoch(void)
{
	for (;;) {
		unsigned long e = atomic_load(&epoch);

		atomic_fetch_add(&readers[e & 1], 1);
		if (atomic_load(&epoch) == e)
			return e;
		atomic_fetch_sub(&readers[e & 1], 1);
	}
}

/* No database yet: the first login creates it, possibly in this very
 * process (sshd's monitor runs PAM, then forks the session that calls
 * initgroups), so look for it on every call until it exists rather than
 * once a second. One stat(), on hosts where no one has logged in yet. */
static bool db_appeared(const struct snap *s)
{
	struct stat st;

	return s->pub.db_err == EL_ERR_NOT_FOUND && s->c && stat(s->c->db_path, &st) == 0;
}

const struct nss_snap *nss_snap_enter(unsigned long *ret_ticket)
{
	unsigned long e;
	struct snap *s;

	if (!atomic_load(&current))
		reload(true);
	e = enter_epoch();
	s = atomic_load(&current);
	if ((s->pub.db && udb_superseded(s->pub.db)) || now_ms() >= atomic_load(&next_check_ms) ||
	    s == &empty_snap || s->retry || db_appeared(s)) {
		atomic_fetch_sub(&readers[e & 1], 1);
		reload(false);
		e = enter_epoch();
		s = atomic_load(&current);
	}
	*ret_ticket = e;
	return &s->pub;
}

void nss_snap_leave(unsigned long ticket)
{
	atomic_fetch_sub(&readers[ticket & 1], 1);
}
