/* status_sshca.c - the "ssh certificate CA keys" part of `entra-login status`
 * and of `entra-login refresh` (the timer): refresh the JWKS (jwks.c allows
 * one fetch a minute), merge it into sshca.json, and report the set: count,
 * kids, age, and whether it fails closed. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "sshca.h"

int sshca_status(const struct el_config *cfg, bool print)
{
	struct sshca *ca = NULL;
	time_t now = time(NULL);
	int r, rr = 0;

	if (print)
		printf("ssh certificate CA keys (ssh_ca_keys = %s, ssh_ca_max_age = %us):\n", cfg->ssh_ca_keys,
		       cfg->ssh_ca_max_age);
	if (strcmp(cfg->ssh_ca_keys, "jwks") == 0) {
		rr = sshca_refresh(cfg, 0);
		if (rr < 0 && rr != EL_ERR_TOKEN_KID_UNKNOWN && print)
			printf("  refresh failed: %s: %s\n", el_errname(rr), el_strerror(rr));
	}
	r = sshca_load(cfg, now, &ca);
	if (r < 0) {
		if (print)
			printf("  UNUSABLE: %s: %s: certificate logins refused\n", el_errname(r), el_strerror(r));
		return -1;
	}
	if (ca->dirty)
		(void)sshca_save(cfg, ca, now);
	if (print) {
		if (ca->stale)
			printf("  FAIL-CLOSED: no key set younger than ssh_ca_max_age: certificate logins refused\n");
		else
			printf("  %zu trusted key(s)%s, JWKS age %llds\n", sshca_trusted(ca),
			       ca->from_file ? " pinned by file" : "",
			       ca->from_file ? 0LL : (long long)(now - ca->fetched));
		for (size_t i = 0; i < ca->n; i++) {
			const struct sshca_key *k = &ca->keys[i];

			printf("  kid %.64s: RSA %d bits, last seen %llds ago%s%s\n", k->kid, k->bits,
			       k->seen ? (long long)(now - k->seen) : 0LL, k->refused ? ": refused, " : "",
			       k->refused ? el_strerror(k->refused) : "");
		}
	}
	r = ca->stale || sshca_trusted(ca) == 0 ? -1 : 0;
	sshca_free(ca);
	return r;
}
