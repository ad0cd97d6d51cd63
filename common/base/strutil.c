/* strutil.c - small string and file helpers. libc only. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "strutil.h"

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret_v)
{
	uint64_t v = 0;

	if (!s || !*s)
		return EL_ERR_INVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return EL_ERR_INVAL;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return EL_ERR_INVAL;
	}
	if (v < min || v > max)
		return EL_ERR_INVAL;
	*ret_v = v;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char *str_strip(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

int str_copy(char *buf, size_t buflen, const char *src)
{
	size_t n = strlen(src);

	if (buflen == 0)
		return EL_ERR_RANGE;
	if (n >= buflen) {
		buf[0] = '\0';
		return EL_ERR_RANGE;
	}
	memcpy(buf, src, n + 1);
	return 0;
}

int str_lower(char *buf, size_t buflen, const char *src)
{
	size_t i;

	for (i = 0; src[i]; i++) {
		if (i + 1 >= buflen) {
			if (buflen)
				buf[0] = '\0';
			return EL_ERR_RANGE;
		}
		buf[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + 32) : src[i];
	}
	if (buflen == 0)
		return EL_ERR_RANGE;
	buf[i] = '\0';
	return 0;
}

bool str_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

bool file_owner_safe(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return false;
	return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

int dir_safe(const char *path, bool dir_of_file)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	if (str_copy(dir, sizeof(dir), path) < 0)
		return EL_ERR_RANGE;
	if (dir_of_file) {
		slash = strrchr(dir, '/');
		if (!slash) {
			dir[0] = '.';
			dir[1] = '\0';
		} else {
			if (slash == dir)
				slash++;	/* "/x": the root directory */
			*slash = '\0';
		}
	}
	if (stat(dir, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? EL_ERR_NOT_FOUND : EL_ERR_IO;
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return EL_ERR_INSECURE;
	return 0;
}

int fd_read_capped(int fd, size_t cap, char **ret_text, size_t *ret_len)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int r;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return EL_ERR_IO;
	if ((uint64_t)st.st_size > cap)
		return EL_ERR_RANGE;
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return EL_ERR_NOMEM;
	/* Read what fstat promised; a file that grew meanwhile is truncated at that size. */
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, text + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = EL_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	*ret_text = text;
	*ret_len = len;
	text = NULL;
	r = 0;
out:
	free(text);
	return r;
}

int file_read_capped(const char *path, size_t cap, char **ret_text, size_t *ret_len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return EL_ERR_IO;
	r = fd_read_capped(fd, cap, ret_text, ret_len);
	close(fd);
	return r;
}

int file_replace_private(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd, r, n;

	n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return EL_ERR_RANGE;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return EL_ERR_IO;
	r = write(fd, data, len) == (ssize_t)len && fchmod(fd, 0600) == 0 ? 0 : EL_ERR_IO;
	if (close(fd) < 0)
		r = EL_ERR_IO;
	if (r == 0 && rename(tmp, path) < 0)
		r = EL_ERR_IO;
	if (r < 0) {
		int saved = errno;	/* the cause (ENOSPC, EROFS) for the caller's message */

		(void)unlink(tmp);
		errno = saved;
	}
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *p = data;
	int fd = -1, dfd = -1, r = EL_ERR_IO, saved;

	/* mkostemp, not a pid suffix: two threads of one process may write the same file. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return EL_ERR_RANGE;
	if (str_copy(dir, sizeof(dir), path) < 0)
		return EL_ERR_RANGE;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		tmp[0] = '\0';
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		goto out;
	if (close(fd) < 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out;
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	r = 0;
out:
	saved = errno;	/* the cause (ENOSPC, EROFS, EIO): callers name it */
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp[0])
		(void)unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	errno = saved;
	return r;
}

bool dir_private(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 077);
}

int dir_make_private(const char *parent, const char *dir)
{
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return EL_ERR_IO;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return EL_ERR_IO;
	return dir_private(dir) ? 0 : EL_ERR_INSECURE;
}

int file_map_root(const char *path, size_t min, size_t max, const void **ret_base, size_t *ret_size)
{
	struct stat st;
	void *map;
	int fd = -1, r;

	/* Whoever can write the directory can swap the file under us. */
	r = dir_safe(path, true);
	if (r < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = (errno == ENOENT || errno == ENOTDIR) ? EL_ERR_NOT_FOUND
		    : errno == ELOOP ? EL_ERR_INSECURE : EL_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = EL_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		r = EL_ERR_INSECURE;
		goto out;
	}
	if (st.st_size < (off_t)min || (uint64_t)st.st_size > (uint64_t)max) {
		r = EL_ERR_CORRUPT;
		goto out;
	}
	/* Shared, never copied: every process reads the same page-cache pages,
	 * and only those a lookup touches. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = errno == ENOMEM ? EL_ERR_NOMEM : EL_ERR_IO;
		goto out;
	}
	*ret_base = map;
	*ret_size = (size_t)st.st_size;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Real time, not counted sleeps: a waiter starved of CPU oversleeps. A
 * changed inode at watch (writers rename a new file into place) means the
 * queue moves, and restarts the timeout. */
int fd_lock_wait(int fd, unsigned timeout_ms, unsigned max_ms, const char *watch)
{
	const struct timespec pause = { 0, 5 * 1000 * 1000 };
	uint64_t start = monotonic_ms(), progress = start;
	struct stat seen, st;
	bool have = watch && stat(watch, &seen) == 0;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		uint64_t now = monotonic_ms();

		if (errno != EWOULDBLOCK && errno != EINTR)
			return EL_ERR_LOCK;
		if (watch && stat(watch, &st) == 0 && (!have || st.st_ino != seen.st_ino || st.st_dev != seen.st_dev)) {
			seen = st;
			have = true;
			progress = now;
		}
		if (now - progress >= timeout_ms || now - start >= max_ms)
			return EL_ERR_LOCK;
		nanosleep(&pause, NULL);
	}
	return 0;
}
