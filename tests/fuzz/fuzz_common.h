/* fuzz_common.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Each harness is one translation unit with LLVMFuzzerTestOneInput (and
 * maybe LLVMFuzzerInitialize); it links the same sources as the product,
 * built with -fsanitize=fuzzer-no-link,address,undefined (tests/fuzz/fuzz.mk).
 * A broken invariant calls FUZZ_CHECK, which aborts: libFuzzer saves the
 * input as a crash-* file.
 */
#ifndef EL_FUZZ_COMMON_H
#define EL_FUZZ_COMMON_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_TENANT "6e2d6a5c-7f3b-4a8e-9c41-2b5d8f0e1a37"
#define FUZZ_CLIENT "3f8a1c2e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"
#define FUZZ_NOW 1700000000	/* jwt_validate's clock: fixed, so every input replays */

#define FUZZ_CHECK(cond)                                                                        \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                \
		}                                                                               \
	} while (0)

static char fuzz_scratch_dir[256];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fuzz_scratch_remove(void)
{
	if (fuzz_scratch_dir[0])
		nftw(fuzz_scratch_dir, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A private scratch directory (0755, ours) for the whole fuzzing process,
 * removed at exit. */
static inline const char *fuzz_scratch(void)
{
	char *dir = fuzz_scratch_dir;

	if (!dir[0]) {
		const char *t = getenv("FUZZ_TMPDIR");

		/* tmpfs: rewriting a file on ext4 waits for writeback (auto_da_alloc). */
		if (!t || !*t)
			t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof(fuzz_scratch_dir), "%s/el-fuzz-XXXXXX", t);
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			abort();
		}
		chmod(dir, 0755);
		atexit(fuzz_scratch_remove);
	}
	return dir;
}

/* Write len bytes to path (0644, replacing it). Aborts on I/O errors:
 * those are the harness's problem, not a finding. */
static inline void fuzz_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "we");

	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		abort();
	}
	chmod(path, mode);
}

/* A NUL-terminated copy of data[0..len) (caller frees). */
static inline char *fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/* base64url without padding (an independent encoder, to check the decoder
 * against and to build tokens). Returns a new NUL-terminated string. */
static inline char *fuzz_b64url_encode(const uint8_t *in, size_t n, size_t *ret_len)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 4 + 1);
	size_t o = 0, i;

	if (!out)
		abort();
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	if (n - i == 1) {
		out[o++] = abc[in[i] >> 2];
		out[o++] = abc[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = abc[v >> 10 & 63];
		out[o++] = abc[v >> 4 & 63];
		out[o++] = abc[(v & 15) << 2];
	}
	out[o] = '\0';
	if (ret_len)
		*ret_len = o;
	return out;
}

static inline const char *fuzz_config_text(void)
{
	return "tenant_id = " FUZZ_TENANT "\n"
	       "client_id = " FUZZ_CLIENT "\n"
	       "authority = https://login.invalid\n"
	       "domains = contoso.com, fabrikam.example\n"
	       "audiences = api://" FUZZ_CLIENT ", https://entra-login.contoso.com\n"
	       "token_max_age = 600\n"
	       "clock_skew = 120\n"
	       "http_timeout = 1\n";
}

#endif
