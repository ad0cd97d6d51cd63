/* nss_common.h - shared by the tests/nss tools: load libnss_entra.so.2
 * with dlopen and reach its entry points directly, like glibc does. */
#ifndef EL_TESTS_NSS_COMMON_H
#define EL_TESTS_NSS_COMMON_H

#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

struct nss_fns {
	enum nss_status (*getpwnam_r)(const char *, struct passwd *, char *, size_t, int *);
	enum nss_status (*getpwuid_r)(uid_t, struct passwd *, char *, size_t, int *);
	enum nss_status (*getgrnam_r)(const char *, struct group *, char *, size_t, int *);
	enum nss_status (*getgrgid_r)(gid_t, struct group *, char *, size_t, int *);
	enum nss_status (*getspnam_r)(const char *, struct spwd *, char *, size_t, int *);
	enum nss_status (*initgroups_dyn)(const char *, gid_t, long *, long *, gid_t **, long, int *);
	enum nss_status (*setpwent)(int);
	enum nss_status (*getpwent_r)(struct passwd *, char *, size_t, int *);
	enum nss_status (*endpwent)(void);
	enum nss_status (*setgrent)(int);
	enum nss_status (*getgrent_r)(struct group *, char *, size_t, int *);
	enum nss_status (*endgrent)(void);
};

static inline void *nss_sym(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (!p) {
		fprintf(stderr, "missing symbol %s\n", name);
		exit(2);
	}
	return p;
}

static inline void nss_load(const char *so, struct nss_fns *f)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", so, dlerror());
		exit(2);
	}
	*(void **)&f->getpwnam_r = nss_sym(h, "_nss_entra_getpwnam_r");
	*(void **)&f->getpwuid_r = nss_sym(h, "_nss_entra_getpwuid_r");
	*(void **)&f->getgrnam_r = nss_sym(h, "_nss_entra_getgrnam_r");
	*(void **)&f->getgrgid_r = nss_sym(h, "_nss_entra_getgrgid_r");
	*(void **)&f->getspnam_r = nss_sym(h, "_nss_entra_getspnam_r");
	*(void **)&f->initgroups_dyn = nss_sym(h, "_nss_entra_initgroups_dyn");
	*(void **)&f->setpwent = nss_sym(h, "_nss_entra_setpwent");
	*(void **)&f->getpwent_r = nss_sym(h, "_nss_entra_getpwent_r");
	*(void **)&f->endpwent = nss_sym(h, "_nss_entra_endpwent");
	*(void **)&f->setgrent = nss_sym(h, "_nss_entra_setgrent");
	*(void **)&f->getgrent_r = nss_sym(h, "_nss_entra_getgrent_r");
	*(void **)&f->endgrent = nss_sym(h, "_nss_entra_endgrent");
}

static inline const char *nss_status_name(enum nss_status s)
{
	switch (s) {
	case NSS_STATUS_SUCCESS: return "SUCCESS";
	case NSS_STATUS_NOTFOUND: return "NOTFOUND";
	case NSS_STATUS_UNAVAIL: return "UNAVAIL";
	case NSS_STATUS_TRYAGAIN: return "TRYAGAIN";
	default: return "RETURN";
	}
}

#endif
