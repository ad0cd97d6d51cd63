/* sshca.c - the trusted CA key set for SSH certificates (sshca.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64url.h"
#include "el_limits.h"
#include "http.h"
#include "jwks.h"
#include "sshca.h"
#include "sshcert.h"
#include "statefile.h"

#define SSHCA_FILE_MAX (256 * 1024)
#define JWK_N_MAX 2048

static void key_clear(struct sshca_key *k)
{
	free(k->kid);
	free(k->blob);
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

void sshca_free(struct sshca *ca)
{
	if (!ca)
		return;
	for (size_t i = 0; i < ca->n; i++)
		key_clear(&ca->keys[i]);
	free(ca->keys);
	free(ca);
}

const struct sshca_key *sshca_find(const struct sshca *ca, const unsigned char *blob, size_t len)
{
	for (size_t i = 0; ca && i < ca->n; i++)
		if (ca->keys[i].len == len && memcmp(ca->keys[i].blob, blob, len) == 0)
			return &ca->keys[i];
	return NULL;
}

size_t sshca_trusted(const struct sshca *ca)
{
	size_t n = 0;

	for (size_t i = 0; ca && i < ca->n; i++)
		n += ca->keys[i].refused == 0;
	return n;
}

/* Add a key (takes blob). Duplicates by blob are dropped. */
static int add_key(struct sshca *ca, const char *kid, unsigned char *blob, size_t len, time_t seen,
		   time_t not_after, int refused)
{
	struct sshca_key *k;
	int r;

	if (sshca_find(ca, blob, len) || ca->n >= SSHCA_KEYS_MAX) {
		free(blob);
		return 0;
	}
	k = &ca->keys[ca->n];
	memset(k, 0, sizeof(*k));
	k->blob = blob;
	k->len = len;
	k->seen = seen;
	k->not_after = not_after;
	k->kid = strdup(kid ? kid : "-");
	if (!k->kid) {
		key_clear(k);
		return EL_ERR_NOMEM;
	}
	r = sshcert_rsa_blob_pkey(blob, len, &k->pkey);
	if (r < 0) {
		key_clear(k);
		return r == EL_ERR_NOMEM ? r : 0;	/* not an RSA key we can use: skip */
	}
	k->bits = EVP_PKEY_get_bits(k->pkey);
	k->refused = refused;
	if (!refused) {
		BIGNUM *e = NULL;

		if (k->bits < SSHCERT_CA_MIN_BITS ||
		    !EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e) || !BN_is_word(e, 65537))
			k->refused = EL_ERR_CERT_CA_WEAK;
		BN_free(e);
	}
	ca->n++;
	return 0;
}

/* A base64url JWK member, leading zeros kept (the blob builder strips them). */
static int jwk_bytes(json_t *jwk, const char *name, unsigned char *buf, size_t cap, size_t *ret_len)
{
	const char *s = json_string_value(json_object_get(jwk, name));

	if (!s || !*s || B64URL_DECODED_LEN(strlen(s)) > cap)
		return EL_ERR_JWKS;
	return b64url_decode(s, strlen(s), buf, cap, ret_len) < 0 || *ret_len == 0 ? EL_ERR_JWKS : 0;
}

/* x5c[0]: 0 if valid at now and holding pkey (*ret_not_after set), else an error. */
static int x5c_check(json_t *jwk, const unsigned char *blob, size_t len, time_t now, time_t *ret_not_after)
{
	json_t *x5c = json_object_get(jwk, "x5c");
	const char *b64;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t dl = 0;
	X509 *x = NULL;
	EVP_PKEY *pkey = NULL;
	struct tm tm;
	int r = EL_ERR_JWKS;

	*ret_not_after = 0;
	if (!x5c)
		return 0;
	b64 = json_string_value(json_array_get(x5c, 0));
	if (!json_is_array(x5c) || !b64 || sshcert_b64_decode(b64, strlen(b64), &der, &dl) < 0)
		return EL_ERR_JWKS;
	p = der;
	x = d2i_X509(NULL, &p, (long)dl);
	if (!x || p != der + dl || sshcert_rsa_blob_pkey(blob, len, &pkey) < 0)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), pkey) != 1)
		goto out;
	if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0 || X509_cmp_time(X509_get0_notAfter(x), &now) < 0)
		goto out;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		goto out;
	*ret_not_after = timegm(&tm);
	r = 0;
out:
	EVP_PKEY_free(pkey);
	X509_free(x);
	free(der);
	return r;
}

