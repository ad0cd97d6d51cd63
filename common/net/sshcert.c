/* sshcert.c - reading and verifying ssh-rsa-cert-v01 certificates (sshcert.h). */
#include <openssl/bn.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "el_limits.h"
#include "names.h"
#include "rsakey.h"
#include "sshcert.h"
#include "strutil.h"

#define RSA_MOD_MAX 2049	/* bytes of an mpint modulus: 16384 bits + sign byte */
#define RSA_E_MAX 9

/* A cursor over a byte range. Every read checks what remains. */
struct rd {
	const unsigned char *p;
	size_t left;
};

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return EL_ERR_CERT_TRUNCATED;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t hi, lo;
	int e = rd_u32(r, &hi);

	if (e < 0 || (e = rd_u32(r, &lo)) < 0)
		return e;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static int rd_str(struct rd *r, const unsigned char **s, size_t *n)
{
	uint32_t len;
	int e = rd_u32(r, &len);

	if (e < 0)
		return e;
	if (len > r->left)
		return EL_ERR_CERT_TRUNCATED;
	*s = r->p;
	*n = len;
	r->p += len;
	r->left -= len;
	return 0;
}

/* A positive, minimally encoded mpint (OpenSSH's sshbuf_get_bignum2 rules). */
static int rd_mpint(struct rd *r, size_t maxlen, const unsigned char **s, size_t *n)
{
	int e = rd_str(r, s, n);

	if (e < 0)
		return e;
	if (*n == 0 || *n > maxlen || ((*s)[0] & 0x80))
		return EL_ERR_CERT_FORMAT;
	if ((*s)[0] == 0 && (*n == 1 || !((*s)[1] & 0x80)))
		return EL_ERR_CERT_FORMAT;
	if ((*s)[0] == 0) {	/* sign byte */
		(*s)++;
		(*n)--;
	}
	return 0;
}

