/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the wire decoder (common/wire.c) as both ends use it, on
 * a received stream: decode frame after frame until it needs more bytes or
 * the stream loses its frame boundary. Every call must consume what the frame
 * type says, never more than it was given, and a fatal status must end the
 * stream. Seeds: fuzz/corpus/wire (valid frames of every type).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union zcs_wire_frame f;
	size_t off = 0, used;
	int st;

	while (off < size) {
		used = 0;
		st = zcs_wire_decode(data + off, size - off, &f, &used);
		if (st == ZCS_WIRE_NEED_MORE || zcs_wire_status_fatal(st))
			break;
		/* A whole frame (valid, or answerable with its status) was consumed. */
		if (used == 0 || used > size - off || used != zcs_wire_frame_size(f.hdr.type))
			abort();
		off += used;
	}
	return 0;
}
