/* statefile.c - trusted cache files under the state directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefile.h"
#include "strutil.h"

int state_path(const struct el_config *cfg, const char *name, char *buf, size_t buflen)
{
	const char *dir = cfg->state_dir ? cfg->state_dir : EL_STATEDIR;
	int n = snprintf(buf, buflen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= buflen ? EL_ERR_RANGE : 0;
}

/* Open and vet; on success *ret_fd is open and *st filled. */
static int open_trusted(const struct el_config *cfg, const char *name, int *ret_fd, struct stat *st)
{
	char path[4096];
	int fd, r;

	r = state_path(cfg, name, path, sizeof(path));
	if (r < 0)
		return r;
	r = dir_safe(path, true);	/* a writable directory lets others swap the caches */
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? EL_ERR_NOT_FOUND : errno == ELOOP ? EL_ERR_INSECURE : EL_ERR_IO;
	if (fstat(fd, st) < 0) {
		close(fd);
		return EL_ERR_IO;
	}
	if (!S_ISREG(st->st_mode) || !file_owner_safe(st)) {
		close(fd);
		return EL_ERR_INSECURE;
	}
	*ret_fd = fd;
	return 0;
}

int state_stat(const struct el_config *cfg, const char *name, time_t *ret_mtime)
{
	struct stat st;
	int fd = -1, r;

	r = open_trusted(cfg, name, &fd, &st);
	if (r < 0)
		return r;
	close(fd);
	*ret_mtime = st.st_mtime;
	return 0;
}

int state_read(const struct el_config *cfg, const char *name, size_t cap, char **ret_text, size_t *ret_len,
	       time_t *ret_mtime)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r;

	r = open_trusted(cfg, name, &fd, &st);
	if (r < 0)
		return r;
	r = fd_read_capped(fd, cap, &text, &len);
	if (r == EL_ERR_RANGE)
		r = EL_ERR_CORRUPT;
	if (r < 0)
		goto out;
	*ret_text = text;
	*ret_len = len;
	if (ret_mtime)
		*ret_mtime = st.st_mtime;
	text = NULL;
	r = 0;
out:
	free(text);
	close(fd);
	return r;
}

int state_write(const struct el_config *cfg, const char *name, const void *data, size_t len)
{
	const char *dir = cfg->state_dir ? cfg->state_dir : EL_STATEDIR;
	char path[4096];
	int r;

	r = state_path(cfg, name, path, sizeof(path));
	if (r < 0)
		return r;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return EL_ERR_IO;
	r = dir_safe(dir, false);
	if (r < 0)
		return r;
	return file_write_atomic(path, data, len, 0644);
}

int state_format_check(const json_t *root)
{
	const json_t *f;

	if (!json_is_object(root))
		return EL_ERR_CORRUPT;
	f = json_object_get(root, STATE_FORMAT_KEY);
	if (!f)
		return 0;
	if (!json_is_integer(f) || json_integer_value(f) < 1)
		return EL_ERR_CORRUPT;
	return json_integer_value(f) > STATE_FORMAT ? EL_ERR_NEWER_FORMAT : 0;
}

int state_file_format(const struct el_config *cfg, const char *name)
{
	json_error_t jerr;
	json_t *root;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = state_read(cfg, name, 4 * 1024 * 1024, &text, &len, NULL);
	if (r < 0)
		return r;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	r = state_format_check(root);
	json_decref(root);
	free(text);
	return r;
}

bool state_age_below(time_t mtime, time_t now, time_t max_age)
{
	if (mtime > now + STATE_FUTURE_SLACK)
		return false;
	return mtime >= now || now - mtime < max_age;
}
