/* ak_cache.c - the one-minute decision cache of `authorized-keys` (ak_cache.h).
 *
 * sshd runs the command twice per offered key (query, then the signed
 * attempt); the second run reuses the first decision instead of asking ARM
 * again. {state_dir}/akcache/ is root's, 0700; each entry is named by the
 * lower-hex SHA-256 of user NUL blob, 0600, holding
 *   "2 CODE VALID_AFTER VALID_BEFORE OID TID ROLE LINE\n"
 * (2 = AK_CACHE_VERSION; CODE 0 = granted, LINE the authorized_keys line,
 * OID/TID/ROLE what PAM account needs; else the refusal code and "-" for
 * the rest). An entry of another version (1 had no version field) is a miss.
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
#include "names.h"
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

int ak_cache_get(const struct el_config *cfg, const char *user, const char *blob, time_t now,
		 struct ak_decision *ret)
{
	char path[4200], dir[4096], buf[AK_LINE_MAX + 160], oid[40], tid[40];
	struct ak_decision d = { 0 };
	struct stat st;
	ssize_t got;
	int fd, r, version, code, role, used = 0;
	long long va, vb;

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
	if (sscanf(buf, "%d %d %lld %lld %39s %39s %d %n", &version, &code, &va, &vb, oid, tid, &role, &used) != 7 ||
	    used == 0 || version != AK_CACHE_VERSION || code > 0 || code < -1000)
		return EL_ERR_NOT_FOUND;
	d.code = code;
	if (code == 0) {
		const char *line = buf + used;

		/* The certificate's window, against the time of this use. */
		if ((long long)now < va || (long long)now >= vb)
			return EL_ERR_NOT_FOUND;
		if (!*line || strlen(line) + 1 > sizeof(d.line) || !name_is_guid_lower(oid) ||
		    !name_is_guid_lower(tid) || (role != 1 && role != 2))
			return EL_ERR_NOT_FOUND;
		memcpy(d.line, line, strlen(line) + 1);
		memcpy(d.oid, oid, 37);
		memcpy(d.tid, tid, 37);
		d.role = role;
		d.valid_after = va;
		d.valid_before = vb;
	}
	*ret = d;
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

int ak_cache_put(const struct el_config *cfg, const char *user, const char *blob, time_t now,
		 const struct ak_decision *d)
{
	char path[4200], dir[4096], buf[AK_LINE_MAX + 160];
	int r, n;

	r = entry_path(cfg, user, blob, path, sizeof(path), dir, sizeof(dir));
	if (r < 0)
		return r;
	r = dir_make_private(cfg->state_dir, dir);
	if (r < 0)
		return r;
	prune(dir, now);
	if (d->code == 0)
		n = snprintf(buf, sizeof(buf), "%d 0 %lld %lld %s %s %d %s\n", AK_CACHE_VERSION, d->valid_after,
			     d->valid_before, d->oid, d->tid, d->role, d->line);
	else
		n = snprintf(buf, sizeof(buf), "%d %d 0 0 - - 0 -\n", AK_CACHE_VERSION, d->code);
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
