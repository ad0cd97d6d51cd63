/* rsakey.c - RSA public key from (n, e); see rsakey.h. */
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "err.h"
#include "rsakey.h"

int rsakey_public(const BIGNUM *n, const BIGNUM *e, EVP_PKEY **ret_pkey)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = EL_ERR_INVAL;

	/* A modulus is odd and large; e odd and > 1. Anything else is not RSA. */
	if (!BN_is_odd(n) || BN_num_bits(n) < 512 || !BN_is_odd(e) || BN_is_one(e))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	*ret_pkey = pkey;
	pkey = NULL;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}
