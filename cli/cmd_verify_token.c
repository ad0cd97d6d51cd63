/* cmd_verify_token.c - entra-login verify-token [--id-token] [--user NAME] [--raw]
 *
 * Reads one token on stdin and runs the same jwt_validate() as the PAM
 * module. Prints "valid" and the claims that matter (exit 0), or
 * "invalid: EL_ERR_X: text" (exit 1); exit 2 for usage/config errors, 3
 * when the identity provider or its keys cannot be had.
 *
 * Newlines: stdin is line-oriented for people (`echo $TOKEN |`), so exactly
 * one trailing "\n" is dropped here, and nowhere else. --raw keeps the bytes
 * exactly as read. The validator itself accepts only base64url and dots, so
 * a newline that arrives by any other path (a PAM answer, a file, --raw) is
 * EL_ERR_TOKEN_BASE64: the only layer that knows a newline is framing is the
 * one reading lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"
#include "el_limits.h"
#include "http.h"
#include "jwks.h"
#include "jwt.h"
#include "names.h"

/* Read at most cap bytes of fd; *ret_more says whether more was waiting. */
static int read_capped(int fd, char *buf, size_t cap, size_t *ret_len, bool *ret_more)
{
	size_t len = 0;
	char extra;

	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return EL_ERR_IO;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_more = false;
	if (len == cap) {
		ssize_t n;

		do
			n = read(fd, &extra, 1);
		while (n < 0 && errno == EINTR);
		*ret_more = n > 0;
	}
	*ret_len = len;
	return 0;
}

/* Untrusted claim text for a terminal: printable ASCII only, capped. */
static void put_safe(const char *label, const char *s)
{
	printf("%s: ", label);
	for (size_t i = 0; s[i] && i < 256; i++)
		putchar((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?');
	putchar('\n');
}

static void put_list(const char *label, const struct el_list *l)
{
	printf("%s:", label);
	for (size_t i = 0; i < l->n; i++) {
		putchar(i ? ',' : ' ');
		for (const char *p = l->items[i]; *p && p - l->items[i] < 128; p++)
			putchar((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != ',' ? *p : '?');
	}
	putchar('\n');
}

static void print_claims(const struct jwt_claims *c)
{
	char when[64] = "";
	time_t exp = (time_t)c->exp;
	struct tm tm;

	if (gmtime_r(&exp, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("valid\n");
	printf("kind: %s\n", c->kind == JWT_ID_TOKEN ? "id_token" : c->v1 ? "access_token v1" : "access_token v2");
	printf("name: %s\n", c->name);
	printf("oid: %s\n", c->oid);
	printf("tid: %s\n", c->tid);
	if (c->display_name)
		put_safe("display_name", c->display_name);
	put_list("roles", &c->roles);
	if (c->groups_overage)
		printf("groups: (overage: not in the token, treated as none)\n");
	else
		put_list("groups", &c->groups);
	printf("iat: %lld\n", (long long)c->iat);
	printf("exp: %lld %s\n", (long long)c->exp, when);
}

static void usage(void)
{
	fprintf(stderr, "usage: entra-login verify-token [--id-token] [--user NAME] [--raw] < token\n");
}

int cmd_verify_token(const struct el_config *cfg, int argc, char **argv)
{
	enum jwt_kind kind = JWT_ACCESS_TOKEN;
	const char *user = NULL;
	struct jwt_claims *claims = NULL;
	struct el_keys *keys = NULL;
	char *buf = NULL;
	size_t len = 0;
	bool raw = false, more = false;
	int r, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--id-token") == 0) {
			kind = JWT_ID_TOKEN;
		} else if (strcmp(argv[i], "--raw") == 0) {
			raw = true;
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			user = argv[++i];
		} else {
			usage();
			return 2;
		}
	}
	if (user && !name_is_ours(cfg, user)) {
		fprintf(stderr, "entra-login: '%.64s' is not a directory user name of this host\n", user);
		return 2;
	}
	/* EL_TOKEN_MAX plus a newline; anything longer is refused unread. */
	buf = malloc(EL_TOKEN_MAX + 2);
	if (!buf) {
		fprintf(stderr, "entra-login: out of memory\n");
		return 2;
	}
	r = read_capped(STDIN_FILENO, buf, EL_TOKEN_MAX + 1, &len, &more);
	if (r < 0) {
		fprintf(stderr, "entra-login: cannot read the token on stdin\n");
		rc = 2;
		goto out;
	}
	if (!raw && len > 0 && buf[len - 1] == '\n' && !more)
		len--;
	if (more || len > EL_TOKEN_MAX) {
		r = EL_ERR_TOKEN_TOO_LONG;
		printf("invalid: %s: %s\n", el_errname(r), el_strerror(r));
		rc = 1;
		goto out;
	}
	r = keys_open(cfg, &keys);
	if (r < 0) {
		printf("unavailable: %s: %s\n", el_errname(r), el_strerror(r));
		rc = 3;
		goto out;
	}
	r = jwt_validate(cfg, keys, buf, len, kind, user, time(NULL), &claims);
	if (r < 0) {
		bool unavailable = http_err_unavailable(r) || r == EL_ERR_JWKS || r == EL_ERR_JSON;

		printf("%s: %s: %s\n", unavailable ? "unavailable" : "invalid", el_errname(r), el_strerror(r));
		rc = unavailable ? 3 : 1;
		goto out;
	}
	print_claims(claims);
	rc = 0;
out:
	jwt_claims_free(claims);
	keys_free(keys);
	explicit_bzero(buf, EL_TOKEN_MAX + 2);
	free(buf);
	return rc;
}
