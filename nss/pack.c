/* pack.c - glibc buffer packing for the NSS entry points. */
#include <stdalign.h>
#include <string.h>

#include "names.h"
#include "pack.h"

struct packer {
	char *buf;
	size_t len, used;
};

static char *put(struct packer *p, const char *s, size_t n)
{
	char *d;

	if (p->len - p->used <= n)	/* used <= len always; room for NUL */
		return NULL;
	d = p->buf + p->used;
	memcpy(d, s, n);
	d[n] = '\0';
	p->used += n + 1;
	return d;
}

static char *put_str(struct packer *p, const char *s)
{
	return put(p, s, strlen(s));
}

int pack_passwd(struct passwd *pw, char *buf, size_t buflen, const char *name, uint32_t uid,
		const char *gecos, const char *home_tmpl, const char *home, const char *shell)
{
	struct packer p = { buf, buflen, 0 };
	char *name_s, *pw_s, *gecos_s, *home_s, *shell_s;
	int r;

	name_s = put_str(&p, name);
	pw_s = put_str(&p, "*");
	gecos_s = put_str(&p, gecos);
	shell_s = put_str(&p, shell);
	if (!name_s || !pw_s || !gecos_s || !shell_s)
		return EL_ERR_RANGE;
	for (char *c = gecos_s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ':')
			*c = ' ';
	/* Expand the home directory straight into the rest of the buffer. */
	if (p.used >= p.len)
		return EL_ERR_RANGE;
	home_s = p.buf + p.used;
	if (home) {
		home_s = put_str(&p, home);
		if (!home_s)
			return EL_ERR_RANGE;
	} else {
		if (!home_tmpl)
			return EL_ERR_CONFIG;
		r = name_home(home_tmpl, name, home_s, p.len - p.used);
		if (r < 0)	/* ERANGE makes glibc retry with a bigger buffer: only for size */
			return r == EL_ERR_RANGE ? r : EL_ERR_CONFIG;
	}
	pw->pw_name = name_s;
	pw->pw_passwd = pw_s;
	pw->pw_uid = uid;
	pw->pw_gid = uid;
	pw->pw_gecos = gecos_s;
	pw->pw_dir = home_s;
	pw->pw_shell = shell_s;
	return 0;
}

int pack_group(struct group *gr, char *buf, size_t buflen, const char *name, uint32_t gid, size_t n,
	       pack_member_fn next, void *userdata)
{
	struct packer p = { buf, buflen, 0 };
	size_t pad = (alignof(char *) - ((uintptr_t)buf % alignof(char *))) % alignof(char *);
	size_t bytes, used = 0;
	char **mem;
	char *name_s, *pw_s;

	/* The member array first, aligned, then the strings. */
	if (__builtin_add_overflow(n, 1, &bytes) || __builtin_mul_overflow(bytes, sizeof(char *), &bytes) ||
	    __builtin_add_overflow(bytes, pad, &bytes) || bytes > buflen)
		return EL_ERR_RANGE;
	mem = (char **)(void *)(buf + pad);
	p.used = bytes;
	name_s = put_str(&p, name);
	pw_s = put_str(&p, "*");
	if (!name_s || !pw_s)
		return EL_ERR_RANGE;
	for (size_t i = 0; i < n; i++) {
		const char *m = NULL;
		int r = next(userdata, i, &m);

		if (r < 0)
			return r;
		if (r > 0)
			continue;
		mem[used] = put_str(&p, m);
		if (!mem[used++])
			return EL_ERR_RANGE;
	}
	mem[used] = NULL;
	gr->gr_name = name_s;
	gr->gr_passwd = pw_s;
	gr->gr_gid = gid;
	gr->gr_mem = mem;
	return 0;
}

int pack_spwd(struct spwd *sp, char *buf, size_t buflen, const char *name)
{
	struct packer p = { buf, buflen, 0 };
	char *name_s = put_str(&p, name), *pw_s = put_str(&p, "*");

	if (!name_s || !pw_s)
		return EL_ERR_RANGE;
	sp->sp_namp = name_s;
	sp->sp_pwdp = pw_s;
	sp->sp_lstchg = -1;
	sp->sp_min = -1;
	sp->sp_max = -1;
	sp->sp_warn = -1;
	sp->sp_inact = -1;
	sp->sp_expire = -1;
	sp->sp_flag = ~0ul;
	return 0;
}
