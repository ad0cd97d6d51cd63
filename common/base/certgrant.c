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

/* dir = {state_dir}/CERTGRANT_DIR and buf = the record of user in it. */
static int grant_path(const struct el_config *cfg, const char *user, char *buf, size_t len, char *dir,
		      size_t dlen)
{
	int n;

	if (!user_ok(user))
		return EL_ERR_INVAL;
	n = snprintf(dir, dlen, "%s/%s", cfg->state_dir, CERTGRANT_DIR);
	if (n < 0 || (size_t)n >= dlen)
		return EL_ERR_RANGE;
	n = snprintf(buf, len, "%s/%s", dir, user);
	return n < 0 || (size_t)n >= len ? EL_ERR_RANGE : 0;
}

int certgrant_record(const struct el_config *cfg, const char *user, const char *oid, time_t now)
{
	char dir[4096], path[4096], line[128];
	int r, n;

	r = grant_path(cfg, user, path, sizeof(path), dir, sizeof(dir));
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

/* The grant time of user's record, after the ownership and mode checks. */
static int read_grant(const struct el_config *cfg, const char *user, long long *ret_t)
{
	char dir[4096], path[4096], buf[128];
	struct stat st;
	long long t;
	ssize_t got;
	int fd, r;

	r = grant_path(cfg, user, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? EL_ERR_NOT_FOUND : EL_ERR_IO;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		return EL_ERR_INSECURE;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? EL_ERR_NOT_FOUND : EL_ERR_IO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		return EL_ERR_INSECURE;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return EL_ERR_CORRUPT;
	buf[got] = '\0';
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
	char dir[4096], path[4096];
	int r;

	r = grant_path(cfg, user, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? EL_ERR_IO : 0;
}
