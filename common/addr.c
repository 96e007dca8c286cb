/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "addr.h"
#include "num.h"

/* Decimal uint32 with nothing around it. */
static int
parse_u32(const char *s, size_t n, uint32_t *v)
{
	uint64_t x;

	if (zcs_parse_u64_n(s, n, UINT32_MAX, &x) != 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int
parse_vsock(const char *text, const char *rest, bool listen, struct zcs_addr *a, char *err,
	size_t errlen)
{
	const char *colon = strchr(rest, ':');

	a->kind = ZCS_ADDR_VSOCK;
	if (listen) {
		a->cid = VMADDR_CID_ANY;
		if (colon == NULL && parse_u32(rest, strlen(rest), &a->port) == 0)
			return 0;
		snprintf(err, errlen, "'%s': a listen address is vsock:PORT (decimal port)", text);
		return -EINVAL;
	}
	if (colon != NULL && parse_u32(rest, (size_t)(colon - rest), &a->cid) == 0 &&
		parse_u32(colon + 1, strlen(colon + 1), &a->port) == 0)
		return 0;
	snprintf(err, errlen, "'%s': a vsock address to connect to is vsock:CID:PORT (decimal)",
		text);
	return -EINVAL;
}

int
zcs_addr_parse(const char *text, bool listen, struct zcs_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (text == NULL) {
		snprintf(err, errlen, "no address given");
		return -EINVAL;
	}
	if (strncmp(text, "unix:", 5) == 0) {
		size_t n = strlen(text + 5);

		if (n == 0 || n >= sizeof(a->path)) {
			snprintf(err, errlen, "'%s': unix socket path must be 1..%zu characters",
				text, sizeof(a->path) - 1);
			return -EINVAL;
		}
		a->kind = ZCS_ADDR_UNIX;
		memcpy(a->path, text + 5, n + 1);
		return 0;
	}
	if (strncmp(text, "vsock:", 6) == 0)
		return parse_vsock(text, text + 6, listen, a, err, errlen);
	snprintf(err, errlen, "'%s': address must start with unix: or vsock:", text);
	return -EINVAL;
}

const char *
zcs_addr_format(const struct zcs_addr *a, char *buf, size_t len)
{
	if (a->kind == ZCS_ADDR_UNIX)
		snprintf(buf, len, "unix:%s", a->path);
	else if (a->kind == ZCS_ADDR_VSOCK && a->cid == VMADDR_CID_ANY)
		snprintf(buf, len, "vsock:%" PRIu32, a->port);
	else if (a->kind == ZCS_ADDR_VSOCK)
		snprintf(buf, len, "vsock:%" PRIu32 ":%" PRIu32, a->cid, a->port);
	else
		snprintf(buf, len, "(no address)");
	return buf;
}

int
zcs_addr_sockaddr(const struct zcs_addr *a, struct sockaddr_storage *ss, socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (a->kind == ZCS_ADDR_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, a->path, strlen(a->path) + 1);
		*sslen = sizeof(*un);
		return 0;
	}
	if (a->kind == ZCS_ADDR_VSOCK) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_cid = a->cid;
		vm->svm_port = a->port;
		*sslen = sizeof(*vm);
		return 0;
	}
	return -EINVAL;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/*
 * A unix path that exists is either a live signer (refuse: two signers on one
 * path would steal each other's clients) or a leftover of a crash (replace).
 */
static int
claim_unix_path(const struct zcs_addr *a, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (lstat(a->path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "unix:%s: path exists and is not a socket", a->path);
		return -EEXIST;
	}
	fd = zcs_addr_connect(a, false, err, errlen);
	if (fd >= 0) {
		close(fd);
		snprintf(err, errlen, "unix:%s: socket path busy: another process listens on it",
			a->path);
		return -EADDRINUSE;
	}
	if (unlink(a->path) < 0 && errno != ENOENT) {
		int e = errno;

		snprintf(err, errlen, "unix:%s: cannot remove stale socket: %s", a->path,
			strerror(e));
		return -e;
	}
	return 0;
}

/*
 * bind(); a unix socket is created mode 0600 (umask 0177 for the bind, so it
 * never exists with wider rights): only its owner (and root) may connect, the
 * first of the signer's peer checks (zcs_peer_allowed() is the second).
 * Returns 0 or -1 with errno.
 */
static int
bind_private(int fd, const struct zcs_addr *a, const struct sockaddr_storage *ss, socklen_t len)
{
	mode_t old;
	int rc, e;

	if (a->kind != ZCS_ADDR_UNIX)
		return bind(fd, (const struct sockaddr *)ss, len);
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)ss, len);
	e = errno;
	umask(old);
	errno = e;
	return rc;
}

/*
 * The first steps of listen and connect: a's printable name in name (for
 * messages), its sockaddr, and a stream socket of its family (flags:
 * SOCK_NONBLOCK or 0). Returns the socket, or -errno with err saying which
 * step failed, prefixed with what (e.g. "cannot connect to ").
 */
static int
open_stream(const struct zcs_addr *a, int flags, const char *what, char name[160],
	struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
	int fd, rc;

	zcs_addr_format(a, name, 160);
	if (zcs_addr_sockaddr(a, ss, sslen) < 0) {
		snprintf(err, errlen, "%s: not a valid address", name);
		return -EINVAL;
	}
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s%s: socket: %s", what, name, strerror(-rc));
		return rc;
	}
	return fd;
}

int
zcs_addr_listen(const struct zcs_addr *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char name[160];
	int fd, rc;

	fd = open_stream(a, SOCK_NONBLOCK, "", name, &ss, &sslen, err, errlen);
	if (fd < 0)
		return fd;
	if (a->kind == ZCS_ADDR_UNIX) {
		rc = claim_unix_path(a, err, errlen);
		if (rc < 0) {
			if (rc != -EADDRINUSE && rc != -EEXIST)
				snprintf(err, errlen, "%s: %s", name, strerror(-rc));
			close(fd);
			return rc;
		}
	}
	if (bind_private(fd, a, &ss, sslen) < 0 || listen(fd, 8) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot listen: %s", name, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

int
zcs_addr_connect(const struct zcs_addr *a, bool nonblock, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char name[160];
	int fd, rc;

	fd = open_stream(a, 0, "cannot connect to ", name, &ss, &sslen, err, errlen);
	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot connect to %s: %s", name, strerror(-rc));
		close(fd);
		return rc;
	}
	if (nonblock && (rc = set_nonblock(fd)) < 0) {
		snprintf(err, errlen, "%s: cannot make non-blocking: %s", name, strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

int
zcs_addr_control(const struct zcs_addr *sign, struct zcs_addr *ctl)
{
	*ctl = *sign;
	if (sign->kind == ZCS_ADDR_UNIX) {
		size_t n = strlen(sign->path);

		if (n + sizeof(ZCS_ADDR_CONTROL_SUFFIX) > sizeof(ctl->path))
			return -ENAMETOOLONG;
		memcpy(ctl->path + n, ZCS_ADDR_CONTROL_SUFFIX, sizeof(ZCS_ADDR_CONTROL_SUFFIX));
		return 0;
	}
	/* The port after the signing port; VMADDR_PORT_ANY (-1U) is no port. */
	if (sign->kind != ZCS_ADDR_VSOCK || sign->port >= UINT32_MAX - 1)
		return -EINVAL;
	ctl->port = sign->port + 1;
	return 0;
}