static bool str_is(const unsigned char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* Copy a string field into a C buffer; false if it holds NUL or does not fit. */
static bool copy_field(const unsigned char *s, size_t n, char *buf, size_t cap)
{
	if (n >= cap || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static int rsa_from_bin(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
			EVP_PKEY **ret_pkey)
{
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, (int)e_len, NULL);
	int r = EL_ERR_NOMEM;

	if (!bn || !be)
		goto out;
	r = rsakey_public(bn, be, ret_pkey) < 0 ? EL_ERR_CERT_CA_FORMAT : 0;
out:
	BN_free(bn);
	BN_free(be);
	return r;
}

int sshcert_rsa_blob_pkey(const unsigned char *blob, size_t len, EVP_PKEY **ret_pkey)
{
	struct rd r = { blob, len };
	const unsigned char *t, *e, *n;
	size_t tl, el, nl;

	if (rd_str(&r, &t, &tl) < 0 || !str_is(t, tl, "ssh-rsa") || rd_mpint(&r, RSA_E_MAX, &e, &el) < 0 ||
	    rd_mpint(&r, RSA_MOD_MAX, &n, &nl) < 0 || r.left != 0)
		return EL_ERR_CERT_CA_FORMAT;
	return rsa_from_bin(n, nl, e, el, ret_pkey);
}

/* Unwrap an extension value: exactly one SSH string holding a GUID-sized value. */
static void ext_value(const unsigned char *d, size_t dl, char *out, size_t cap, bool *wrapped)
{
	struct rd r = { d, dl };
	const unsigned char *v;
	size_t vl;

	*wrapped = rd_str(&r, &v, &vl) == 0 && r.left == 0 && copy_field(v, vl, out, cap);
	if (!*wrapped)
		out[0] = '\0';
}

static int parse_extensions(struct sshcert *c, const unsigned char *s, size_t n)
{
	struct rd r = { s, n };
	size_t count = 0;

	while (r.left) {
		const unsigned char *name, *data;
		size_t nl, dl;

		if (rd_str(&r, &name, &nl) < 0 || rd_str(&r, &data, &dl) < 0 || ++count > SSHCERT_LIST_MAX)
			return EL_ERR_CERT_FORMAT;
		if (str_is(name, nl, SSHCERT_EXT_OID)) {
			if (c->n_oid++ == 0)
				ext_value(data, dl, c->oid, sizeof(c->oid), &c->oid_wrapped);
		} else if (str_is(name, nl, SSHCERT_EXT_TID)) {
			if (c->n_tid++ == 0)
				ext_value(data, dl, c->tid, sizeof(c->tid), &c->tid_wrapped);
		}
	}
	return 0;
}

static int parse_principals(struct sshcert *c, const unsigned char *s, size_t n)
{
	struct rd r = { s, n };

	while (r.left) {
		const unsigned char *p;
		size_t pl;

		if (rd_str(&r, &p, &pl) < 0 || c->n_principals >= SSHCERT_LIST_MAX)
			return EL_ERR_CERT_FORMAT;
		if (c->n_principals++ == 0)
			c->principal_ok = copy_field(p, pl, c->principal, sizeof(c->principal));
	}
	return 0;
}

static int count_pairs(const unsigned char *s, size_t n, size_t *ret)
{
	struct rd r = { s, n };
	size_t count = 0;

	while (r.left) {
		const unsigned char *a, *b;
		size_t al, bl;

		if (rd_str(&r, &a, &al) < 0 || rd_str(&r, &b, &bl) < 0 || ++count > SSHCERT_LIST_MAX)
			return EL_ERR_CERT_FORMAT;
	}
	*ret = count;
	return 0;
}

int sshcert_parse(const unsigned char *blob, size_t len, struct sshcert **ret_cert)
{
	struct sshcert *c = NULL;
	struct rd r;
	const unsigned char *s, *e, *n;
	size_t sl, el, nl;
	EVP_PKEY *ukey = NULL;
	int rc;

	if (len > SSHCERT_BLOB_MAX)
		return EL_ERR_CERT_TOO_BIG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return EL_ERR_NOMEM;
	c->blob = malloc(len ? len : 1);
	if (!c->blob) {
		rc = EL_ERR_NOMEM;
		goto out;
	}
	memcpy(c->blob, blob, len);
	c->len = len;
	r.p = c->blob;
	r.left = len;

	if ((rc = rd_str(&r, &s, &sl)) < 0)
		goto out;
	if (!str_is(s, sl, SSHCERT_TYPE)) {
		rc = EL_ERR_CERT_KEY_TYPE;
		goto out;
	}
	if ((rc = rd_str(&r, &s, &sl)) < 0)	/* nonce */
		goto out;
	if ((rc = rd_mpint(&r, RSA_E_MAX, &e, &el)) < 0 || (rc = rd_mpint(&r, RSA_MOD_MAX, &n, &nl)) < 0)
		goto out;
	rc = rsa_from_bin(n, nl, e, el, &ukey);
	if (rc == EL_ERR_NOMEM)
		goto out;
	if (rc < 0 || EVP_PKEY_get_bits(ukey) < SSHCERT_USER_KEY_MIN_BITS) {
		rc = EL_ERR_CERT_USER_KEY;
		goto out;
	}
	c->user_key_bits = EVP_PKEY_get_bits(ukey);
	if ((rc = rd_u64(&r, &c->serial)) < 0 || (rc = rd_u32(&r, &c->type)) < 0)
		goto out;
	if ((rc = rd_str(&r, &s, &sl)) < 0)
		goto out;
	c->key_id_ok = copy_field(s, sl, c->key_id, sizeof(c->key_id));
	if ((rc = rd_str(&r, &s, &sl)) < 0 || (rc = parse_principals(c, s, sl)) < 0)
		goto out;
	if ((rc = rd_u64(&r, &c->valid_after)) < 0 || (rc = rd_u64(&r, &c->valid_before)) < 0)
		goto out;
	if ((rc = rd_str(&r, &s, &sl)) < 0 || (rc = count_pairs(s, sl, &c->n_critical)) < 0)
		goto out;
	if ((rc = rd_str(&r, &s, &sl)) < 0 || (rc = parse_extensions(c, s, sl)) < 0)
		goto out;
	if ((rc = rd_str(&r, &s, &sl)) < 0)	/* reserved */
		goto out;
	if ((rc = rd_str(&r, &c->ca_blob, &c->ca_len)) < 0)
		goto out;
	c->signed_len = (size_t)(r.p - c->blob);
	if ((rc = rd_str(&r, &s, &sl)) < 0)
		goto out;
	if (r.left != 0) {
		rc = EL_ERR_CERT_TRAILING;
		goto out;
	}
	{	/* the signature: string alg, string bytes, nothing after */
		struct rd sr = { s, sl };
		const unsigned char *alg;
		size_t al;

		if (rd_str(&sr, &alg, &al) < 0 || rd_str(&sr, &c->sig, &c->sig_len) < 0 || sr.left != 0 ||
		    !copy_field(alg, al, c->sig_alg, sizeof(c->sig_alg))) {
			rc = EL_ERR_CERT_FORMAT;
			goto out;
		}
	}
	*ret_cert = c;
	c = NULL;
	rc = 0;
out:
	EVP_PKEY_free(ukey);
	sshcert_free(c);
	return rc;
}

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Strict RFC 4648 base64: length a multiple of 4, '=' only as padding at
 * the end, unused bits zero. */
static int b64_decode(const char *in, size_t len, unsigned char *out, size_t *ret_len)
{
	size_t o = 0, pad = 0;

	if (len == 0 || len % 4)
		return EL_ERR_CERT_BASE64;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;

		for (int j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				if (in[i + j] != '=')
					return EL_ERR_CERT_BASE64;
				v[j] = 0;
			} else if ((v[j] = b64val((unsigned char)in[i + j])) < 0) {
				return EL_ERR_CERT_BASE64;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];

		out[o++] = (unsigned char)(w >> 16);
		if (!(last && pad == 2))
			out[o++] = (unsigned char)(w >> 8);
		else if (w & 0xffff)
			return EL_ERR_CERT_BASE64;
		if (!(last && pad >= 1))
			out[o++] = (unsigned char)w;
		else if (pad == 1 && (w & 0xff))
			return EL_ERR_CERT_BASE64;
	}
	*ret_len = o;
	return 0;
}

int sshcert_b64_decode(const char *b64, size_t len, unsigned char **ret_data, size_t *ret_len)
{
	unsigned char *buf;
	int r;

	if (!b64)
		return EL_ERR_INVAL;
	if (len > SSHCERT_B64_MAX)
		return EL_ERR_CERT_TOO_BIG;
	buf = malloc(len / 4 * 3 + 3);
	if (!buf)
		return EL_ERR_NOMEM;
	r = b64_decode(b64, len, buf, ret_len);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_data = buf;
	return 0;
}

int sshcert_parse_b64(const char *b64, size_t len, struct sshcert **ret_cert)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	int r = sshcert_b64_decode(b64, len, &buf, &n);

	if (r == 0)
		r = sshcert_parse(buf, n, ret_cert);
	free(buf);
	return r;
}

