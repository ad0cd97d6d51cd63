/* groups.c - mapped Entra groups for the NSS module (see groups.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "groupdb.h"
#include "groups.h"
#include "pack.h"
#include "uidmap.h"

struct gmap {
	struct gdb *db;		/* NULL: see err */
	int err;		/* EL_ERR_NOT_FOUND: no file (no groups) */
	unsigned refs;		/* readers + 1 while current */
	char path[4096];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	long long checked_ms;
};

static pthread_mutex_t gl = PTHREAD_MUTEX_INITIALIZER;
static struct gmap *cur;	/* under gl */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&gl);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&gl);
}

static void fork_child(void)
{
	pthread_mutex_init(&gl, NULL);
}

static void register_atfork(void)
{
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void unref_locked(struct gmap *m)
{
	if (m && --m->refs == 0) {
		gdb_close(m->db);
		free(m);
	}
}

static bool same_file(const struct gmap *m, const char *path, const struct stat *st, int stat_err)
{
	if (strcmp(m->path, path) != 0)
		return false;
	if (stat_err)
		return m->err == EL_ERR_NOT_FOUND && stat_err == ENOENT;
	return m->db && m->dev == st->st_dev && m->ino == st->st_ino && m->size == st->st_size &&
	       m->mtim.tv_sec == st->st_mtim.tv_sec && m->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       m->ctim.tv_sec == st->st_ctim.tv_sec && m->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* A referenced mapping for s's configuration (release with put()), or NULL
 * when groups are not mapped. */
static struct gmap *get(const struct nss_snap *s)
{
	struct gmap *m = NULL, *fresh;
	char path[4096];
	struct stat st;
	long long now;
	int stat_err = 0, saved = errno;

	if (!s->cfg || !s->cfg->groups_mapped || gdb_path(s->cfg, path, sizeof(path)) < 0)
		return NULL;
	(void)pthread_once(&atfork_once, register_atfork);
	now = now_ms();
	pthread_mutex_lock(&gl);
	if (cur && strcmp(cur->path, path) == 0 && now - cur->checked_ms < 1000 && now >= cur->checked_ms) {
		m = cur;
		m->refs++;
		pthread_mutex_unlock(&gl);
		return m;
	}
	if (stat(path, &st) < 0)
		stat_err = errno ? errno : EIO;
	if (cur && same_file(cur, path, &st, stat_err)) {
		cur->checked_ms = now;
		m = cur;
		m->refs++;
		pthread_mutex_unlock(&gl);
		errno = saved;
		return m;
	}
	pthread_mutex_unlock(&gl);
	/* Map outside the lock; the loser of a race just drops its copy. */
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh) {
		errno = saved;
		return NULL;
	}
	snprintf(fresh->path, sizeof(fresh->path), "%s", path);
	fresh->err = gdb_open_path(path, &fresh->db);
	if (fresh->err == 0 && stat_err == 0) {
		fresh->dev = st.st_dev;
		fresh->ino = st.st_ino;
		fresh->size = st.st_size;
		fresh->mtim = st.st_mtim;
		fresh->ctim = st.st_ctim;
	}
	fresh->checked_ms = now;
	fresh->refs = 2;	/* current + this reader */
	pthread_mutex_lock(&gl);
	if (fresh->err == EL_ERR_NOMEM || fresh->err == EL_ERR_IO)
		fresh->checked_ms = now - 1000;	/* passing trouble: look again next call */
	unref_locked(cur);
	cur = fresh;
	pthread_mutex_unlock(&gl);
	errno = saved;
	return fresh;
}

static void put(struct gmap *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&gl);
	unref_locked(m);
	pthread_mutex_unlock(&gl);
}

struct members {
	const struct nss_snap *s;
	const struct gdb_group *g;
	nssgr_member_fn member;
};

static int member_at(void *userdata, size_t i, const char **ret_name)
{
	const struct members *m = userdata;

	return m->member(m->s, m->g->members[i], ret_name);
}

/* The group may be answered: its gid in range, name and gid not local. */
static int visible(const struct nss_snap *s, const struct gdb_group *g)
{
	const struct el_config *c = s->cfg;

	if (g->gid < c->gid_min || g->gid > c->gid_max || g->gid == c->admin_gid || g->gid == c->user_gid)
		return EL_ERR_NOT_FOUND;
	if (!s->local || uidmap_local_has_name(s->local, g->name) || uidmap_local_has_id(s->local, g->gid))
		return EL_ERR_NOT_FOUND;
	return 0;
}

static int pack_one(const struct nss_snap *s, const struct gdb_group *g, nssgr_member_fn member, struct group *gr,
		    char *buf, size_t len)
{
	struct members m = { s, g, member };
	int r = visible(s, g);

	if (r < 0)
		return r;
	return pack_group(gr, buf, len, g->name, g->gid, g->n_members, member_at, &m);
}

static int usable(const struct gmap *m)
{
	if (!m)
		return EL_ERR_NOT_FOUND;
	return m->db ? 0 : m->err;
}

int nssgr_by_name(const struct nss_snap *s, const char *name, nssgr_member_fn member, struct group *gr, char *buf,
		  size_t len)
{
	struct gmap *m = get(s);
	struct gdb_group g;
	int r = usable(m);

	if (r == 0)
		r = gdb_lookup_name(m->db, name, &g);
	if (r == 0)
		r = pack_one(s, &g, member, gr, buf, len);
	put(m);
	return r;
}

int nssgr_by_gid(const struct nss_snap *s, uint32_t gid, nssgr_member_fn member, struct group *gr, char *buf,
		 size_t len)
{
	struct gmap *m;
	struct gdb_group g;
	int r;

	if (!s->cfg || gid < s->cfg->gid_min || gid > s->cfg->gid_max)
		return EL_ERR_NOT_FOUND;
	m = get(s);
	r = usable(m);
	if (r == 0)
		r = gdb_lookup_gid(m->db, gid, &g);
	if (r == 0)
		r = pack_one(s, &g, member, gr, buf, len);
	put(m);
	return r;
}

int nssgr_next(const struct nss_snap *s, unsigned *cursor, nssgr_member_fn member, struct group *gr, char *buf,
	       size_t len)
{
	struct gmap *m = get(s);
	struct gdb_group g;
	int r = usable(m);

	for (; r == 0 && *cursor < gdb_count(m->db); (*cursor)++) {
		r = gdb_get(m->db, *cursor, &g);
		if (r == 0)
			r = pack_one(s, &g, member, gr, buf, len);
		if (r != EL_ERR_NOT_FOUND)
			goto out;
		r = 0;
	}
	if (r == 0)
		r = EL_ERR_NOT_FOUND;
out:
	put(m);
	return r;
}

int nssgr_initgroups(const struct nss_snap *s, uint32_t uid, gid_t skip, long *start, long *size, gid_t **groupsp,
		     long limit, nssgr_add_fn add)
{
	struct gmap *m = get(s);
	const uint32_t *gids = NULL;
	uint32_t n = 0;
	int r = usable(m);

	if (r == 0)
		r = gdb_user_gids(m->db, uid, &gids, &n);
	for (uint32_t i = 0; r == 0 && i < n; i++) {
		struct gdb_group g;

		/* The group record decides (checksummed, visible), not the index alone. */
		if (gdb_lookup_gid(m->db, gids[i], &g) < 0 || visible(s, &g) < 0)
			continue;
		r = add(gids[i], skip, start, size, groupsp, limit);
	}
	put(m);
	return r == EL_ERR_NOT_FOUND ? 0 : r;
}
