/* es.h - entra-ssh, the user-side client: gets Entra SSH certificates
 * (design section 6) and keeps them fresh, or pastes an access token into
 * ssh (the older mode, token.c).
 *
 * Runs as an ordinary user: it never reads /etc/entra-login.conf or the
 * root state directory. Its state lives in a private per-user directory
 * (ES_DIR_ENV, $XDG_CONFIG_HOME/entra-ssh or ~/.config/entra-ssh, 0700):
 *
 *   id_rsa            the RSA 2048 key the certificates are for (0600)
 *   id_rsa-cert.pub   the current certificate (0644)
 *   refresh_token     Entra's refresh token (0600; never logged, never on argv)
 *   settings          authority, tenant, client id, CA file of the last sign-in (0600)
 *   lock              flock'ed while a certificate is fetched (parallel ssh runs)
 *
 * Single-threaded. Messages go to stderr, prefixed "entra-ssh: ".
 */
#ifndef ES_H
#define ES_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "conf.h"
#include "err.h"

#define ES_AZ_CLI_CLIENT_ID "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
#define ES_SCOPE "https://pas.windows.net/CheckMyAccess/Linux/.default"
#define ES_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define ES_DEFAULT_TENANT "organizations"
#define ES_RENEW_BEFORE 300		/* renew when fewer seconds than this remain */
#define ES_REFRESH_TOKEN_MAX 16384
#define ES_KEY_FILE "id_rsa"
#define ES_CERT_FILE "id_rsa-cert.pub"
#define ES_RT_FILE "refresh_token"
#define ES_SETTINGS_FILE "settings"
#define ES_URL_MAX 512

struct es_opts {
	char authority[ES_URL_MAX];	/* https://..., no trailing slash */
	char tenant[128];		/* GUID, domain, "organizations" */
	char client_id[64];
	char ca_file[PATH_MAX];		/* "" = system store */
	char dir[3072];			/* state directory (room for file names in PATH_MAX) */
	char out[3072];			/* where key and certificate go (default: dir) */
	bool agent;
	bool quiet;
};

/* A certificate as read back: validity and the principal (the login name). */
struct es_cert_info {
	uint64_t valid_after, valid_before;
	char principal[257];
};

/* signin.c */
/* "entra-ssh: <message>" on stderr. */
void es_say(const struct es_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* keycert.c */
/* The key at path, or a new RSA 2048 key written there (0600) when there is none.
 * Returns 0, EL_ERR_INSECURE (not ours / readable by others), EL_ERR_IO, EL_ERR_NOMEM. */
int es_key_load_or_create(const char *path, EVP_PKEY **ret_key) EL_MUST_CHECK;
/* req_cnf (JSON text of the RSA JWK, n/e base64url with padding of the SSH mpint
 * bytes) and key_id (lower-hex SHA-256 of n||e), as `az ssh cert` sends them.
 * Caller frees both. Returns 0, EL_ERR_INVAL, EL_ERR_NOMEM. */
int es_req_cnf(EVP_PKEY *key, char **ret_req_cnf, char **ret_key_id) EL_MUST_CHECK;
/* Check a certificate (standard base64 blob) from the token endpoint against our key
 * at now: user certificate, our public key, not expired, not from the future (clock
 * skew: EL_ERR_CERT_NOT_YET_VALID, with *ret_info set). Returns 0 with *ret_info or EL_ERR_CERT_*. */
int es_cert_check(const char *b64, EVP_PKEY *key, time_t now, struct es_cert_info *ret_info) EL_MUST_CHECK;
/* Read the certificate file at path (and check it is for key, if non-NULL).
 * Returns 0, EL_ERR_NOT_FOUND, EL_ERR_CERT_*, EL_ERR_IO. Validity is not checked. */
int es_cert_read(const char *path, EVP_PKEY *key, struct es_cert_info *ret_info) EL_MUST_CHECK;
/* Write "ssh-rsa-cert-v01@openssh.com <b64> entra-ssh" to path (0644, atomic). */
int es_cert_write(const char *path, const char *b64) EL_MUST_CHECK;
/* ssh-add -t seconds keypath (adds the key and keypath-cert.pub). Returns 0 or EL_ERR_IO. */
int es_agent_add(const struct es_opts *o, const char *keypath, uint64_t seconds) EL_MUST_CHECK;
/* Read a private file of ours (regular, owned by us, no group/other bits; O_NOFOLLOW).
 * Returns 0, EL_ERR_NOT_FOUND, EL_ERR_INSECURE, EL_ERR_IO, EL_ERR_RANGE. */
int es_private_read(const char *path, size_t cap, char **ret_text, size_t *ret_len) EL_MUST_CHECK;

/* A certificate for key: with the refresh token when there is one (allow_rt), else,
 * if interactive, by device code. Writes the new refresh token. *ret_b64 (caller
 * frees) is the certificate blob. Returns 0 or an EL_ERR_* after printing why. */
int es_signin(const struct es_opts *o, EVP_PKEY *key, bool allow_rt, bool interactive, char **ret_b64) EL_MUST_CHECK;
/* The one sentence for a token endpoint refusal (error, first AADSTS code). Never NULL. */
const char *es_aadsts_message(const char *error, long code);

/* token.c: the access-token mode (entra-ssh [--client-id ID] ... [ssh args]). Returns the exit code. */
int es_token_main(int argc, char **argv);
#endif
