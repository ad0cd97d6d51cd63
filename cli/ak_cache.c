/* ak_cache.c - the one-minute decision cache of `authorized-keys` (ak_cache.h).
 *
 * sshd runs the command twice per offered key (query, then the signed
 * attempt); the second run reuses the first decision instead of asking ARM
 * again. {state_dir}/akcache/ is root's, 0700; each entry is named by the
 * lower-hex SHA-256 of user NUL blob, 0600, holding "CODE LINE\n" (CODE 0 =
 * granted and LINE the authorized_keys line, else the refusal code).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ak_cache.h"
#include "strutil.h"

static int entry_path(const struct el_config *cfg, const char *user, const char *blob, char *buf, size_t len,
		      char *dir, size_t dlen)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char hex[65];
	int n, ok;

	if (!ctx)
		return EL_ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, user, strlen(user) + 1) == 1 &&
	     EVP_DigestUpdate(ctx, blob, strlen(blob)) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok || mdlen != 32)
		return EL_ERR_NOMEM;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	n = snprintf(dir, dlen, "%s/%s", cfg->state_dir, AK_CACHE_DIR);
	if (n < 0 || (size_t)n >= dlen)
		return EL_ERR_RANGE;
	n = snprintf(buf, len, "%s/%s", dir, hex);
	return n < 0 || (size_t)n >= len ? EL_ERR_RANGE : 0;
}

int ak_cache_get(const struct el_config *cfg, const char *user, const char *blob, time_t now, int *ret_code,
		 char *line, size_t linelen)
{
	char path[4200], dir[4096], buf[AK_LINE_MAX + 32], *sp, *end;
	struct stat st;
	ssize_t got;
	long code;
	int fd, r;

	r = entry_path(cfg, user, blob, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	if (!dir_private(dir))
		return EL_ERR_NOT_FOUND;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return EL_ERR_NOT_FOUND;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) ||
	    st.st_mtime > now || now - st.st_mtime >= AK_CACHE_TTL) {
		close(fd);
		return EL_ERR_NOT_FOUND;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0 || buf[got - 1] != '\n')
		return EL_ERR_NOT_FOUND;
	buf[got - 1] = '\0';
	errno = 0;
	code = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != ' ' && *end != '\0') || code > 0 || code < -1000)
		return EL_ERR_NOT_FOUND;
	sp = *end ? end + 1 : end;
	if (code == 0 && (strlen(sp) + 1 > linelen || !*sp))
		return EL_ERR_NOT_FOUND;
	if (code == 0)
		memcpy(line, sp, strlen(sp) + 1);
	*ret_code = (int)code;
	return 0;
}

/* Remove entries older than the TTL (best effort, a few per call). */
static void prune(const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int fd = d ? dirfd(d) : -1, seen = 0;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL && seen++ < 256) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && now - st.st_mtime > 2 * AK_CACHE_TTL)
			(void)unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
}

int ak_cache_put(const struct el_config *cfg, const char *user, const char *blob, time_t now, int code,
		 const char *line)
{
	char path[4200], dir[4096], buf[AK_LINE_MAX + 32];
	int r, n;

	r = entry_path(cfg, user, blob, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	r = dir_make_private(cfg->state_dir, dir);
	if (r < 0)
		return r;
	prune(dir, now);
	n = snprintf(buf, sizeof(buf), "%d %s\n", code, code == 0 && line ? line : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return EL_ERR_RANGE;
	return file_replace_private(path, buf, (size_t)n);
}

/* Drop every entry (entries are keyed by a hash of user and blob, so one
 * user's cannot be picked out): forget and rename must not let a decision
 * made before them be replayed for up to AK_CACHE_TTL seconds. */
int ak_cache_clear(const struct el_config *cfg)
{
	char dir[4096];
	DIR *d;
	struct dirent *de;
	int n, r = 0;

	n = snprintf(dir, sizeof(dir), "%s/%s", cfg->state_dir, AK_CACHE_DIR);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return EL_ERR_RANGE;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : EL_ERR_IO;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			r = EL_ERR_IO;
	}
	closedir(d);
	return r;
}
