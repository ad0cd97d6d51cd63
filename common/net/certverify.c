/* certverify.c - fields, CA key and signature of one certificate (certverify.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certverify.h"
#include "sshca.h"

static void key_id_parts(const struct sshcert *cert, struct certverify_result *res)
{
	const char *at = cert->key_id_ok ? strchr(cert->key_id, '@') : NULL;

	if (!at || at - cert->key_id != 36 || strlen(at + 1) != 36)
		return;
	for (int i = 0; i < 36; i++) {
		char o = cert->key_id[i], t = at[1 + i];

		res->oid[i] = (o >= 'A' && o <= 'Z') ? (char)(o + 32) : o;
		res->tid[i] = (t >= 'A' && t <= 'Z') ? (char)(t + 32) : t;
	}
	res->oid[36] = res->tid[36] = '\0';
}

static int find_key(const struct sshca *ca, const struct sshcert *cert, const struct sshca_key **ret)
{
	const struct sshca_key *k = sshca_find(ca, cert->ca_blob, cert->ca_len);

	if (!k)
		return ca->stale ? EL_ERR_CERT_CA_STALE : EL_ERR_CERT_CA_UNKNOWN;
	if (k->refused)
		return k->refused;
	*ret = k;
	return 0;
}

int certverify(const struct el_config *cfg, const struct sshcert *cert, const char *user, time_t now,
	       bool allow_refresh, struct certverify_result *res)
{
	struct sshca *ca = NULL;
	const struct sshca_key *k = NULL;
	EVP_PKEY *probe = NULL;
	char *b64 = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	key_id_parts(cert, res);
	r = sshcert_check(cfg, cert, user, now, res->name);
	if (r < 0)
		return r;
	/* The signature key must at least be an RSA key before we look it up. */
	r = sshcert_ca_pkey(cert, &probe);
	EVP_PKEY_free(probe);
	if (r < 0)
		return r;
	r = sshca_load(cfg, now, &ca);
	if (r < 0)
		return r;
	r = find_key(ca, cert, &k);
	if ((r == EL_ERR_CERT_CA_UNKNOWN || r == EL_ERR_CERT_CA_STALE) && allow_refresh && !ca->from_file) {
		res->refreshed = true;
		if (sshca_refresh(cfg, 0) == 0) {
			sshca_free(ca);
			ca = NULL;
			r = sshca_load(cfg, now, &ca);
			if (r < 0)
				return r;
			r = find_key(ca, cert, &k);
		}
	}
	if (k)
		snprintf(res->ca_kid, sizeof(res->ca_kid), "%s", k->kid);
	else if ((k = sshca_find(ca, cert->ca_blob, cert->ca_len)) != NULL)
		snprintf(res->ca_kid, sizeof(res->ca_kid), "%s", k->kid);
	if (r < 0)
		goto out;
	k = sshca_find(ca, cert->ca_blob, cert->ca_len);
	r = sshcert_verify_sig(cert, k->pkey);
	if (r < 0)
		goto out;
	/* Verified: now (and only now) the merged set may be written. */
	if (ca->dirty)
		(void)sshca_save(cfg, ca, now);
	r = sshcert_b64_encode(cert->ca_blob, cert->ca_len, &b64);
	if (r < 0)
		goto out;
	res->ca_line = malloc(strlen(b64) + 9);
	if (!res->ca_line) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	sprintf(res->ca_line, "ssh-rsa %s", b64);
	r = 0;
out:
	free(b64);
	sshca_free(ca);
	return r;
}

void certverify_result_clear(struct certverify_result *res)
{
	free(res->ca_line);
	res->ca_line = NULL;
}
