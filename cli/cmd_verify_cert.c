/* cmd_verify_cert.c - `entra-login verify-cert [--user NAME] [--at UNIX_TIME]`:
 * an admin's live check of an Entra SSH certificate (design section 6).
 * Reads one line from stdin: "ssh-rsa-cert-v01@openssh.com AAAA... [comment]"
 * or the bare base64 blob. Prints "valid" or "invalid: REASON (EL_ERR_...)",
 * then what it could read: key id, oid, tid, principals, validity, CA kid.
 * The same checks as `authorized-keys` (certverify), and the same one
 * JWKS refresh for an unknown CA key; no role is asked and nothing written
 * except the merged CA key set. Exit 0 valid, 1 invalid, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certverify.h"
#include "cmds.h"
#include "conf.h"
#include "sshcert.h"

static void format_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t > (uint64_t)253402300799LL || !gmtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%llu", (unsigned long long)t);
}

static void print_safe(const char *label, const char *s)
{
	printf("%s: ", label);
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ? '?' : *s);
	putchar('\n');
}

int cmd_verify_cert(const struct el_config *cfg, int argc, char **argv)
{
	const char *user = NULL;
	time_t now = time(NULL);
	static char buf[SSHCERT_B64_MAX + 4096];
	char *b64, *sp, *save = NULL, from[40], to[40];
	struct sshcert *cert = NULL;
	struct certverify_result cv = { 0 };
	size_t n;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			user = argv[++i];
		} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			char *end;
			long long t;

			errno = 0;
			t = strtoll(argv[++i], &end, 10);
			if (errno || *end || t < 0) {
				fprintf(stderr, "entra-login verify-cert: --at wants Unix seconds\n");
				return 2;
			}
			now = (time_t)t;
		} else {
			fprintf(stderr, "usage: entra-login verify-cert [--user NAME] [--at UNIX_TIME] < CERT\n");
			return 2;
		}
	}
	n = fread(buf, 1, sizeof(buf) - 1, stdin);
	buf[n] = '\0';
	if (n == sizeof(buf) - 1) {
		r = EL_ERR_CERT_TOO_BIG;
		goto report;
	}
	b64 = strtok_r(buf, " \t\r\n", &save);
	if (b64 && sshcert_is_cert_type(b64)) {
		if (strcmp(b64, SSHCERT_TYPE) != 0) {
			r = EL_ERR_CERT_KEY_TYPE;
			goto report;
		}
		b64 = strtok_r(NULL, " \t\r\n", &save);
	}
	if (!b64) {
		r = EL_ERR_CERT_BASE64;
		goto report;
	}
	sp = b64;
	r = sshcert_parse_b64(sp, strlen(sp), &cert);
	if (r < 0)
		goto report;
	r = certverify(cfg, cert, user, now, true, &cv);
report:
	if (r == 0)
		printf("valid\n");
	else
		printf("invalid: %s (%s)\n", el_strerror(r), el_errname(r));
	if (cert) {
		print_safe("key id", cert->key_id_ok ? cert->key_id : "(unreadable)");
		printf("oid: %s\ntid: %s\n", cv.oid[0] ? cv.oid : "-", cv.tid[0] ? cv.tid : "-");
		printf("type: %s\nprincipals: %zu\n", cert->type == 1 ? "user" : cert->type == 2 ? "host" : "other",
		       cert->n_principals);
		if (cert->n_principals)
			print_safe("principal", cert->principal_ok ? cert->principal : "(unreadable)");
		format_time(cert->valid_after, from, sizeof(from));
		format_time(cert->valid_before, to, sizeof(to));
		printf("valid from: %s\nvalid to: %s\n", from, to);
		printf("signature: %s\nCA kid: %s\n", cert->sig_alg, cv.ca_kid[0] ? cv.ca_kid : "-");
	}
	certverify_result_clear(&cv);
	sshcert_free(cert);
	return r == 0 ? 0 : 1;
}
