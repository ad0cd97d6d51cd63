/* certgrant.c - the per-user "role granted by authorized-keys" record (certgrant.h). libc only. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certgrant.h"
#include "el_limits.h"
#include "names.h"
#include "strutil.h"

static bool user_ok(const char *user)
{
	size_t n = user ? strnlen(user, EL_NAME_MAX + 1) : 0;

	if (n == 0 || n > EL_NAME_MAX || user[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = user[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("@.-_+'", c)))
			return false;
	}
	return true;
}

/* dir = {state_dir}/sub and buf = the record of user in it. */
static int record_path(const struct el_config *cfg, const char *sub, const char *user, char *buf, size_t len,
		       char *dir, size_t dlen)
{
	int n;

	if (!user_ok(user))
		return EL_ERR_INVAL;
	n = snprintf(dir, dlen, "%s/%s", cfg->state_dir, sub);
	if (n < 0 || (size_t)n >= dlen)
		return EL_ERR_RANGE;
	n = snprintf(buf, len, "%s/%s", dir, user);
	return n < 0 || (size_t)n >= len ? EL_ERR_RANGE : 0;
}

int certgrant_record(const struct el_config *cfg, const char *user, const char *oid, time_t now)
{
	char dir[4096], path[4096], line[128];
	int r, n;

	r = record_path(cfg, CERTGRANT_DIR, user, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	r = dir_make_private(cfg->state_dir, dir);
	if (r < 0)
		return r;
	n = snprintf(line, sizeof(line), "%.36s %lld\n", oid ? oid : "-", (long long)now);
	if (n < 0 || (size_t)n >= sizeof(line))
		return EL_ERR_RANGE;
	return file_replace_private(path, line, (size_t)n);
}

/* Read user's record in sub into buf (NUL-terminated), after the ownership and mode checks. */
static int read_record(const struct el_config *cfg, const char *sub, const char *user, char *buf, size_t len,
		       char *ret_path, size_t pathlen)
{
	char dir[4096];
	struct stat st;
	ssize_t got;
	int fd, r;

	r = record_path(cfg, sub, user, ret_path, pathlen, dir, sizeof(dir));
	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? EL_ERR_NOT_FOUND : EL_ERR_IO;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		return EL_ERR_INSECURE;
	fd = open(ret_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? EL_ERR_NOT_FOUND : EL_ERR_IO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		return EL_ERR_INSECURE;
	}
	got = read(fd, buf, len - 1);
	close(fd);
	if (got <= 0)
		return EL_ERR_CORRUPT;
	buf[got] = '\0';
	return 0;
}

/* The grant time of user's record. */
static int read_grant(const struct el_config *cfg, const char *user, long long *ret_t)
{
	char path[4096], buf[128];
	long long t;
	int r;

	r = read_record(cfg, CERTGRANT_DIR, user, buf, sizeof(buf), path, sizeof(path));
	if (r < 0)
		return r;
	{
		char *sp = strchr(buf, ' '), *end = NULL;

		if (!sp)
			return EL_ERR_CORRUPT;
		errno = 0;
		t = strtoll(sp + 1, &end, 10);
		if (errno || end == sp + 1 || *end != '\n')
			return EL_ERR_CORRUPT;
	}
	*ret_t = t;
	return 0;
}

int certgrant_recent(const struct el_config *cfg, const char *user, time_t now)
{
	long long t = 0;
	int r = read_grant(cfg, user, &t);

	if (r < 0)
		return r;
	if (t > (long long)now + cfg->clock_skew || (long long)now - t > CERTGRANT_WINDOW)
		return EL_ERR_NOT_FOUND;
	return 0;
}

int certgrant_last(const struct el_config *cfg, const char *user, time_t *ret_time)
{
	long long t = 0;
	int r = read_grant(cfg, user, &t);

	if (r == 0)
		*ret_time = (time_t)t;
	return r;
}

int certgrant_clear(const struct el_config *cfg, const char *user)
{
	static const char *const subs[] = { CERTGRANT_DIR, CERTPENDING_DIR };
	char dir[4096], path[4096];
	int r;

	/* The grant and a decision still pending for the PAM account stage. */
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		r = record_path(cfg, subs[i], user, path, sizeof(path), dir, sizeof(dir));
		if (r < 0)
			return r;
		if (unlink(path) < 0 && errno != ENOENT)
			return EL_ERR_IO;
	}
	return 0;
}

