/* SPDX-License-Identifier: BSD-3-Clause */
/* Blocking frame I/O for the CLI and the tests (see wire_io.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "wire_io.h"

int
zcs_wire_send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
zcs_wire_recv_frame(int fd, union zcs_wire_frame *f, unsigned int timeout_ms)
{
	uint64_t deadline = zcs_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	uint8_t buf[ZCS_WIRE_MAX_FRAME];
	size_t have = 0, need = sizeof(struct zcs_wire_hdr), used;
	int rc;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = zcs_mono_ns();
		ssize_t n;

		rc = zcs_wire_decode(buf, have, f, &used);
		if (rc != ZCS_WIRE_NEED_MORE)
			return rc;
		if (have >= sizeof(struct zcs_wire_hdr))
			need = zcs_wire_frame_size(buf[offsetof(struct zcs_wire_hdr, type)]);
		if (now >= deadline)
			return -ETIMEDOUT;
		/* Rounded up: a poll of 0 ms before the deadline would spin. */
		rc = poll(&p, 1, (int)((deadline - now + 999999u) / 1000000u));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		n = recv(fd, buf + have, need - have, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return -ECONNRESET;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			have += (size_t)n;
	}
}
