/* b64url.h - strict base64url (RFC 4648 section 5) decoding for JWTs and JWKs.
 *
 * Strict means: only [A-Za-z0-9_-]; no '=' padding, no whitespace, no '+'
 * or '/'; a length of 1 mod 4 is impossible; the unused low bits of the last
 * character must be zero (so each byte string has exactly one encoding).
 * Stateless and thread-safe.
 */
#ifndef EL_B64URL_H
#define EL_B64URL_H

#include <stddef.h>

#include "err.h"

/* Bytes that decoding n input characters yields (exact for valid input). */
#define B64URL_DECODED_LEN(n) ((n) / 4 * 3 + ((n) % 4 ? (n) % 4 - 1 : 0))

/* Decode in[0..inlen) into out (capacity outcap). *ret_len gets the decoded
 * length. Returns 0, EL_ERR_INVAL (not strict base64url) or EL_ERR_RANGE
 * (out too small). out is not NUL-terminated. */
int b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap, size_t *ret_len) EL_MUST_CHECK;

/* Same, into a new buffer with one extra NUL byte after the data (so JSON
 * text can be used as a string). Caller frees *ret_out.
 * Returns 0, EL_ERR_INVAL, EL_ERR_NOMEM. */
int b64url_decode_alloc(const char *in, size_t inlen, unsigned char **ret_out, size_t *ret_len) EL_MUST_CHECK;

/* True if every byte of in[0..inlen) is in the base64url alphabet. */
int b64url_is_alphabet(const char *in, size_t inlen);

#endif
