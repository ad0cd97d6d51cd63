/* keycert.c - entra-ssh's key, req_cnf, certificate files and ssh-agent. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "es.h"
#include "sshcert.h"
#include "strutil.h"

#define ES_KEY_FILE_MAX 16384
#define ES_CERT_FILE_MAX (SSHCERT_B64_MAX + 512)

int es_private_read(const char *path, size_t cap, char **ret_text, size_t *ret_len)
{
	struct stat st;
	int fd = -1, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENOENT ? EL_ERR_NOT_FOUND : errno == ELOOP ? EL_ERR_INSECURE : EL_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = EL_ERR_IO;
		goto out;
	}
	/* A secret others can read may already be theirs: refuse rather than use it. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		r = EL_ERR_INSECURE;
		goto out;
	}
	r = fd_read_capped(fd, cap, ret_text, ret_len);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int es_key_load_or_create(const char *path, EVP_PKEY **ret_key)
{
	char *pem = NULL, *data = NULL;
	size_t len = 0;
	long dlen;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	int r;

	r = es_private_read(path, ES_KEY_FILE_MAX, &pem, &len);
	if (r == 0) {
		bio = BIO_new_mem_buf(pem, (int)len);
		if (!bio) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048) {
			r = EL_ERR_CORRUPT;
			goto out;
		}
	} else if (r == EL_ERR_NOT_FOUND) {
		key = EVP_RSA_gen(2048);
		if (!key) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		bio = BIO_new(BIO_s_mem());
		if (!bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		dlen = BIO_get_mem_data(bio, &data);
		if (dlen <= 0) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		r = file_write_atomic(path, data, (size_t)dlen, 0600);
		if (r < 0)
			goto out;
	} else {
		goto out;
	}
	*ret_key = key;
	key = NULL;
	r = 0;
out:
	EVP_PKEY_free(key);
	BIO_free(bio);	/* BIO_s_mem: its buffer holds the private key; freed, not reused */
	if (pem)
		OPENSSL_clear_free(pem, len);
	return r;
}

/* The SSH mpint bytes of a positive number: big-endian, a 0x00 in front if the top bit is set. */
static int mpint_bytes(const BIGNUM *bn, unsigned char **ret, size_t *ret_len)
{
	int n = BN_num_bytes(bn);
	unsigned char *buf;

	if (n <= 0)
		return EL_ERR_INVAL;
	buf = calloc(1, (size_t)n + 1);
	if (!buf)
		return EL_ERR_NOMEM;
	BN_bn2bin(bn, buf + 1);
	if (buf[1] & 0x80) {
		*ret = buf;
		*ret_len = (size_t)n + 1;
	} else {
		memmove(buf, buf + 1, (size_t)n);
		*ret = buf;
		*ret_len = (size_t)n;
	}
	return 0;
}

/* base64url with '=' padding, as the Azure CLI writes n and e. */
static int b64url_padded(const unsigned char *in, size_t len, char **ret)
{
	char *out = malloc(len / 3 * 4 + 8), *p;

	if (!out)
		return EL_ERR_NOMEM;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	for (p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
	*ret = out;
	return 0;
}

static int rsa_numbers(EVP_PKEY *key, unsigned char **n, size_t *n_len, unsigned char **e, size_t *e_len)
{
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	int r = EL_ERR_INVAL;

	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn_n) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &bn_e))
		goto out;
	r = mpint_bytes(bn_n, n, n_len);
	if (r < 0)
		goto out;
	r = mpint_bytes(bn_e, e, e_len);
	if (r < 0) {
		free(*n);
		*n = NULL;
	}
out:
	BN_free(bn_n);
	BN_free(bn_e);
	return r;
}

int es_req_cnf(EVP_PKEY *key, char **ret_req_cnf, char **ret_key_id)
{
	unsigned char *n = NULL, *e = NULL, *ne = NULL, dg[SHA256_DIGEST_LENGTH];
	size_t n_len = 0, e_len = 0, i;
	char *n64 = NULL, *e64 = NULL, *text = NULL, kid[2 * SHA256_DIGEST_LENGTH + 1];
	json_t *jwk = NULL;
	int r;

	r = rsa_numbers(key, &n, &n_len, &e, &e_len);
	if (r < 0)
		goto out;
	ne = malloc(n_len + e_len);
	if (!ne) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	memcpy(ne, n, n_len);
	memcpy(ne + n_len, e, e_len);
	SHA256(ne, n_len + e_len, dg);
	for (i = 0; i < sizeof(dg); i++)
		snprintf(kid + 2 * i, 3, "%02x", dg[i]);
	r = b64url_padded(n, n_len, &n64);
	if (r < 0)
		goto out;
	r = b64url_padded(e, e_len, &e64);
	if (r < 0)
		goto out;
	jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "RSA", "n", n64, "e", e64, "kid", kid);
	text = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (!text) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	*ret_key_id = strdup(kid);
	if (!*ret_key_id) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	*ret_req_cnf = text;
	text = NULL;
	r = 0;
out:
	free(text);
	json_decref(jwk);
	free(n64);
	free(e64);
	free(n);
	free(e);
	free(ne);
	return r;
}

static int get_u32(const unsigned char **p, size_t *left, uint32_t *v)
{
	if (*left < 4)
		return EL_ERR_CERT_TRUNCATED;
	*v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	*left -= 4;
	return 0;
}