int sshcert_b64_encode(const unsigned char *data, size_t len, char **ret_text)
{
	char *t;

	if (len > SSHCERT_BLOB_MAX * 4)
		return EL_ERR_INVAL;
	t = malloc((len + 2) / 3 * 4 + 1);
	if (!t)
		return EL_ERR_NOMEM;
	EVP_EncodeBlock((unsigned char *)t, data, (int)len);
	*ret_text = t;
	return 0;
}

/* "<guid>@<guid>" into its lower-case parts. */
static bool split_key_id(const char *kid, char oid[37], char tid[37])
{
	const char *at = strchr(kid, '@');

	if (!at || (size_t)(at - kid) != EL_GUID_LEN || strlen(at + 1) != EL_GUID_LEN)
		return false;
	memcpy(oid, kid, EL_GUID_LEN);
	oid[EL_GUID_LEN] = '\0';
	memcpy(tid, at + 1, EL_GUID_LEN);
	tid[EL_GUID_LEN] = '\0';
	if (!name_is_guid(oid) || !name_is_guid(tid))
		return false;
	for (int i = 0; i < EL_GUID_LEN; i++) {
		if (oid[i] >= 'A' && oid[i] <= 'F')
			oid[i] = (char)(oid[i] + 32);
		if (tid[i] >= 'A' && tid[i] <= 'F')
			tid[i] = (char)(tid[i] + 32);
	}
	return true;
}

static bool guid_eq(const char *a, const char *b)
{
	return strlen(a) == EL_GUID_LEN && strlen(b) == EL_GUID_LEN && strncasecmp(a, b, EL_GUID_LEN) == 0;
}

static bool principal_bytes_ok(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == ',')
			return false;
	}
	return true;
}

