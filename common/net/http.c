/* http.c - libcurl client with a fixed security policy (see http.h).
 *
 * libcurl is loaded with dlopen on the first request, not linked: it pulls in
 * some 30 shared libraries (GnuTLS, Kerberos, LDAP, libssh2, ...) whose loading
 * and relocation cost ~2.5 ms at every start of the CLI, and sshd runs
 * `entra-login authorized-keys` for each offered key, where almost every call
 * decides from local files. <curl/curl.h> still gives the types and constants;
 * the functions are called through `api`, resolved once. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "el_limits.h"
#include "http.h"
#include "strutil.h"

#define HTTP_RETRIES 2			/* extra attempts after a 429/503 */
#define HTTP_RETRY_DEFAULT_MS 1000	/* when Retry-After is absent */
#define HTTP_CURL_SONAME "libcurl.so.4"
#define HTTP_CURL_MIN_VERSION 0x075500	/* 7.85.0: CURLOPT_PROTOCOLS_STR */

/* The libcurl functions this file uses, with the prototypes of <curl/curl.h>
 * (__typeof__ of the declarations, so a mismatch does not compile). */
static struct {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_version_info) *version_info;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
} api;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_result = EL_ERR_HTTP_LIB;

/* Load libcurl by its fixed SONAME. The lookup is the dynamic linker's, the
 * same as for a library linked at start (no RPATH/RUNPATH in our binaries;
 * LD_LIBRARY_PATH only outside secure-execution mode): whoever could redirect
 * this dlopen could already redirect libcrypto or libc. RTLD_NOW: every symbol
 * bound before use, like -z now; RTLD_NODELETE: never unloaded.
 * Never paired with curl_global_cleanup or dlclose: the process may still use
 * curl on another thread. */
static void curl_init_once(void)
{
	const curl_version_info_data *ver;
	void *lib;

	lib = dlopen(HTTP_CURL_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!lib)
		return;
#define SYM(field, name) do { api.field = (__typeof__(api.field))dlsym(lib, name); if (!api.field) goto fail; } while (0)
	SYM(global_init, "curl_global_init");
	SYM(version_info, "curl_version_info");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	ver = api.version_info(CURLVERSION_NOW);
	if (!ver || ver->version_num < HTTP_CURL_MIN_VERSION)
		goto fail;
	curl_init_result = api.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : EL_ERR_NOMEM;
	return;
fail:
	memset(&api, 0, sizeof(api));	/* a later call must not use a half-filled table */
}

uint64_t http_now_ms(void)
{
	return monotonic_ms();
}

uint64_t http_deadline_in(unsigned seconds)
{
	return http_now_ms() + (uint64_t)seconds * 1000u;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- form builder ---- */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

static int form_reserve(struct http_form *form, size_t more)
{
	size_t need, cap;
	char *nbuf;

	if (more > EL_HTTP_BODY_MAX || form->len > EL_HTTP_BODY_MAX - more)
		return EL_ERR_RANGE;
	need = form->len + more + 1;
	if (need <= form->cap)
		return 0;
	cap = form->cap ? form->cap : 256;
	while (cap < need)
		cap *= 2;
	nbuf = malloc(cap);
	if (!nbuf)
		return EL_ERR_NOMEM;
	/* Copy instead of realloc so the old buffer (maybe a secret) is wiped. */
	if (form->buf) {
		memcpy(nbuf, form->buf, form->len + 1);
		explicit_bzero(form->buf, form->cap);
		free(form->buf);
	}
	form->buf = nbuf;
	form->cap = cap;
	return 0;
}

static int form_append_encoded(struct http_form *form, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	int r;

	if (n > EL_HTTP_BODY_MAX)
		return EL_ERR_RANGE;
	r = form_reserve(form, 3 * n);
	if (r < 0)
		return r;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p)) {
			form->buf[form->len++] = (char)*p;
		} else {
			form->buf[form->len++] = '%';
			form->buf[form->len++] = hex[*p >> 4];
			form->buf[form->len++] = hex[*p & 15];
		}
	}
	form->buf[form->len] = '\0';
	return 0;
}

int http_form_add(struct http_form *form, const char *name, const char *value)
{
	int r;

	if (!form || !name || !*name || !value)
		return EL_ERR_INVAL;
	if (form->len > 0) {
		r = form_reserve(form, 1);
		if (r < 0)
			return r;
		form->buf[form->len++] = '&';
		form->buf[form->len] = '\0';
	}
	r = form_append_encoded(form, name);
	if (r < 0)
		return r;
	r = form_reserve(form, 1);
	if (r < 0)
		return r;
	form->buf[form->len++] = '=';
	form->buf[form->len] = '\0';
	return form_append_encoded(form, value);
}