static int get_string(const unsigned char **p, size_t *left, const unsigned char **s, size_t *s_len)
{
	uint32_t n;
	int r = get_u32(p, left, &n);

	if (r < 0)
		return r;
	if (*left < n)
		return EL_ERR_CERT_TRUNCATED;
	*s = *p;
	*s_len = n;
	*p += n;
	*left -= n;
	return 0;
}

/* The certificate's user key (mpint e, mpint n after type and nonce) is key's. */
static int cert_key_is(const struct sshcert *c, EVP_PKEY *key)
{
	const unsigned char *p = c->blob, *s, *ce, *cn;
	size_t left = c->len, s_len, ce_len, cn_len, n_len = 0, e_len = 0;
	unsigned char *n = NULL, *e = NULL;
	int r;

	r = get_string(&p, &left, &s, &s_len);		/* type */
	if (r == 0)
		r = get_string(&p, &left, &s, &s_len);	/* nonce */
	if (r == 0)
		r = get_string(&p, &left, &ce, &ce_len);
	if (r == 0)
		r = get_string(&p, &left, &cn, &cn_len);
	if (r < 0)
		return r;
	r = rsa_numbers(key, &n, &n_len, &e, &e_len);
	if (r < 0)
		return r;
	if (ce_len != e_len || cn_len != n_len || memcmp(ce, e, e_len) != 0 || memcmp(cn, n, n_len) != 0)
		r = EL_ERR_CERT_USER_KEY;
	free(n);
	free(e);
	return r;
}

static int cert_info(const char *b64, size_t len, EVP_PKEY *key, struct es_cert_info *ret_info)
{
	struct sshcert *c = NULL;
	struct es_cert_info info = { 0 };
	int r;

	r = sshcert_parse_b64(b64, len, &c);
	if (r < 0)
		goto out;
	if (c->type != 1) {
		r = EL_ERR_CERT_NOT_USER;
		goto out;
	}
	if (key) {
		r = cert_key_is(c, key);
		if (r < 0)
			goto out;
	}
	if (!c->principal_ok || str_copy(info.principal, sizeof(info.principal), c->principal) < 0) {
		r = EL_ERR_CERT_PRINCIPALS;
		goto out;
	}
	info.valid_after = c->valid_after;
	info.valid_before = c->valid_before;
	*ret_info = info;
out:
	sshcert_free(c);
	return r;
}

int es_cert_check(const char *b64, EVP_PKEY *key, time_t now, struct es_cert_info *ret_info)
{
	struct es_cert_info info;
	int r;

	r = cert_info(b64, strlen(b64), key, &info);
	if (r < 0)
		return r;
	if (info.valid_before <= (uint64_t)now)
		return EL_ERR_CERT_EXPIRED;
	/* Entra backdates by 5 minutes: a certificate that starts later than now means our
	 * clock is behind, and sshd (on time) would still accept it, but ours would not judge
	 * its remaining life right. Say so instead of renewing in a loop. */
	*ret_info = info;	/* also for the clock skew message */
	if (info.valid_after > (uint64_t)now)
		return EL_ERR_CERT_NOT_YET_VALID;
	return 0;
}

int es_cert_read(const char *path, EVP_PKEY *key, struct es_cert_info *ret_info)
{
	char *text = NULL, *b64, *end;
	size_t len = 0;
	int r;

	r = file_read_capped(path, ES_CERT_FILE_MAX, &text, &len);
	if (r == EL_ERR_IO && access(path, F_OK) < 0)
		r = EL_ERR_NOT_FOUND;
	if (r < 0)
		goto out;
	if (strncmp(text, SSHCERT_TYPE " ", strlen(SSHCERT_TYPE) + 1) != 0) {
		r = EL_ERR_CERT_KEY_TYPE;
		goto out;
	}
	b64 = text + strlen(SSHCERT_TYPE) + 1;
	end = b64 + strcspn(b64, " \n");
	r = cert_info(b64, (size_t)(end - b64), key, ret_info);
out:
	free(text);
	return r;
}

int es_cert_write(const char *path, const char *b64)
{
	char *line = NULL;
	int n, r;

	n = asprintf(&line, "%s %s entra-ssh\n", SSHCERT_TYPE, b64);
	if (n < 0)
		return EL_ERR_NOMEM;
	r = file_write_atomic(path, line, (size_t)n, 0644);
	free(line);
	return r;
}

int es_agent_add(const struct es_opts *o, const char *keypath, uint64_t seconds)
{
	char secs[32];
	pid_t pid;
	int status = 0, fd;

	if (!getenv("SSH_AUTH_SOCK") || !*getenv("SSH_AUTH_SOCK")) {
		es_say(NULL, "no ssh-agent to add the certificate to (SSH_AUTH_SOCK is not set): start one "
		       "with 'eval $(ssh-agent)' or leave out --agent");
		return EL_ERR_IO;
	}
	if (seconds == 0)
		return EL_ERR_CERT_EXPIRED;
	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)seconds);
	pid = fork();
	if (pid < 0)
		return EL_ERR_IO;
	if (pid == 0) {
		/* ssh-add also loads keypath-cert.pub; -t gives both the same lifetime. */
		char *argv[] = { "ssh-add", "-q", "-t", secs, (char *)keypath, NULL };

		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			if (o->quiet)
				dup2(fd, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EL_ERR_IO;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		es_say(NULL, "ssh-add could not add the key to the agent (exit status %d)",
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return EL_ERR_IO;
	}
	return 0;
}
