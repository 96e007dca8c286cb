/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli's private interface: what the command line asked for (cli.c
 * parses it into struct cli_args) and the entry point of each path cli.c
 * dispatches to. Each path prints through out.h and returns the exit status:
 * 0, CLI_EXIT_RUNTIME (engine, connection, signer, account, a signature that
 * does not verify) or CLI_EXIT_USAGE (the command line).
 */
#ifndef ZCS_CLI_H
#define ZCS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_PROG "zcsign-cli"
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

/* Bits, so that an option can name the set of commands that take it. */
enum cli_cmd {
	CMD_SIGN = 1,
	CMD_PUBKEY = 2,
	CMD_VERIFY = 4,
	CMD_STATUS = 8,
	CMD_TOP = 16,
	CMD_ATTEST = 32,
	CMD_PROVISION = 64,
};

/* What the command line asked for. */
struct cli_args {
	const char *signer; /* address text as given: every message names it */
	const char *file_prefix; /* zcsignd's EAL --file-prefix; NULL: DPDK's default */
	bool verbose; /* engine path: zcsign debug log lines on stderr */
	uint16_t shard_id, shard_count; /* --shard I/N for --signer; default 0/1 */
	bool shard_given; /* --shard was on the command line */
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

/* sign or pubkey straight to the signer at a->signer (signer_path.c). */
int cli_signer_run(const struct cli_args *a);

/* sign, pubkey or status as a DPDK secondary process of zcsignd (engine_path.c). */
int cli_engine_run(const struct cli_args *a);

/* verify against a->manifest (verify_cmd.c). */
int cli_verify_run(const struct cli_args *a);

/*
 * top (top.c): parse top's own options from argv (argv[0] is "top") and run
 * it against the telemetry socket of zcsignd's a->file_prefix; no EAL.
 */
int cli_top_main(const struct cli_args *a, int argc, char **argv);

/*
 * attest verify (attest_cmd.c): parse its options from argv (argv[0] is
 * "attest") and verify a document from a file; no EAL, no signer.
 */
int cli_attest_main(const struct cli_args *a, int argc, char **argv);

/*
 * ATTEST straight to the signer at a->signer (signer_path.c): its document
 * carrying nonce into doc (cap bytes), *len its size. 0, or the exit status
 * after one line naming what failed.
 */
int cli_signer_attest(
	const struct cli_args *a, const uint8_t nonce[32], uint8_t *doc, size_t cap, size_t *len);

/* A signer answers in microseconds; seconds of silence mean it is wedged. */
#define CLI_REPLY_TIMEOUT_MS 5000

/*
 * One connection to a signer (after its HELLO reply) or to its control
 * endpoint (signer_path.c): every outcome other than the expected reply is one
 * line naming the signer.
 */
struct cli_conn {
	int fd;
	const char *signer; /* address text, for messages */
	uint16_t shard_id;
	unsigned int timeout_ms; /* per reply; 0: CLI_REPLY_TIMEOUT_MS */
};

union zcs_wire_frame;

/* Send a frame; 0 or the exit status after a message. */
int cli_conn_send(struct cli_conn *c, const void *frame, size_t len);

/* The reply of type want to request seq into f; 0 or the exit status after a message. */
int cli_conn_await(struct cli_conn *c, unsigned int want, uint64_t seq, const char *what,
	union zcs_wire_frame *f);

/*
 * Send req (ATTEST or PROVISION, seq 1) and reassemble the document of its
 * ATTEST_REPLY chunks into doc (cap bytes), *len its size. 0 or the exit status.
 */
int cli_conn_document(struct cli_conn *c, const void *req, size_t req_len, const char *what,
	uint8_t *doc, size_t cap, size_t *len);

/*
 * provision (provision_cmd.c): parse its options from argv (argv[0] is
 * "provision"), open the bundles, check the signer's attestation, send the
 * keys sealed to it. a->shard_* is set to the bundles' shard.
 */
int cli_provision_main(struct cli_args *a, int argc, char **argv);

struct zcs_attest_policy;

/* "N=HEX" into pol's expected PCRs (attest_cmd.c). 0, or the exit status after a message. */
int cli_attest_parse_pcr(struct zcs_attest_policy *pol, const char *arg);

/*
 * The pinned root: "aws" or NULL (AWS's fingerprint), else the certificate
 * of that PEM file (*der, OPENSSL_free it). 0, or the exit status.
 */
int cli_attest_load_root(const char *root, struct zcs_attest_policy *pol, uint8_t **der);

#endif /* ZCS_CLI_H */
