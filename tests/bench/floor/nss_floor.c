/* nss_floor.c - libnss_floor.so.2, the benchmark's floor: an NSS module
 * that answers one user and one group from static memory (copying strings
 * into the caller's buffer as every real module must), so glibc's own cost
 * per lookup can be told apart from a module's. libc only. Built by
 * tests/bench/run_nss.sh, never installed. */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>
#include <sys/types.h>

#define PUBLIC __attribute__((visibility("default")))
#define FLOOR_ID 4242

static char *put(char **p, size_t *left, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = *p;

	if (n > *left)
		return NULL;
	memcpy(d, s, n);
	*p += n;
	*left -= n;
	return d;
}

static enum nss_status fill_pw(struct passwd *pw, char *buf, size_t len, int *errnop)
{
	char *p = buf;

	pw->pw_name = put(&p, &len, "flooruser");
	pw->pw_passwd = put(&p, &len, "*");
	pw->pw_gecos = put(&p, &len, "Floor");
	pw->pw_dir = put(&p, &len, "/home/flooruser");
	pw->pw_shell = put(&p, &len, "/bin/bash");
	if (!pw->pw_name || !pw->pw_passwd || !pw->pw_gecos || !pw->pw_dir || !pw->pw_shell) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	pw->pw_uid = pw->pw_gid = FLOOR_ID;
	return NSS_STATUS_SUCCESS;
}

static enum nss_status fill_gr(struct group *gr, char *buf, size_t len, int *errnop)
{
	char **mem = (char **)(void *)buf;
	char *p = buf + 2 * sizeof(char *);

	if (len < 2 * sizeof(char *)) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	len -= 2 * sizeof(char *);
	gr->gr_name = put(&p, &len, "floorgroup");
	gr->gr_passwd = put(&p, &len, "*");
	mem[0] = put(&p, &len, "flooruser");
	mem[1] = NULL;
	if (!gr->gr_name || !gr->gr_passwd || !mem[0]) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	gr->gr_gid = FLOOR_ID;
	gr->gr_mem = mem;
	return NSS_STATUS_SUCCESS;
}

PUBLIC enum nss_status _nss_floor_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, int *errnop);
enum nss_status _nss_floor_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	return strcmp(name, "flooruser") == 0 ? fill_pw(pw, buf, len, errnop) : NSS_STATUS_NOTFOUND;
}

PUBLIC enum nss_status _nss_floor_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop);
enum nss_status _nss_floor_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	return uid == FLOOR_ID ? fill_pw(pw, buf, len, errnop) : NSS_STATUS_NOTFOUND;
}

PUBLIC enum nss_status _nss_floor_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, int *errnop);
enum nss_status _nss_floor_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, int *errnop)
{
	return strcmp(name, "floorgroup") == 0 ? fill_gr(gr, buf, len, errnop) : NSS_STATUS_NOTFOUND;
}

PUBLIC enum nss_status _nss_floor_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop);
enum nss_status _nss_floor_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop)
{
	return gid == FLOOR_ID ? fill_gr(gr, buf, len, errnop) : NSS_STATUS_NOTFOUND;
}

PUBLIC enum nss_status _nss_floor_initgroups_dyn(const char *user, gid_t group, long *start, long *size,
						 gid_t **groupsp, long limit, int *errnop);
enum nss_status _nss_floor_initgroups_dyn(const char *user, gid_t group, long *start, long *size, gid_t **groupsp,
					  long limit, int *errnop)
{
	(void)errnop;
	(void)limit;
	if (strcmp(user, "flooruser") != 0)
		return NSS_STATUS_NOTFOUND;
	if (group != FLOOR_ID + 1 && *start < *size)
		(*groupsp)[(*start)++] = FLOOR_ID + 1;
	return NSS_STATUS_SUCCESS;
}
