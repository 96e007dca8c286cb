/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Blocking frame I/O on a connected stream socket, for the programs that speak
 * the wire protocol outside the engine's poll loop: zcsign-cli and the
 * process-level tests. Not for a hot path: it polls and may block up to the
 * timeout given.
 */
#ifndef ZCS_WIRE_IO_H
#define ZCS_WIRE_IO_H

#include <stddef.h>

#include <zcsign/wire.h>

/*
 * Send all of buf, retrying on EINTR. MSG_NOSIGNAL: a peer that closed is
 * -EPIPE, not SIGPIPE. Returns 0 or -errno.
 */
int zcs_wire_send_all(int fd, const void *buf, size_t len);

/*
 * Read exactly one frame within timeout_ms and decode it into f: the header
 * first, then the rest of the size its type fixes, so nothing of a later frame
 * is ever consumed. Returns 0, a positive wire status (malformed frame),
 * -ETIMEDOUT, -ECONNRESET (the peer closed, in order or not) or -errno.
 */
int zcs_wire_recv_frame(int fd, union zcs_wire_frame *f, unsigned int timeout_ms);

#endif /* ZCS_WIRE_IO_H */
