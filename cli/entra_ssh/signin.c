/* signin.c - entra-ssh's OAuth: a device-code sign-in or a refresh token, then an
 * ssh-cert token request (design section 6), and Entra's refusals in plain words. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "devcode.h"
#include "es.h"
#include "http.h"
#include "strutil.h"

#define ES_HTTP_SECONDS 60
#define ES_DEVICE_MAX_SECONDS 900

struct entra_error {
	char error[64];
	long code;		/* first of error_codes, 0 if none */
};

void es_say(const struct es_opts *o, const char *fmt, ...)
{
	va_list ap;

	(void)o;
	fputs("entra-ssh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *es_aadsts_message(const char *error, long code)
{
	switch (code) {
	case 50076:
		return "Entra ID requires multi-factor authentication for this sign-in: run 'entra-ssh cert' "
		       "and complete MFA in the browser";
	case 50079:
		return "Entra ID requires you to register for multi-factor authentication: do so at "
		       "https://aka.ms/mfasetup, then run 'entra-ssh cert'";
	case 53003:
		return "a Conditional Access policy of your organisation blocked this sign-in (for example "
		       "device, location or app rules): ask your administrator, signing in again will not help";
	case 65001:
		return "consent missing: your tenant has not consented to the Azure CLI app signing in to "
		       "'Azure Linux VM Sign-In': ask an administrator to grant consent";
	case 700082:
	case 70008:
	case 50173:
		return "your Entra ID sign-in has expired (the refresh token is no longer valid): run "
		       "'entra-ssh cert' again";
	case 50058:
		return "not signed in: run 'entra-ssh cert'";
	case 70000:
		return "the sign-in was declined";
	case 70019:
		return "the sign-in code expired before the sign-in was completed: run 'entra-ssh cert' again";
	case 700016:
		return "this tenant does not know the client application: check --tenant and --client-id";
	case 90002:
		return "the tenant was not found: check --tenant";
	default:
		break;
	}
	if (error && strcmp(error, "invalid_grant") == 0)
		return "Entra ID no longer accepts your sign-in: run 'entra-ssh cert' again";
	if (error && strcmp(error, "interaction_required") == 0)
		return "Entra ID wants you to sign in interactively: run 'entra-ssh cert' again";
	return "Entra ID refused the request";
}

static void parse_error(const json_t *root, struct entra_error *e)
{
	const json_t *v = json_object_get(root, "error"), *codes = json_object_get(root, "error_codes");
	const char *s = json_string_value(v);
	size_t i;

	memset(e, 0, sizeof(*e));
	if (s) {
		/* only [a-z_]: it is printed */
		for (i = 0; s[i] && i < sizeof(e->error) - 1; i++)
			e->error[i] = (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ? s[i] : '?';
	}
	if (json_is_array(codes) && json_array_size(codes) > 0 && json_is_integer(json_array_get(codes, 0))) {
		json_int_t c = json_integer_value(json_array_get(codes, 0));

		if (c > 0 && c < 100000000)
			e->code = (long)c;
	}
}

static void say_refusal(const struct es_opts *o, const struct entra_error *e)
{
	if (e->code)
		es_say(o, "%s (AADSTS%ld%s%s)", es_aadsts_message(e->error, e->code), e->code,
		       e->error[0] ? ", " : "", e->error);
	else
		es_say(o, "%s (%s)", es_aadsts_message(e->error, 0), e->error[0] ? e->error : "no error code");
}

static int endpoint_url(const struct es_opts *o, const char *what, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/oauth2/v2.0/%s", o->authority, o->tenant, what);

	return n < 0 || (size_t)n >= len ? EL_ERR_RANGE : 0;
}

/* POST form to the endpoint; *ret_root is the JSON object of any answer with a JSON body. */
static int post(const struct es_opts *o, const char *what, const struct http_form *form, long *ret_status,
		json_t **ret_root)
{
	struct el_config cfg;
	struct http_response *resp = NULL;
	char url[ES_URL_MAX + 64];
	json_t *root = NULL;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ca_file = o->ca_file[0] ? (char *)o->ca_file : NULL;
	cfg.http_timeout = 30;
	r = endpoint_url(o, what, url, sizeof(url));
	if (r < 0)
		goto out;
	r = http_post_form(&cfg, url, NULL, form, http_deadline_in(ES_HTTP_SECONDS), &resp);
	if (r < 0) {
		es_say(o, "could not reach Entra ID at %.200s: %s", o->authority, el_strerror(r));
		goto out;
	}
	root = json_loadb(resp->body, resp->len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		es_say(o, "Entra ID answered %ld with something that is not JSON", resp->status);
		r = EL_ERR_JSON;
		goto out;
	}
	*ret_status = resp->status;
	*ret_root = root;
	root = NULL;
out:
	json_decref(root);
	http_response_free(resp);
	return r;
}

static int add_cert_request(struct http_form *f, const struct es_opts *o, const char *req_cnf, const char *key_id)
{
	int r = http_form_add(f, "client_id", o->client_id);

	if (r == 0)
		r = http_form_add(f, "scope", "openid profile offline_access " ES_SCOPE);
	if (r == 0)
		r = http_form_add(f, "token_type", "ssh-cert");
	if (r == 0)
		r = http_form_add(f, "req_cnf", req_cnf);
	if (r == 0)
		r = http_form_add(f, "key_id", key_id);
	return r;
}

/* A 200 answer: the certificate blob, and the refresh token if a new one came. */
static int take_answer(const struct es_opts *o, json_t *root, char **ret_b64, char **ret_rt)
{
	const char *tt = json_string_value(json_object_get(root, "token_type"));
	const char *at = json_string_value(json_object_get(root, "access_token"));
	const char *rt = json_string_value(json_object_get(root, "refresh_token"));
	char *b64 = NULL, *rtc = NULL;
	bool ok_rt;

	if (!tt || strcmp(tt, "ssh-cert") != 0 || !at) {
		es_say(o, "Entra ID answered without an SSH certificate (token_type %.20s)", tt ? tt : "missing");
		return EL_ERR_DEVICE_PROTOCOL;
	}
	ok_rt = rt && strlen(rt) < ES_REFRESH_TOKEN_MAX && !str_has_ctl(rt);
	b64 = strdup(at);
	if (ok_rt)
		rtc = strdup(rt);
	if (!b64 || (ok_rt && !rtc)) {
		free(b64);
		secret_free(rtc);
		return EL_ERR_NOMEM;
	}
	*ret_b64 = b64;
	*ret_rt = rtc;
	return 0;
}

static int with_refresh_token(const struct es_opts *o, const char *rt, const char *req_cnf, const char *key_id,
			      char **ret_b64, char **ret_rt)
{
	struct http_form f = { 0 };
	struct entra_error e;
	json_t *root = NULL;
	long status = 0;
	int r;

	r = http_form_add(&f, "grant_type", "refresh_token");
	if (r == 0)
		r = http_form_add(&f, "refresh_token", rt);
	if (r == 0)
		r = add_cert_request(&f, o, req_cnf, key_id);
	if (r < 0)
		goto out;
	r = post(o, "token", &f, &status, &root);
	if (r < 0)
		goto out;
	if (status != 200) {
		parse_error(root, &e);
		say_refusal(o, &e);
		r = EL_ERR_HTTP_STATUS;
		goto out;
	}
	r = take_answer(o, root, ret_b64, ret_rt);
out:
	json_decref(root);
	http_form_free(&f);
	return r;
}

static void sleep_s(unsigned s)
{
	struct timespec ts = { .tv_sec = s };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int with_device_code(const struct es_opts *o, const char *req_cnf, const char *key_id, char **ret_b64,
			    char **ret_rt)
{
	struct http_form f = { 0 };
	struct entra_error e;
	json_t *root = NULL;
	char *device_code = NULL;
	const char *msg;
	long status = 0;
	json_int_t interval = DEVCODE_DEFAULT_INTERVAL, expires_in = ES_DEVICE_MAX_SECONDS;
	time_t end;
	int r;

	r = http_form_add(&f, "client_id", o->client_id);
	if (r == 0)
		r = http_form_add(&f, "scope", "openid profile offline_access " ES_SCOPE);
	if (r < 0)
		goto out;
	r = post(o, "devicecode", &f, &status, &root);
	if (r < 0)
		goto out;
	if (status != 200) {
		parse_error(root, &e);
		say_refusal(o, &e);
		r = EL_ERR_DEVICE_PROTOCOL;
		goto out;
	}
	msg = json_string_value(json_object_get(root, "message"));
	if (!json_string_value(json_object_get(root, "device_code")) || !msg || str_has_ctl(msg)) {
		es_say(o, "Entra ID's device code answer is malformed");
		r = EL_ERR_DEVICE_PROTOCOL;
		goto out;
	}
	device_code = strdup(json_string_value(json_object_get(root, "device_code")));
	if (!device_code) {
		r = EL_ERR_NOMEM;
		goto out;
	}
	if (json_is_integer(json_object_get(root, "interval")))
		interval = json_integer_value(json_object_get(root, "interval"));
	if (json_is_integer(json_object_get(root, "expires_in")))
		expires_in = json_integer_value(json_object_get(root, "expires_in"));
	if (interval < 1 || interval > DEVCODE_MAX_INTERVAL)
		interval = DEVCODE_DEFAULT_INTERVAL;
	if (expires_in < 1 || expires_in > ES_DEVICE_MAX_SECONDS)
		expires_in = ES_DEVICE_MAX_SECONDS;
	fprintf(stderr, "%.400s\n", msg);
	end = time(NULL) + expires_in;
	json_decref(root);
	root = NULL;
	for (;;) {
		http_form_free(&f);
		r = http_form_add(&f, "grant_type", DEVCODE_GRANT_TYPE);
		if (r == 0)
			r = http_form_add(&f, "device_code", device_code);
		if (r == 0)
			r = add_cert_request(&f, o, req_cnf, key_id);
		if (r < 0)
			goto out;
		r = post(o, "token", &f, &status, &root);
		if (r < 0)
			goto out;
		if (status == 200)
			break;
		parse_error(root, &e);
		json_decref(root);
		root = NULL;
		if (strcmp(e.error, "slow_down") == 0) {
			interval += DEVCODE_SLOW_DOWN_STEP;
		} else if (strcmp(e.error, "authorization_pending") != 0) {
			say_refusal(o, &e);
			r = EL_ERR_DEVICE_DECLINED;
			goto out;
		}
		if (time(NULL) + interval > end) {
			es_say(o, "the sign-in was not completed in time: run 'entra-ssh cert' again");
			r = EL_ERR_DEVICE_TIMEOUT;
			goto out;
		}
		sleep_s((unsigned)interval);
	}
	r = take_answer(o, root, ret_b64, ret_rt);
out:
	json_decref(root);
	secret_free(device_code);
	http_form_free(&f);
	return r;
}

int es_signin(const struct es_opts *o, EVP_PKEY *key, bool allow_rt, bool interactive, char **ret_b64)
{
	char path[PATH_MAX], *rt = NULL, *new_rt = NULL, *req_cnf = NULL, *key_id = NULL, *b64 = NULL;
	size_t rt_len = 0;
	int r;

	r = es_req_cnf(key, &req_cnf, &key_id);
	if (r < 0)
		goto out;
	if (snprintf(path, sizeof(path), "%s/%s", o->dir, ES_RT_FILE) >= (int)sizeof(path)) {
		r = EL_ERR_RANGE;
		goto out;
	}
	r = allow_rt ? es_private_read(path, ES_REFRESH_TOKEN_MAX, &rt, &rt_len) : EL_ERR_NOT_FOUND;
	if (r == EL_ERR_INSECURE) {
		es_say(o, "%s is readable by others or not yours: remove it and run 'entra-ssh cert'", path);
		goto out;
	}
	if (r == 0) {
		str_strip(rt);
		r = with_refresh_token(o, rt, req_cnf, key_id, &b64, &new_rt);
		if (r == EL_ERR_HTTP_STATUS && interactive) {
			es_say(o, "signing in again");
			r = EL_ERR_NOT_FOUND;
		} else if (r < 0) {
			goto out;
		}
	}
	if (r == EL_ERR_NOT_FOUND) {
		if (!interactive) {
			es_say(o, "not signed in: run 'entra-ssh cert' once");
			goto out;
		}
		r = with_device_code(o, req_cnf, key_id, &b64, &new_rt);
		if (r < 0)
			goto out;
	} else if (r < 0) {
		goto out;
	}
	if (new_rt && (!rt || strcmp(new_rt, rt) != 0)) {
		r = file_write_atomic(path, new_rt, strlen(new_rt), 0600);
		if (r < 0) {
			es_say(o, "could not write %s: %s", path, el_strerror(r));
			goto out;
		}
	}
	*ret_b64 = b64;
	b64 = NULL;
	r = 0;
out:
	secret_free(rt);
	secret_free(new_rt);
	free(b64);
	free(req_cnf);
	free(key_id);
	return r;
}
