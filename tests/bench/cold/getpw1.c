/* getpw1 - one getpwnam(3) in a whole process, for the cold-process rows of
 * tests/bench/run_nss_cold.sh (built there, libc only, never installed).
 *
 *   getpw1 NAME          exit 0 if NAME resolves, 1 if not
 *   getpw1 --rss NAME    also print the kB of anonymous and file-backed
 *                        memory the process gained from the lookup
 *                        (RssAnon / RssFile of /proc/self/status)
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>

static void rss(long *anon, long *file)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	*anon = *file = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "RssAnon:", 8) == 0)
			sscanf(line + 8, "%ld", anon);
		else if (strncmp(line, "RssFile:", 8) == 0)
			sscanf(line + 8, "%ld", file);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	long a0, f0, a1, f1;
	int show = argc == 3 && strcmp(argv[1], "--rss") == 0;
	struct passwd *pw;

	if (argc != 2 + show)
		return 2;
	if (show)
		rss(&a0, &f0);
	pw = getpwnam(argv[1 + show]);
	if (show) {
		rss(&a1, &f1);
		printf("%ld %ld\n", a1 - a0, f1 - f0);
	}
	return pw ? 0 : 1;
}
