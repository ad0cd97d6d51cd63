/* uidmap.c - name -> UID mapping and the local files' names and ids. libc only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"
#include "uidmap.h"

struct uidmap_local {
	char *passwd_text, *group_text;	/* the files, cut into names in place */
	char **names;			/* sorted, borrowed from the texts */
	size_t n_names;
	uint32_t *ids;			/* sorted, unique */
	size_t n_ids;
	bool names_with_at;		/* any local name looks like a directory name */
};

uint64_t uidmap_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		unsigned char c = (*p >= 'A' && *p <= 'Z') ? (unsigned char)(*p + 32) : *p;

		h ^= c;
		h *= 0x100000001b3ull;
	}
	return h;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elsize)
{
	size_t ncap, bytes;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	if (__builtin_mul_overflow(ncap, elsize, &bytes))
		return EL_ERR_NOMEM;
	p = realloc(*arr, bytes);
	if (!p)
		return EL_ERR_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Field idx (0-based, ':'-separated) of a line as an id, or -1. */
static int64_t field_id(char *const *fields, size_t nfields, size_t idx)
{
	uint64_t v;

	if (idx >= nfields || parse_uint(fields[idx], 0, UINT32_MAX, &v) < 0)
		return -1;
	return (int64_t)v;
}

/* Cut text into lines and fields; record field 0 as a name and the fields
 * listed in id_fields as ids. NIS compat lines (+name, -name) and lines
 * that are not well formed are skipped: nss_files skips them too. */
static int scan(struct uidmap_local *l, char *text, const size_t *id_fields, size_t n_id_fields,
		size_t *cap_names, size_t *cap_ids)
{
	char *line = text, *next;
	int r;

	for (; line && *line; line = next) {
		char *fields[5] = { NULL };	/* the last one holds the rest */
		size_t nf = 0;
		char *p;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '+' || line[0] == '-' || line[0] == '#' || line[0] == '\0')
			continue;
		for (p = line; p && nf < 5; nf++) {
			fields[nf] = p;
			p = nf < 4 ? strchr(p, ':') : NULL;
			if (p)
				*p++ = '\0';
		}
		if (nf < 3 || fields[0][0] == '\0')
			continue;
		r = grow((void **)&l->names, cap_names, l->n_names, sizeof(char *));
		if (r < 0)
			return r;
		l->names[l->n_names++] = fields[0];
		for (size_t i = 0; i < n_id_fields; i++) {
			int64_t id = field_id(fields, nf, id_fields[i]);

			if (id < 0)
				continue;
			r = grow((void **)&l->ids, cap_ids, l->n_ids, sizeof(uint32_t));
			if (r < 0)
				return r;
			l->ids[l->n_ids++] = (uint32_t)id;
		}
	}
	return 0;
}

static int read_optional(const char *path, char **ret_text)
{
	size_t len;
	int r;

	if (!path) {
		*ret_text = NULL;
		return 0;
	}
	errno = 0;
	r = file_read_capped(path, UIDMAP_LOCAL_FILE_MAX, ret_text, &len);
	if (r == EL_ERR_IO && errno == ENOENT) {
		*ret_text = NULL;
		return 0;
	}
	return r;
}

int uidmap_local_load(const char *passwd_path, const char *group_path, struct uidmap_local **ret_local)
{
	static const size_t pw_ids[] = { 2, 3 }, gr_ids[] = { 2 };
	struct uidmap_local *l = NULL;
	size_t cap_names = 0, cap_ids = 0, n = 0;
	int r;

	l = calloc(1, sizeof(*l));
	if (!l)
		return EL_ERR_NOMEM;
	r = read_optional(passwd_path, &l->passwd_text);
	if (r < 0)
		goto out;
	r = read_optional(group_path, &l->group_text);
	if (r < 0)
		goto out;
	r = scan(l, l->passwd_text, pw_ids, 2, &cap_names, &cap_ids);
	if (r < 0)
		goto out;
	r = scan(l, l->group_text, gr_ids, 1, &cap_names, &cap_ids);
	if (r < 0)
		goto out;
	if (l->n_names)
		qsort(l->names, l->n_names, sizeof(char *), cmp_name);
	for (size_t i = 0; i < l->n_names; i++)
		l->names_with_at |= strchr(l->names[i], '@') != NULL;
	if (l->n_ids) {
		qsort(l->ids, l->n_ids, sizeof(uint32_t), cmp_id);
		for (size_t i = 0; i < l->n_ids; i++)
			if (n == 0 || l->ids[n - 1] != l->ids[i])
				l->ids[n++] = l->ids[i];
		l->n_ids = n;
	}
	*ret_local = l;
	l = NULL;
	r = 0;
out:
	uidmap_local_free(l);
	return r;
}

void uidmap_local_free(struct uidmap_local *l)
{
	if (!l)
		return;
	free(l->names);
	free(l->ids);
	free(l->passwd_text);
	free(l->group_text);
	free(l);
}

/* Both lookups run on every NSS call: answer the usual case (a directory
 * name, a high id) without searching. */
bool uidmap_local_has_name(const struct uidmap_local *l, const char *name)
{
	if (!l || l->n_names == 0 || (!l->names_with_at && strchr(name, '@')))
		return false;
	return bsearch(&name, l->names, l->n_names, sizeof(char *), cmp_name) != NULL;
}

bool uidmap_local_has_id(const struct uidmap_local *l, uint32_t id)
{
	if (!l || l->n_ids == 0 || id > l->ids[l->n_ids - 1] || id < l->ids[0])
		return false;
	return bsearch(&id, l->ids, l->n_ids, sizeof(uint32_t), cmp_id) != NULL;
}

size_t uidmap_local_count(const struct uidmap_local *l)
{
	return l ? l->n_ids : 0;
}

int uidmap_pick(const struct el_config *cfg, const struct uidmap_local *local, const char *name,
		uidmap_taken_fn taken, void *userdata, size_t db_count, uint32_t *ret_uid)
{
	uint64_t range, start, probes;

	if (!cfg || !name || cfg->uid_min > cfg->uid_max || cfg->uid_min == 0)
		return EL_ERR_INVAL;
	if (uidmap_local_has_name(local, name))
		return EL_ERR_NOT_OURS;
	range = (uint64_t)cfg->uid_max - cfg->uid_min + 1;
	start = uidmap_hash(name) % range;
	/* Linear probing visits distinct ids, so after one more probe than
	 * there can be taken ids a free one has been found, if any exists. */
	probes = (uint64_t)db_count + uidmap_local_count(local) + 3;
	if (probes > range)
		probes = range;
	for (uint64_t k = 0; k < probes; k++) {
		uint32_t id = (uint32_t)(cfg->uid_min + (start + k) % range);
		int r;

		if (id == 0 || id == cfg->admin_gid || id == cfg->user_gid || uidmap_local_has_id(local, id))
			continue;
		r = taken ? taken(userdata, id) : 0;
		if (r < 0)
			return r;
		if (r == 0) {
			*ret_uid = id;
			return 0;
		}
	}
	return EL_ERR_FULL;
}
