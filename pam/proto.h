/* proto.h - the wire between pam_entra.so and its root-owned helper
 * (pamhelper/, installed as $(LIBEXECDIR)/entra-login/pam-helper).
 *
 * One stream socket (the helper's fds 0 and 1). Every message is a frame:
 * 1 byte type, 4 bytes payload length (big-endian), payload. A payload is
 * at most PROTO_FRAME_MAX bytes; a longer length, an unknown type or a type
 * that the receiving side does not expect at that point ends the exchange
 * (fail closed). Text payloads carry no NUL; field payloads are exactly N
 * NUL-terminated strings (proto_fields).
 *
 *   module -> helper  REQUEST (once, first), ANSWER, CONV_FAIL
 *   helper -> module  PROMPT_OFF, PROMPT_ON, INFO, ERROR, LOG, RESULT (once, last)
 *
 * REQUEST fields, in order: version "1", op "auth"|"account", user,
 * service, rhost, tty, mode "auto"|"device"|"token", config path ("" =
 * default), debug "0"|"1", silent "0"|"1", announced uid (decimal; what NSS
 * gave the host for user before the helper ran, "0" = none).
 * RESULT fields: PAM code (decimal), user name, oid ("" if none), role
 * "none"|"user"|"admin". LOG fields: syslog priority digit, text.
 */
#ifndef EL_PAM_PROTO_H
#define EL_PAM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION "1"
#define PROTO_FRAME_MAX 4096u		/* payload bytes: > EL_TOKEN_PART_MAX, > any prompt */
#define PROTO_PROMPTS_MAX 40		/* prompts per run (token parts + device + auto) */
#define PROTO_FRAMES_MAX 256		/* frames of any kind per run */
#define PROTO_REQUEST_FIELDS 11
#define PROTO_RESULT_FIELDS 4
#define PROTO_LOG_FIELDS 2
/* The module kills a helper still running after login_timeout plus this
 * many http_timeouts (role lookups, JWKS) plus PROTO_MARGIN_S seconds. */
#define PROTO_HTTP_TIMEOUTS 5
#define PROTO_MARGIN_S 10

enum proto_type {
	PROTO_REQUEST = 1,
	PROTO_PROMPT_OFF = 2,
	PROTO_PROMPT_ON = 3,
	PROTO_INFO = 4,
	PROTO_ERROR = 5,
	PROTO_LOG = 6,
	PROTO_ANSWER = 7,
	PROTO_CONV_FAIL = 8,
	PROTO_RESULT = 9,
};

/* Monotonic clock in milliseconds. */
uint64_t proto_now_ms(void);

/* Write one frame (len <= PROTO_FRAME_MAX). Never raises SIGPIPE on a socket.
 * Returns 0 or -1 (peer gone, error). */
int proto_write(int fd, uint8_t type, const void *payload, size_t len);

/* Read one frame into buf (cap >= PROTO_FRAME_MAX + 1; the payload is
 * NUL-terminated for convenience). deadline_ms: absolute proto_now_ms()
 * bound, 0 = wait forever. Returns 0, 1 (clean end of stream before a frame
 * started), or -1 (error, timeout, short frame, oversized length). */
int proto_read(int fd, uint64_t deadline_ms, uint8_t *ret_type, char *buf, size_t cap, size_t *ret_len);

/* Split a payload into exactly n NUL-terminated fields (pointers into buf).
 * Returns 0 or -1 (another count, or bytes after the last NUL). */
int proto_fields(const char *buf, size_t len, size_t n, const char **out);

/* Concatenate n strings, each with its NUL, into buf. Returns the length or -1 (too long). */
long proto_pack(char *buf, size_t cap, size_t n, const char *const *fields);

/* True if the len bytes hold no NUL (text payloads). */
int proto_text_ok(const char *buf, size_t len);

#endif
