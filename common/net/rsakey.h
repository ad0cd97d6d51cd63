/* rsakey.h - an OpenSSL RSA public key from its modulus and exponent.
 *
 * Shared by the JWKS reader (n, e from a JWK) and the SSH certificate reader
 * (mpints from an "ssh-rsa" key blob), which both take only numbers that can
 * be an RSA key: n odd and at least 512 bits, e odd and greater than 1 (the
 * callers apply their own size limits). Stateless and thread-safe.
 */
#ifndef EL_RSAKEY_H
#define EL_RSAKEY_H

#include <openssl/bn.h>
#include <openssl/evp.h>

/* *ret_pkey gets a new public key (the caller frees it with EVP_PKEY_free).
 * Returns 0, or EL_ERR_INVAL when n or e cannot be an RSA key or OpenSSL
 * refuses them (including its own allocation failures); *ret_pkey is then
 * untouched. */
int rsakey_public(const BIGNUM *n, const BIGNUM *e, EVP_PKEY **ret_pkey);

#endif