static int add_jwk(struct sshca *ca, json_t *jwk, time_t now)
{
	unsigned char n[JWK_N_MAX], e[16], *blob = NULL;
	size_t nl = 0, el = 0, bl = 0;
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *use = json_string_value(json_object_get(jwk, "use"));
	const char *kid = json_string_value(json_object_get(jwk, "kid"));
	const char *iss = json_string_value(json_object_get(jwk, "issuer"));
	time_t not_after = 0;
	int refused = 0, r;

	if (!json_is_object(jwk) || !kty || strcmp(kty, "RSA") != 0)
		return 0;
	if (json_object_get(jwk, "use") && (!use || strcmp(use, "sig") != 0))
		return 0;
	if (!kid || strlen(kid) > JWKS_KID_MAX)
		return 0;
	if (jwk_bytes(jwk, "n", n, sizeof(n), &nl) < 0 || jwk_bytes(jwk, "e", e, sizeof(e), &el) < 0)
		return 0;
	r = sshcert_rsa_blob(n, nl, e, el, &blob, &bl);
	if (r < 0)
		return r == EL_ERR_NOMEM ? r : 0;
	if (x5c_check(jwk, blob, bl, now, &not_after) < 0) {
		free(blob);
		return 0;	/* expired or foreign certificate: not a key of now */
	}
	if (iss && strstr(iss, SSHCA_CONSUMER_TENANT))
		refused = EL_ERR_CERT_CA_CONSUMER;
	return add_key(ca, kid, blob, bl, ca->fetched, not_after, refused);
}