int sshcert_check(const struct el_config *cfg, const struct sshcert *c, const char *user, time_t now,
		  char *name)
{
	char oid[37], tid[37], lower[EL_NAME_MAX + 1];
	uint64_t skew = cfg->clock_skew, t = now < 0 ? 0 : (uint64_t)now;

	if (c->type != 1)
		return EL_ERR_CERT_NOT_USER;
	if (c->n_critical != 0)
		return EL_ERR_CERT_CRITICAL;
	if (!c->key_id_ok || !split_key_id(c->key_id, oid, tid))
		return EL_ERR_CERT_KEY_ID;
	if (c->n_oid == 0 || c->n_tid == 0)
		return EL_ERR_CERT_EXT_MISSING;
	if (c->n_oid > 1 || c->n_tid > 1)
		return EL_ERR_CERT_EXT_DUPLICATE;
	if (!c->oid_wrapped || !c->tid_wrapped || !name_is_guid(c->oid) || !name_is_guid(c->tid))
		return EL_ERR_CERT_EXT_FORMAT;
	if (strcmp(tid, cfg->tenant_id) != 0 || !guid_eq(c->tid, cfg->tenant_id))
		return EL_ERR_CERT_TENANT;
	if (!guid_eq(c->oid, oid) || !guid_eq(c->tid, tid))
		return EL_ERR_CERT_EXT_MISMATCH;
	if (c->valid_after >= c->valid_before)
		return EL_ERR_CERT_VALIDITY;
	if (c->valid_after > t + skew)
		return EL_ERR_CERT_NOT_YET_VALID;
	if (c->valid_before <= (t > skew ? t - skew : 0))
		return EL_ERR_CERT_EXPIRED;
	if (c->n_principals != 1)
		return EL_ERR_CERT_PRINCIPALS;
	if (!c->principal_ok || !principal_bytes_ok(c->principal))
		return EL_ERR_CERT_PRINCIPAL_CHARS;
	if (str_lower(lower, sizeof(lower), c->principal) < 0)
		return EL_ERR_CERT_NAME;
	if (user && strcmp(lower, user) != 0)
		return EL_ERR_CERT_USER_MISMATCH;
	if (!name_is_ours(cfg, lower))
		return EL_ERR_CERT_NAME;
	if (name)
		memcpy(name, lower, strlen(lower) + 1);
	return 0;
}

int sshcert_ca_pkey(const struct sshcert *cert, EVP_PKEY **ret_pkey)
{
	return sshcert_rsa_blob_pkey(cert->ca_blob, cert->ca_len, ret_pkey);
}

int sshcert_verify_sig(const struct sshcert *c, EVP_PKEY *ca)
{
	const EVP_MD *md;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *padded = NULL;
	size_t modlen = (size_t)EVP_PKEY_get_size(ca);
	int r;

	if (strcmp(c->sig_alg, "rsa-sha2-256") == 0)
		md = EVP_sha256();
	else if (strcmp(c->sig_alg, "rsa-sha2-512") == 0)
		md = EVP_sha512();
	else
		return EL_ERR_CERT_SIG_ALG;
	/* OpenSSH accepts a signature shorter than the modulus and left-pads it. */
	if (c->sig_len == 0 || c->sig_len > modlen || EVP_PKEY_get_bits(ca) < SSHCERT_CA_MIN_BITS)
		return EL_ERR_CERT_SIGNATURE;
	padded = calloc(1, modlen);
	ctx = EVP_MD_CTX_new();
	if (!padded || !ctx) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	memcpy(padded + (modlen - c->sig_len), c->sig, c->sig_len);
	r = EL_ERR_CERT_SIGNATURE;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, ca) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		goto out;
	if (EVP_DigestVerify(ctx, padded, modlen, c->blob, c->signed_len) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(padded);
	return r;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Append an mpint of a magnitude; returns the new offset. */
static size_t put_mpint(unsigned char *out, size_t o, const unsigned char *m, size_t ml)
{
	bool sign = m[0] & 0x80;

	put_u32(out + o, (uint32_t)(ml + sign));
	o += 4;
	if (sign)
		out[o++] = 0;
	memcpy(out + o, m, ml);
	return o + ml;
}

int sshcert_rsa_blob(const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
		     unsigned char **ret_blob, size_t *ret_len)
{
	unsigned char *b;
	size_t o;

	while (n_len && n[0] == 0) {
		n++;
		n_len--;
	}
	while (e_len && e[0] == 0) {
		e++;
		e_len--;
	}
	if (!n_len || !e_len || n_len > RSA_MOD_MAX || e_len > RSA_E_MAX)
		return EL_ERR_INVAL;
	b = malloc(4 + 7 + 4 + 1 + e_len + 4 + 1 + n_len);
	if (!b)
		return EL_ERR_NOMEM;
	put_u32(b, 7);
	memcpy(b + 4, "ssh-rsa", 7);
	o = put_mpint(b, 11, e, e_len);
	o = put_mpint(b, o, n, n_len);
	*ret_blob = b;
	*ret_len = o;
	return 0;
}

bool sshcert_is_cert_type(const char *type)
{
	static const char suffix[] = "-cert-v01@openssh.com";
	size_t n = type ? strlen(type) : 0;

	return n > sizeof(suffix) - 1 && strcmp(type + n - (sizeof(suffix) - 1), suffix) == 0;
}

void sshcert_free(struct sshcert *cert)
{
	if (!cert)
		return;
	free(cert->blob);
	free(cert);
}
