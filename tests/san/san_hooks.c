/* san_hooks.c - linked into our executables in sanitizer builds only (make SAN=...).
 *
 * The PAM helper runs with stderr on /dev/null, and a test that expects a
 * refusal cannot tell a refusal from a sanitizer abort (both exit non-zero
 * or end the helper without an answer). So every report of our executables
 * goes to a file under EL_SAN_LOG_DIR instead of stderr; the test suite
 * (tests/conftest.py) fails the test during which one appears and prints it.
 *
 * Why a constructor and not log_path in __asan_default_options: with GCC's
 * ASan+UBSan each runtime keeps its own report file, and libubsan ignores
 * log_path given through its options (reports still went to stderr, tried
 * with GCC 12). Setting both report paths explicitly works for both.
 */
#include <dlfcn.h>
#include <stddef.h>

#ifndef EL_SAN_LOG_DIR
#define EL_SAN_LOG_DIR "/tmp/entra-login-san"
#endif

void __sanitizer_set_report_path(const char *path);

__attribute__((constructor)) static void san_report_to_files(void)
{
	/* The sanitizer API name resolves to libasan's copy; libubsan's own copy is
	 * reached through its handle. The runtimes append ".<pid>". */
	void *ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
	void (*set_ubsan)(const char *) = ubsan ? (void (*)(const char *))dlsym(ubsan, "__sanitizer_set_report_path")
						: NULL;

	__sanitizer_set_report_path(EL_SAN_LOG_DIR "/asan");
	if (set_ubsan)
		set_ubsan(EL_SAN_LOG_DIR "/ubsan");
}
