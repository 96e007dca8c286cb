/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli's private interface between its command line (cli.c: parsing,
 * the --signer path, verify, the JSON printers) and its engine path
 * (engine_path.c: a DPDK secondary process of zcsignd). Both paths print the
 * same JSON through the printers here, so a script reads one format whatever
 * the path, and `zcsign-cli verify` accepts either's sign output.
 */
#ifndef ZCS_CLI_H
#define ZCS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define CLI_PROG "zcsign-cli"
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

enum cli_cmd {
	CMD_SIGN = 1,
	CMD_PUBKEY = 2,
	CMD_VERIFY = 4,
	CMD_STATUS = 8,
	CMD_TOP = 16,
};

/* What the command line asked for. */
struct cli_args {
	const char *signer; /* address text as given: every message names it */
	const char *file_prefix; /* zcsignd's EAL --file-prefix; NULL: DPDK's default */
	bool verbose; /* engine path: zcsign debug log lines on stderr */
	const char *cmd;
	enum cli_cmd cmd_id;
	uint64_t account;
	bool have_account;
	unsigned int algo;
	const char *hash_hex;
	uint8_t hash[32];
	const char *manifest; /* verify */
	const char *sig_hex;
	uint8_t sig[64];
	unsigned int recid; /* 0 for "none", as in SIGN_REPLY */
	bool have_recid; /* a number was given (not "null") */
};

/* One line "zcsign-cli: <message>" on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A non-OK request status as one line naming the account; 0 for ZCS_OK. */
int cli_request_status(const struct cli_args *a, unsigned int status);

/*
 * sign's JSON. pubkey is the account's 33-byte compressed key (its bytes
 * 1..32 are the x-only key a Schnorr signature verifies against).
 */
int cli_print_sign(const struct cli_args *a, const uint8_t sig[64], unsigned int recid,
	const uint8_t pubkey[33], unsigned int shard, uint64_t service_ns, uint64_t latency_ns);

/* pubkey's JSON. */
int cli_print_pubkey(const struct cli_args *a, const uint8_t pubkey[33], const uint8_t xonly[32],
	unsigned int shard, uint64_t latency_ns);

/* fflush(stdout), reporting a write error (a closed pipe, a full disk) as exit 1. */
int cli_flush_stdout(void);

/*
 * Run sign, pubkey or status as a DPDK secondary process of zcsignd
 * (engine_path.c). Returns the exit status.
 */
int cli_engine_run(const struct cli_args *a);

/*
 * top (top.c): parse top's own options from argv (argv[0] is "top") and run
 * it against the telemetry socket of zcsignd's a->file_prefix; no EAL.
 * Returns the exit status.
 */
int cli_top_main(const struct cli_args *a, int argc, char **argv);

#endif /* ZCS_CLI_H */