/* Parse a pending record (role 0 = conflict). 0 or EL_ERR_CORRUPT. */
static int parse_pending(const char *buf, struct certgrant_pending *ret)
{
	struct certgrant_pending p = { 0 };
	char *end;
	long version;
	int role, used = 0;

	errno = 0;
	version = strtol(buf, &end, 10);
	if (errno || end == buf || *end != ' ' || version != CERTPENDING_VERSION)
		return EL_ERR_CORRUPT;	/* a newer version is refused, never misread */
	if (sscanf(end, " %36s %36s %d %lld%n", p.oid, p.tid, &role, &p.at, &used) != 4 || end[used] != '\n' ||
	    end[used + 1] != '\0' || !name_is_guid_lower(p.oid) || !name_is_guid_lower(p.tid) || role < 0 || role > 2)
		return EL_ERR_CORRUPT;
	p.role = role;
	*ret = p;
	return 0;
}

static bool pending_fresh(const struct el_config *cfg, const struct certgrant_pending *p, time_t now)
{
	return p->at <= (long long)now + cfg->clock_skew && (long long)now - p->at <= CERTGRANT_WINDOW;
}

int certgrant_pending_put(const struct el_config *cfg, const char *user, const char *oid, const char *tid, int role,
			  time_t now)
{
	char dir[4096], path[4096], line[160], old[160];
	struct certgrant_pending prev;
	int r, n;

	if (!name_is_guid_lower(oid) || !name_is_guid_lower(tid) || (role != 1 && role != 2))
		return EL_ERR_INVAL;
	r = record_path(cfg, CERTPENDING_DIR, user, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	r = dir_make_private(cfg->state_dir, dir);
	if (r < 0)
		return r;
	/* Two objects' certificates for one name within the window: the account
	 * stage cannot tell whose signature sshd verified (it does not see the
	 * certificate), so neither decision may be consumed: a conflict (role 0). */
	if (read_record(cfg, CERTPENDING_DIR, user, old, sizeof(old), path, sizeof(path)) == 0 &&
	    parse_pending(old, &prev) == 0 && pending_fresh(cfg, &prev, now) &&
	    (prev.role == 0 || strcmp(prev.oid, oid) != 0 || strcmp(prev.tid, tid) != 0))
		role = 0;
	n = snprintf(line, sizeof(line), "%d %s %s %d %lld\n", CERTPENDING_VERSION, oid, tid, role, (long long)now);
	if (n < 0 || (size_t)n >= sizeof(line))
		return EL_ERR_RANGE;
	return file_replace_private(path, line, (size_t)n);
}

bool certgrant_pending_fresh(const struct el_config *cfg, const char *user, const char *oid, time_t now)
{
	struct certgrant_pending p;
	char path[4096], buf[160];

	return read_record(cfg, CERTPENDING_DIR, user, buf, sizeof(buf), path, sizeof(path)) == 0 &&
	       parse_pending(buf, &p) == 0 && pending_fresh(cfg, &p, now) && p.role != 0 && strcmp(p.oid, oid) == 0;
}

int certgrant_pending_take(const struct el_config *cfg, const char *user, time_t now, struct certgrant_pending *ret)
{
	struct certgrant_pending p;
	char path[4096], buf[160];
	int r;

	r = read_record(cfg, CERTPENDING_DIR, user, buf, sizeof(buf), path, sizeof(path));
	if (r < 0)
		return r;
	/* One decision, one login: gone whatever it says. */
	if (unlink(path) < 0)
		return EL_ERR_IO;
	r = parse_pending(buf, &p);
	if (r < 0)
		return r;
	if (!pending_fresh(cfg, &p, now))
		return EL_ERR_NOT_FOUND;
	if (p.role == 0)
		return EL_ERR_BOUND_OTHER;	/* two objects asked for the name at once */
	*ret = p;
	return 0;
}