static int load_jwks(const struct el_config *cfg, struct sshca *ca, time_t now)
{
	char *text = NULL;
	size_t len = 0, i;
	time_t mtime = 0;
	json_t *root = NULL, *keys, *jwk;
	json_error_t jerr;
	int r;

	r = state_read(cfg, STATE_JWKS, EL_HTTP_BODY_MAX + 1024, &text, &len, &mtime);
	if (r == EL_ERR_NOT_FOUND || r == EL_ERR_INSECURE || r == EL_ERR_CORRUPT) {
		ca->stale = true;
		return 0;
	}
	if (r < 0)
		return r;
	ca->fetched = mtime;
	if (mtime > now + (time_t)cfg->clock_skew || now - mtime > (time_t)cfg->ssh_ca_max_age) {
		ca->stale = true;	/* fail closed: nothing is trusted */
		r = 0;
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	keys = json_object_get(json_object_get(root, "jwks"), "keys");
	if (!json_is_array(keys) || state_format_check(root) < 0) {	/* newer format: trust nothing */
		ca->stale = true;
		r = 0;
		goto out;
	}
	json_array_foreach(keys, i, jwk) {
		r = add_jwk(ca, jwk, now);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(root);
	free(text);
	return r;
}

/* Keys of earlier JWKS sets, still within ssh_ca_max_age and x5c validity. */
static int load_merged(const struct el_config *cfg, struct sshca *ca, time_t now)
{
	char *text = NULL;
	size_t len = 0, i, before = sshca_trusted(ca), listed = 0;	/* refused keys are never saved */
	json_t *root = NULL, *keys, *k;
	json_error_t jerr;
	int r;

	r = state_read(cfg, SSHCA_STATE, SSHCA_FILE_MAX, &text, &len, NULL);
	if (r < 0) {
		ca->dirty = sshca_trusted(ca) > 0;
		return r == EL_ERR_NOMEM ? r : 0;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	/* A later package's file: none of its keys are read (and the next save
	 * replaces it in this format). */
	keys = state_format_check(root) == 0 ? json_object_get(root, "keys") : NULL;
	json_array_foreach(keys, i, k) {
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *b64 = json_string_value(json_object_get(k, "blob"));
		json_t *js = json_object_get(k, "seen"), *jn = json_object_get(k, "not_after");
		time_t seen, not_after;
		unsigned char *blob = NULL;
		size_t bl = 0;

		if (!kid || !b64 || !json_is_integer(js) || !json_is_integer(jn))
			continue;
		seen = (time_t)json_integer_value(js);
		not_after = (time_t)json_integer_value(jn);
		if (seen > now + (time_t)cfg->clock_skew || now - seen > (time_t)cfg->ssh_ca_max_age ||
		    (not_after && now > not_after))
			continue;
		if (sshcert_b64_decode(b64, strlen(b64), &blob, &bl) < 0)
			continue;
		{
			const struct sshca_key *have = sshca_find(ca, blob, bl);

			if (have && !have->refused && have->seen == seen)
				listed++;
		}
		r = add_key(ca, kid, blob, bl, seen, not_after, 0);
		if (r < 0)
			goto out;
	}
	/* Rewrite when a current key is missing from the file or a new one came in. */
	ca->dirty = listed < before;
	r = 0;
out:
	json_decref(root);
	free(text);
	return r;
}

static bool file_safe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()) &&
	       !(st.st_mode & 022) && st.st_size <= SSHCA_FILE_MAX;
}

static int load_file(const struct el_config *cfg, struct sshca *ca)
{
	FILE *f = NULL;
	char line[SSHCERT_B64_MAX + 256];
	unsigned lineno = 0;
	int fd, r = 0;

	fd = open(cfg->ssh_ca_keys, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return EL_ERR_IO;
	if (!file_safe(fd)) {
		close(fd);
		return EL_ERR_INSECURE;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return EL_ERR_NOMEM;
	}
	ca->from_file = true;
	while (fgets(line, sizeof(line), f)) {
		char *type, *b64, *comment, *save = NULL, kid[64];
		unsigned char *blob = NULL;
		size_t bl = 0;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			r = EL_ERR_CONFIG;
			break;
		}
		type = strtok_r(line, " \t\r\n", &save);
		if (!type || type[0] == '#')
			continue;
		b64 = strtok_r(NULL, " \t\r\n", &save);
		comment = strtok_r(NULL, " \t\r\n", &save);
		if (strcmp(type, "ssh-rsa") != 0 || !b64 || sshcert_b64_decode(b64, strlen(b64), &blob, &bl) < 0) {
			r = EL_ERR_CONFIG;
			break;
		}
		snprintf(kid, sizeof(kid), "%.40s", comment ? comment : "");
		if (!comment)
			snprintf(kid, sizeof(kid), "file:%u", lineno);
		r = add_key(ca, kid, blob, bl, 0, 0, 0);
		if (r < 0)
			break;
	}
	fclose(f);
	return r;
}

int sshca_load(const struct el_config *cfg, time_t now, struct sshca **ret_ca)
{
	struct sshca *ca = calloc(1, sizeof(*ca));
	int r;

	if (!ca)
		return EL_ERR_NOMEM;
	ca->keys = calloc(SSHCA_KEYS_MAX, sizeof(*ca->keys));
	if (!ca->keys) {
		free(ca);
		return EL_ERR_NOMEM;
	}
	if (strcmp(cfg->ssh_ca_keys, "jwks") != 0) {
		r = load_file(cfg, ca);
	} else {
		r = load_jwks(cfg, ca, now);
		if (r == 0 && !ca->stale)
			r = load_merged(cfg, ca, now);
	}
	if (r < 0) {
		sshca_free(ca);
		return r;
	}
	*ret_ca = ca;
	return 0;
}

int sshca_save(const struct el_config *cfg, const struct sshca *ca, time_t now)
{
	json_t *doc = json_object(), *arr = json_array();
	char *text = NULL;
	int r = EL_ERR_IO;

	(void)now;
	if (!doc || !arr || ca->from_file || ca->stale)
		goto out;
	for (size_t i = 0; i < ca->n; i++) {
		const struct sshca_key *k = &ca->keys[i];
		char *b64 = NULL;

		if (k->refused)
			continue;
		if (sshcert_b64_encode(k->blob, k->len, &b64) < 0)
			goto out;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I}", "kid", k->kid, "blob", b64,
						     "seen", (json_int_t)k->seen, "not_after",
						     (json_int_t)k->not_after));
		free(b64);
	}
	if (json_object_set(doc, "keys", arr) < 0 ||
	    json_object_set_new(doc, STATE_FORMAT_KEY, json_integer(STATE_FORMAT)) < 0)
		goto out;
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	if (text)
		r = state_write(cfg, SSHCA_STATE, text, strlen(text));
out:
	free(text);
	json_decref(arr);
	json_decref(doc);
	return r;
}

int sshca_refresh(const struct el_config *cfg, uint64_t deadline_ms)
{
	struct el_keys *keys = NULL;
	struct sshca *ca = NULL;
	int r;

	if (strcmp(cfg->ssh_ca_keys, "jwks") != 0)
		return EL_ERR_NOT_FOUND;
	/* Keep what the current cache trusts before jwks.c replaces it. */
	if (sshca_load(cfg, time(NULL), &ca) == 0 && ca->dirty)
		(void)sshca_save(cfg, ca, time(NULL));
	sshca_free(ca);
	r = keys_open_deadline(cfg, deadline_ms, &keys);
	if (r < 0)
		return r;
	if (keys_fetch_count(keys) == 0)
		r = keys_refresh(keys);
	keys_free(keys);
	return r;
}
