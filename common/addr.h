/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signer endpoint addresses, shared by zcsign-enclave (listen), zcsignd and
 * zcsign-cli (connect).
 *
 *   unix:PATH         AF_UNIX stream socket at PATH (dev box, tests)
 *   vsock:PORT        listen only: AF_VSOCK, VMADDR_CID_ANY, PORT (inside the enclave)
 *   vsock:CID:PORT    connect only: AF_VSOCK to the enclave with context id CID
 */
#ifndef ZCS_ADDR_H
#define ZCS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ZCS_ADDR_UNIX 1
#define ZCS_ADDR_VSOCK 2
#define ZCS_ADDR_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

struct zcs_addr {
	int kind; /* ZCS_ADDR_UNIX or ZCS_ADDR_VSOCK */
	char path[ZCS_ADDR_PATH_MAX]; /* unix */
	uint32_t cid; /* vsock; VMADDR_CID_ANY when listening */
	uint32_t port; /* vsock */
};

/*
 * Parse an endpoint. listen selects the vsock form (vsock:PORT to listen,
 * vsock:CID:PORT to connect). Returns 0, or -EINVAL with a message naming the
 * text in err.
 */
int zcs_addr_parse(const char *text, bool listen, struct zcs_addr *a, char *err, size_t errlen);

/* Text form of an address (as parse accepts it). Returns buf. */
const char *zcs_addr_format(const struct zcs_addr *a, char *buf, size_t len);

/* Fill a sockaddr for a. Returns 0 or -EINVAL. */
int zcs_addr_sockaddr(const struct zcs_addr *a, struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * Bind and listen, non-blocking, close-on-exec. A unix path that exists is
 * probed: if something accepts on it the call fails with -EADDRINUSE ("socket
 * path busy"), if nothing does the stale file is removed and replaced.
 * Returns the fd, or -errno with a message naming the address in err.
 */
int zcs_addr_listen(const struct zcs_addr *a, char *err, size_t errlen);

/*
 * Connect (blocking connect, then the fd is switched to non-blocking when
 * nonblock is set). Returns the fd or -errno with a message in err.
 */
int zcs_addr_connect(const struct zcs_addr *a, bool nonblock, char *err, size_t errlen);

/*
 * The control endpoint (provisioning) of a signer listening at sign, unless
 * configured otherwise: unix:PATH.ctl, or vsock port + 1. 0, -ENAMETOOLONG
 * (the path does not fit), or -EINVAL (no port after sign's).
 */
#define ZCS_ADDR_CONTROL_SUFFIX ".ctl"
int zcs_addr_control(const struct zcs_addr *sign, struct zcs_addr *ctl);

#endif /* ZCS_ADDR_H */