void http_form_free(struct http_form *form)
{
	if (!form)
		return;
	if (form->buf) {
		explicit_bzero(form->buf, form->cap);
		free(form->buf);
	}
	form->buf = NULL;
	form->len = form->cap = 0;
}

/* ---- transfer ---- */

void http_response_free(struct http_response *resp)
{
	if (!resp)
		return;
	if (resp->body) {
		explicit_bzero(resp->body, resp->len);
		free(resp->body);
	}
	free(resp);
}

struct sink {
	char *buf;
	size_t len, cap;
	bool too_big;
	bool nomem;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;	/* curl guarantees size == 1 */

	if (n > EL_HTTP_BODY_MAX || s->len > EL_HTTP_BODY_MAX - n) {
		s->too_big = true;
		return 0;	/* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nbuf;

		while (cap < s->len + n + 1)
			cap *= 2;
		if (cap > EL_HTTP_BODY_MAX + 1)
			cap = EL_HTTP_BODY_MAX + 1;
		nbuf = realloc(s->buf, cap);
		if (!nbuf) {
			s->nomem = true;
			return 0;
		}
		s->buf = nbuf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static void sink_reset(struct sink *s)
{
	if (s->buf)
		explicit_bzero(s->buf, s->cap);
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

static bool has_prefix_boundary(const char *url, const char *prefix)
{
	size_t n;

	if (!prefix || !*prefix)
		return false;
	n = strlen(prefix);
	if (strncmp(url, prefix, n) != 0)
		return false;
	/* "http://169.254.169.254" must not match "http://169.254.169.254.evil/" */
	return url[n] == '\0' || url[n] == '/' || url[n] == '?';
}

/* Set only by entra-ssh's main (never by the PAM helper or entra-login). */
static bool env_proxy;

void http_use_environment_proxy(void)
{
	env_proxy = true;
}

const char *http_allowed_protocols(const struct el_config *cfg, const char *url)
{
	if (!url)
		return NULL;
	if (has_prefix_boundary(url, cfg->imds_url) && strncmp(url, "http://", 7) == 0)
		return "http";
	if (strncmp(url, "https://", 8) == 0)
		return "https";
	return NULL;
}

static int map_curl_error(CURLcode c, const struct sink *s)
{
	if (s->too_big || c == CURLE_FILESIZE_EXCEEDED)
		return EL_ERR_HTTP_TOO_BIG;
	if (s->nomem || c == CURLE_OUT_OF_MEMORY)
		return EL_ERR_NOMEM;
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return EL_ERR_HTTP_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return EL_ERR_HTTP_TLS;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EL_ERR_HTTP_SCHEME;
	case CURLE_URL_MALFORMAT:
		return EL_ERR_INVAL;
	default:
		return EL_ERR_HTTP_CONNECT;
	}
}

struct request {
	const struct el_config *cfg;
	const char *url;
	const char *protocols;
	struct curl_slist *headers;
	const struct http_form *form;	/* NULL = GET */
};

/* One attempt. On a completed exchange returns 0 with status, the body in
 * sink and the Retry-After seconds (0 if absent). */
static int perform(const struct request *rq, long timeout_ms, struct sink *sink, long *ret_status,
		   long *ret_retry_after)
{
	CURL *h = NULL;
	CURLcode c;
	curl_off_t retry_after = 0;
	long status = 0;
	int r;

	h = api.easy_init();
	if (!h)
		return EL_ERR_NOMEM;
#define SET(opt, val) do { c = api.easy_setopt(h, opt, val); if (c != CURLE_OK) goto setopt_failed; } while (0)
	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, rq->protocols);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, rq->protocols);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);	/* no SIGALRM games inside sshd */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->cfg->ca_file) {
		SET(CURLOPT_CAINFO, rq->cfg->ca_file);
		SET(CURLOPT_CAPATH, NULL);	/* instead of, not in addition to, the system store */
	}
	/* Never a proxy from the environment (https_proxy, ALL_PROXY, ...): in a setuid
	 * host it is the caller's; we have no proxy setting of our own. Only entra-ssh, a
	 * user's own tool, opts in (http_use_environment_proxy). */
	if (!env_proxy) {
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_NOPROXY, "*");
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)EL_HTTP_BODY_MAX);
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	SET(CURLOPT_WRITEDATA, sink);
	SET(CURLOPT_USERAGENT, "entra-login/1");
	SET(CURLOPT_HTTPHEADER, rq->headers);
	if (rq->form) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, rq->form->buf ? rq->form->buf : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->form->len);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
