/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What zcsign-cli prints, whatever the path: one JSON object on stdout for a
 * result, one line "zcsign-cli: <message>" on stderr for a failure. The
 * signer path and the engine path print sign and pubkey through the same
 * printers, so a script reads one format whatever the path, and
 * `zcsign-cli verify` accepts either's sign output.
 */
#ifndef ZCS_CLI_OUT_H
#define ZCS_CLI_OUT_H

#include <stdint.h>

#include "cli.h"

/* One line "zcsign-cli: <message>" on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fflush(stdout), reporting a write error (a closed pipe, a full disk) as exit 1. */
int cli_flush_stdout(void);

/*
 * sign's JSON. pubkey is the account's 33-byte compressed key (its bytes
 * 1..32 are the x-only key a Schnorr signature verifies against). Returns
 * cli_flush_stdout()'s result.
 */
int cli_print_sign(const struct cli_args *a, const uint8_t sig[64], unsigned int recid,
	const uint8_t pubkey[33], unsigned int shard, uint64_t service_ns, uint64_t latency_ns);

/* pubkey's JSON. Returns cli_flush_stdout()'s result. */
int cli_print_pubkey(const struct cli_args *a, const uint8_t pubkey[33], const uint8_t xonly[32],
	unsigned int shard, uint64_t latency_ns);

/* verify's JSON for a valid signature. Returns cli_flush_stdout()'s result. */
int cli_print_verified(const struct cli_args *a);

#endif /* ZCS_CLI_OUT_H */
