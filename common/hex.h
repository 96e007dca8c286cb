/* SPDX-License-Identifier: BSD-3-Clause */
/* Hex text <-> bytes, for key files, CLI arguments and JSON output. */
#ifndef ZCS_HEX_H
#define ZCS_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode exactly 2*n hex digits (either case) from text into out. Reads no more
 * than 2*n characters of text. Returns 0, or -1 on a non-hex character (out is
 * then partly written: wipe it if it was secret). Branch-free per digit, so a
 * secret key's digits do not steer branches.
 */
int zcs_hex_decode(const char *text, size_t n, uint8_t *out);

/* Encode n bytes as 2*n lowercase digits plus NUL into out (2*n+1 bytes). */
void zcs_hex_encode(const uint8_t *in, size_t n, char *out);

#endif /* ZCS_HEX_H */