#undef SET
	c = api.easy_perform(h);
	if (c != CURLE_OK) {
		r = map_curl_error(c, sink);
		goto out;
	}
	if (api.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    api.easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK) {
		r = EL_ERR_HTTP_CONNECT;
		goto out;
	}
	*ret_status = status;
	*ret_retry_after = retry_after > 0 && retry_after < 86400 ? (long)retry_after : 0;
	r = 0;
	goto out;
setopt_failed:
	r = c == CURLE_UNSUPPORTED_PROTOCOL || c == CURLE_NOT_BUILT_IN ? EL_ERR_HTTP_SCHEME : EL_ERR_INVAL;
out:
	api.easy_cleanup(h);
	return r;
}

static int request(const struct el_config *cfg, const char *url, const char *const *headers,
		   const struct http_form *form, uint64_t deadline_ms, struct http_response **ret_resp)
{
	struct request rq = { .cfg = cfg, .url = url, .form = form };
	struct http_response *resp = NULL;
	struct sink sink = { 0 };
	struct curl_slist *tmp;
	long status = 0, retry_after = 0;
	uint64_t now, per_try;
	int r;

	if (!cfg || !url || !ret_resp || strlen(url) > EL_URL_MAX)
		return EL_ERR_INVAL;
	rq.protocols = http_allowed_protocols(cfg, url);
	if (!rq.protocols)
		return EL_ERR_HTTP_SCHEME;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result < 0)
		return curl_init_result;
	per_try = (uint64_t)(cfg->http_timeout ? cfg->http_timeout : 10) * 1000u;
	if (deadline_ms == 0)
		deadline_ms = http_now_ms() + per_try;
	for (size_t i = 0; headers && headers[i]; i++) {
		if (strpbrk(headers[i], "\r\n")) {
			r = EL_ERR_INVAL;
			goto out;
		}
		tmp = api.slist_append(rq.headers, headers[i]);
		if (!tmp) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		rq.headers = tmp;
	}
	if (form) {
		tmp = api.slist_append(rq.headers, "Content-Type: application/x-www-form-urlencoded");
		if (tmp)
			tmp = api.slist_append(tmp, "Expect:");
		if (!tmp) {
			r = EL_ERR_NOMEM;
			goto out;
		}
		rq.headers = tmp;
	}
	for (int attempt = 0;; attempt++) {
		uint64_t wait;

		now = http_now_ms();
		if (now >= deadline_ms) {
			r = EL_ERR_HTTP_TIMEOUT;
			goto out;
		}
		sink_reset(&sink);
		r = perform(&rq, (long)(deadline_ms - now < per_try ? deadline_ms - now : per_try), &sink, &status,
			    &retry_after);
		if (r < 0)
			goto out;
		if (status >= 300 && status < 400) {
			r = EL_ERR_HTTP_REDIRECT;
			goto out;
		}
		if ((status != 429 && status != 503) || attempt >= HTTP_RETRIES)
			break;
		/* Retry only if the advised wait still leaves time before the deadline. */
		wait = retry_after > 0 ? (uint64_t)retry_after * 1000u : HTTP_RETRY_DEFAULT_MS;
		now = http_now_ms();
		if (now + wait >= deadline_ms)
			break;
		sleep_ms(wait);
	}
	if (status == 429) {
		r = EL_ERR_HTTP_THROTTLED;
		goto out;
	}
	resp = calloc(1, sizeof(*resp));
	if (!resp) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	if (!sink.buf) {
		sink.buf = calloc(1, 1);
		if (!sink.buf) {
			r = EL_ERR_NOMEM;
			goto out;
		}
	}
	resp->status = status;
	resp->body = sink.buf;
	resp->len = sink.len;
	sink.buf = NULL;
	*ret_resp = resp;
	resp = NULL;
	r = 0;
out:
	http_response_free(resp);
	sink_reset(&sink);
	/* Headers may carry a bearer token: wipe curl's copies too. */
	for (tmp = rq.headers; tmp; tmp = tmp->next)
		explicit_bzero(tmp->data, strlen(tmp->data));
	if (rq.headers)
		api.slist_free_all(rq.headers);
	return r;
}

int http_get(const struct el_config *cfg, const char *url, const char *const *headers, uint64_t deadline_ms,
	     struct http_response **ret_resp)
{
	return request(cfg, url, headers, NULL, deadline_ms, ret_resp);
}

int http_post_form(const struct el_config *cfg, const char *url, const char *const *headers,
		   const struct http_form *form, uint64_t deadline_ms, struct http_response **ret_resp)
{
	static const struct http_form empty = { 0 };

	return request(cfg, url, headers, form ? form : &empty, deadline_ms, ret_resp);
}
