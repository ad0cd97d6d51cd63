/* proto.c - frames between pam_entra.so and its helper (see proto.h).
 * Linked into both; libc only. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

uint64_t proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int proto_write(int fd, uint8_t type, const void *payload, size_t len)
{
	unsigned char hdr[5];

	if (len > PROTO_FRAME_MAX || (len > 0 && !payload))
		return -1;
	hdr[0] = type;
	hdr[1] = (unsigned char)(len >> 24);
	hdr[2] = (unsigned char)(len >> 16);
	hdr[3] = (unsigned char)(len >> 8);
	hdr[4] = (unsigned char)len;
	if (write_all(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	return len ? write_all(fd, payload, len) : 0;
}

/* Exactly len bytes. Returns 0, 1 (end of stream before the first byte), -1. */
static int read_all(int fd, uint64_t deadline_ms, unsigned char *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		if (deadline_ms) {
			uint64_t now = proto_now_ms();
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int pr;

			if (now >= deadline_ms)
				return -1;
			pr = poll(&pfd, 1, (int)(deadline_ms - now > 60000 ? 60000 : deadline_ms - now));
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return -1;
			if (pr == 0)
				continue;	/* re-check the deadline */
		}
		n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 1 : -1;
		got += (size_t)n;
	}
	return 0;
}

int proto_read(int fd, uint64_t deadline_ms, uint8_t *ret_type, char *buf, size_t cap, size_t *ret_len)
{
	unsigned char hdr[5];
	size_t len;
	int r;

	r = read_all(fd, deadline_ms, hdr, sizeof(hdr));
	if (r != 0)
		return r;
	len = ((size_t)hdr[1] << 24) | ((size_t)hdr[2] << 16) | ((size_t)hdr[3] << 8) | hdr[4];
	if (len > PROTO_FRAME_MAX || len + 1 > cap)
		return -1;
	if (len > 0 && read_all(fd, deadline_ms, (unsigned char *)buf, len) != 0)
		return -1;
	buf[len] = '\0';
	*ret_type = hdr[0];
	*ret_len = len;
	return 0;
}

int proto_fields(const char *buf, size_t len, size_t n, const char **out)
{
	size_t i = 0, pos = 0;

	while (pos < len) {
		const char *nul = memchr(buf + pos, '\0', len - pos);

		if (!nul || i >= n)
			return -1;
		out[i++] = buf + pos;
		pos = (size_t)(nul - buf) + 1;
	}
	return i == n ? 0 : -1;
}

long proto_pack(char *buf, size_t cap, size_t n, const char *const *fields)
{
	size_t pos = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(fields[i]) + 1;

		if (l > cap - pos || pos + l > PROTO_FRAME_MAX)
			return -1;
		memcpy(buf + pos, fields[i], l);
		pos += l;
	}
	return (long)pos;
}

int proto_text_ok(const char *buf, size_t len)
{
	return memchr(buf, '\0', len) == NULL;
}
