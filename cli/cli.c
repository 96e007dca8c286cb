/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli: one request through the engine or straight to one signer, an
 * engine's status, or one signature checked, for operators and scripts.
 *
 *   zcsign-cli [--file-prefix P] [--verbose] sign --account A --hash HEX [--algo ALGO]
 *   zcsign-cli [--file-prefix P] [--verbose] pubkey --account A
 *   zcsign-cli [--file-prefix P] [--verbose] status
 *   zcsign-cli [--file-prefix P] top [--interval SEC] [--once] [--json]
 *   zcsign-cli --signer ADDR sign --account A --hash HEX [--algo ALGO]
 *   zcsign-cli --signer ADDR pubkey --account A
 *   zcsign-cli verify --manifest FILE --account A --hash HEX --signature HEX
 *       --algo ALGO [--recid N|null]
 *   zcsign-cli attest verify --doc FILE [--root aws|PEMFILE] [--at UNIX_MS]
 *       [--pcr N=HEX]... [--nonce HEX] [--json]
 *   zcsign-cli --signer ADDR [--shard I/N] provision --operator-key FILE
 *       [--root aws|PEMFILE] [--pcr N=HEX]... [--control ADDR] [--json] BUNDLE...
 *
 * Without --signer, sign, pubkey and status go through a running zcsignd: the
 * CLI is a DPDK secondary process of it (engine_path.c), so it needs zcsignd's
 * --file-prefix and the rights to its hugepages. With --signer, sign and
 * pubkey go straight to a signer no engine holds (signer_path.c). verify
 * needs neither: it checks a signature (sign's output, passed straight
 * through) against zcsign-keygen's public manifest (verify_cmd.c). top is no
 * DPDK process at all: it reads zcsignd's telemetry socket (top.c), so it
 * takes no client slot. Output is one JSON object on stdout (out.c); any
 * failure is one line on stderr naming what failed, and the exit status says
 * whose fault it was: 2 for the command line, 1 for everything at run time
 * (engine, connection, signer, account, a signature that does not verify).
 *
 * This file is the command line only: global options, the command and its
 * options into struct cli_args (cli.h), then one call to the path that runs it.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "cli.h"
#include "hex.h"
#include "num.h"
#include "out.h"

#define PROG CLI_PROG
/* DPDK's own limit on a file prefix is a path component; ours keeps it a plain name. */
#define FILE_PREFIX_MAX 64
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [--file-prefix P] [--verbose] COMMAND [OPTIONS]\n"
		"       " PROG " --signer ADDR sign|pubkey [OPTIONS]\n"
		"       " PROG " verify [OPTIONS]\n"
		"\n"
		"Global options:\n"
		"  -p, --file-prefix P the running zcsignd's EAL --file-prefix (default: DPDK's\n"
		"                      default, rte); sign, pubkey and status then go through\n"
		"                      zcsignd, this process being a DPDK secondary of it\n"
		"  -s, --signer ADDR   talk straight to one signer instead: unix:PATH or\n"
		"                      vsock:CID:PORT (sign and pubkey; the signer must not be\n"
		"                      held by an engine)\n"
		"      --shard I/N     with --signer: the shard the signer holds (default 0/1);\n"
		"                      a signer refuses a HELLO for another shard\n"
		"  -v, --verbose       engine path: zcsign debug log lines on stderr\n"
		"  -h, --help          this text\n"
		"\n"
		"Commands:\n"
		"  sign --account A --hash HEX [--algo ALGO]\n"
		"      sign a 32-byte hash (64 hex digits) with account A's key;\n"
		"      ALGO is ecdsa (default), ecdsa-recoverable or schnorr\n"
		"  pubkey --account A\n"
		"      print account A's compressed and x-only public keys\n"
		"  status\n"
		"      the engine's shards (signer, state, in flight, counters) and clients\n"
		"  top [--interval SEC] [--once] [--json]\n"
		"      a live per-shard table (rate, latency percentiles, loop gaps, errors)\n"
		"      from zcsignd's DPDK telemetry socket; no EAL (see top --help)\n"
		"  verify --manifest FILE --account A --hash HEX --signature HEX --algo ALGO\n"
		"         [--recid N]\n"
		"      check a 64-byte signature (128 hex digits) against account A's key\n"
		"      in zcsign-keygen's manifest.json, without a signer; N is 0..3 for\n"
		"      ecdsa-recoverable, omitted or null otherwise (as sign prints it)\n"
		"  attest verify --doc FILE [--root aws|PEMFILE] [--at UNIX_MS] [--pcr N=HEX]...\n"
		"         [--nonce HEX] [--json]\n"
		"      verify a Nitro-format attestation document (see attest --help)\n"
		"  --signer ADDR provision --operator-key FILE [--root aws|PEMFILE]\n"
		"         [--pcr N=HEX]... BUNDLE...\n"
		"      give an attested signer the keys of zcsign-keygen's sealed bundles\n"
		"      (see provision --help)\n"
		"\n"
		"Output: one JSON object on stdout. Exit status: 0 success (verify: the\n"
		"signature is valid), 1 run-time error (no zcsignd, connection, signer,\n"
		"unknown account, a request that failed, unreadable manifest, a signature\n"
		"that does not verify), 2 bad command line.\n");
}

/* Exactly 2n hex digits of option opt into out[n]. */
static int
parse_hex_arg(const char *opt, const char *text, uint8_t *out, size_t n)
{
	size_t len = strlen(text);
	size_t i;

	if (len != 2 * n)
		return cli_fail(CLI_EXIT_USAGE, "%s: expected %zu hex digits, got %zu characters",
			opt, 2 * n, len);
	/* Checked here, not by the decoder: the message names the character (not secret). */
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			return cli_fail(CLI_EXIT_USAGE,
				"%s: expected %zu hex digits, character %zu is not a hex digit",
				opt, 2 * n, i + 1);
	if (zcs_hex_decode(text, n, out) != 0)
		return cli_fail(CLI_EXIT_USAGE, "%s: expected %zu hex digits", opt, 2 * n);
	return 0;
}

/* --recid: a decimal 0..255 (verify judges the range), or null for "none". */
static int
parse_recid(const char *s, struct cli_args *a)
{
	uint64_t v;

	if (strcmp(s, "null") == 0) {
		a->recid = 0;
		a->have_recid = false;
		return 0;
	}
	if (zcs_parse_u64(s, 255, &v) != 0)
		return cli_fail(CLI_EXIT_USAGE, "--recid: expected 0..3 or null, got '%s'", s);
	a->recid = (unsigned int)v;
	a->have_recid = true;
	return 0;
}

/* The option getopt stopped at, for the message: its argv word unless a short one. */
static const char *
option_text(char **argv, int c)
{
	static char buf[3] = {'-', 0, 0};

	if (c == '?' && optopt != 0) {
		buf[1] = (char)optopt;
		return buf;
	}
	return argv[optind - 1];
}

/* A file prefix becomes a path component under DPDK's runtime dir: keep it a plain name. */
static int
parse_file_prefix(const char *p)
{
	size_t i, len = strlen(p);

	if (len == 0 || len > FILE_PREFIX_MAX)
		return cli_fail(CLI_EXIT_USAGE, "--file-prefix: expected 1..%d characters, got %zu",
			FILE_PREFIX_MAX, len);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-' && p[i] != '.')
			return cli_fail(CLI_EXIT_USAGE,
				"--file-prefix: '%s': only letters, digits, '_', '-' and '.'", p);
	if (p[0] == '.' || p[0] == '-')
		return cli_fail(
			CLI_EXIT_USAGE, "--file-prefix: '%s' must not start with '%c'", p, p[0]);
	return 0;
}

/* --shard I/N: the shard the signer must hold, I < N <= ZCS_MAX_SHARDS. */
static int
parse_shard(const char *s, struct cli_args *a)
{
	if (zcs_parse_shard(s, &a->shard_id, &a->shard_count) != 0)
		return cli_fail(CLI_EXIT_USAGE, "--shard '%s': expected I/N with I < N <= %d", s,
			ZCS_MAX_SHARDS);
	a->shard_given = true;
	return 0;
}

static int
parse_global(int argc, char **argv, struct cli_args *a)
{
	static const struct option opts[] = {
		{"signer", required_argument, NULL, 's'},
		{"file-prefix", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"shard", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *shard = NULL;
	int c;

	opterr = 0;
	a->shard_id = 0;
	a->shard_count = 1;
	/* '+': stop at the subcommand, whose options are parsed on their own. */
	while ((c = getopt_long(argc, argv, "+:s:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->signer = optarg;
			break;
		case 'S':
			shard = optarg;
			if (parse_shard(optarg, a) != 0)
				return CLI_EXIT_USAGE;
			break;
		case 'p':
			if (parse_file_prefix(optarg) != 0)
				return CLI_EXIT_USAGE;
			a->file_prefix = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cli_fail(
				CLI_EXIT_USAGE, "%s needs an argument", option_text(argv, c));
		default:
			return cli_fail(CLI_EXIT_USAGE, "unknown option '%s' (see --help)",
				option_text(argv, c));
		}
	}
	if (optind >= argc)
		return cli_fail(CLI_EXIT_USAGE,
			"no command given: sign, pubkey, status, top or verify (see --help)");
	a->cmd = argv[optind];
	if (strcmp(a->cmd, "sign") == 0)
		a->cmd_id = CMD_SIGN;
	else if (strcmp(a->cmd, "pubkey") == 0)
		a->cmd_id = CMD_PUBKEY;
	else if (strcmp(a->cmd, "status") == 0)
		a->cmd_id = CMD_STATUS;
	else if (strcmp(a->cmd, "verify") == 0)
		a->cmd_id = CMD_VERIFY;
	else if (strcmp(a->cmd, "top") == 0)
		a->cmd_id = CMD_TOP;
	else if (strcmp(a->cmd, "attest") == 0)
		a->cmd_id = CMD_ATTEST;
	else if (strcmp(a->cmd, "provision") == 0)
		a->cmd_id = CMD_PROVISION;
	else
		return cli_fail(CLI_EXIT_USAGE,
			"unknown command '%s': sign, pubkey, status, top, verify, attest or "
			"provision (see --help)",
			a->cmd);
	/* Two answers to "which signer": refuse rather than pick one silently. */
	if (a->signer != NULL && a->file_prefix != NULL)
		return cli_fail(CLI_EXIT_USAGE,
			"--signer and --file-prefix exclude each other: one signer, or the "
			"engine");
	if (shard != NULL && a->signer == NULL)
		return cli_fail(CLI_EXIT_USAGE,
			"--shard %s: only with --signer (the engine knows its "
			"shards)",
			shard);
	if (a->cmd_id == CMD_TOP && a->signer != NULL)
		return cli_fail(CLI_EXIT_USAGE,
			"top: watches an engine, not a signer: drop --signer (and give "
			"zcsignd's --file-prefix)");
	if (a->cmd_id == CMD_STATUS && a->signer != NULL)
		return cli_fail(CLI_EXIT_USAGE,
			"status: reports an engine, not a signer: drop --signer (and give "
			"zcsignd's --file-prefix)");
	return 0;
}

/*
 * The options of sign, pubkey and verify, each with the commands that take
 * it, so that one given to another command is refused by name instead of
 * silently ignored. All take an argument; getopt's tables are built from this
 * one (cmd_getopt).
 */
static const struct cmd_option {
	const char *name;
	char letter;
	unsigned int cmds; /* enum cli_cmd bits */
} cmd_options[] = {
	{"account", 'a', CMD_SIGN | CMD_PUBKEY | CMD_VERIFY},
	{"hash", 'x', CMD_SIGN | CMD_VERIFY},
	{"algo", 'g', CMD_SIGN | CMD_VERIFY},
	{"manifest", 'm', CMD_VERIFY},
	{"signature", 'S', CMD_VERIFY},
	{"recid", 'r', CMD_VERIFY},
};

/* getopt_long's long and short tables for cmd_options[] and --help. */
static void
cmd_getopt(struct option lo[ARRAY_LEN(cmd_options) + 2], char so[2 * ARRAY_LEN(cmd_options) + 3])
{
	size_t i, k = 0;

	so[k++] = ':'; /* a missing argument is ':', not '?' */
	for (i = 0; i < ARRAY_LEN(cmd_options); i++) {
		lo[i] = (struct option){
			cmd_options[i].name, required_argument, NULL, cmd_options[i].letter};
		so[k++] = cmd_options[i].letter;
		so[k++] = ':';
	}
	lo[i] = (struct option){"help", no_argument, NULL, 'h'};
	lo[i + 1] = (struct option){NULL, 0, NULL, 0};
	so[k++] = 'h';
	so[k] = '\0';
}

/* The entry of cmd_options[] getopt returned as c; NULL for 'h', ':' and '?'. */
static const struct cmd_option *
cmd_option(int c)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(cmd_options); i++)
		if (cmd_options[i].letter == c)
			return &cmd_options[i];
	return NULL;
}

/* What a command needs beyond its options: algorithm, hash, signature, recid. */
static int
check_command(struct cli_args *a, const char *algo, const char *recid)
{
	int rc;

	if (a->cmd_id == CMD_STATUS)
		return 0;
	if (!a->have_account)
		return cli_fail(CLI_EXIT_USAGE, "%s: --account is required", a->cmd);
	if (a->cmd_id == CMD_PUBKEY)
		return 0;
	if (a->hash_hex == NULL)
		return cli_fail(CLI_EXIT_USAGE, "%s: --hash is required", a->cmd);
	if (a->cmd_id == CMD_VERIFY && (a->manifest == NULL || a->sig_hex == NULL || algo == NULL))
		return cli_fail(CLI_EXIT_USAGE, "verify: %s is required",
			a->manifest == NULL	     ? "--manifest"
				: a->sig_hex == NULL ? "--signature"
						     : "--algo");
	a->algo = ZCS_ALGO_ECDSA;
	if (algo != NULL) {
		a->algo = zcs_algo_parse(algo);
		if (a->algo == 0)
			return cli_fail(CLI_EXIT_USAGE,
				"--algo: unknown algorithm '%s' (ecdsa, ecdsa-recoverable, "
				"schnorr)",
				algo);
	}
	rc = parse_hex_arg("--hash", a->hash_hex, a->hash, sizeof(a->hash));
	if (rc != 0 || a->cmd_id != CMD_VERIFY)
		return rc;
	rc = parse_hex_arg("--signature", a->sig_hex, a->sig, sizeof(a->sig));
	if (rc == 0 && recid != NULL)
		rc = parse_recid(recid, a);
	/* Only a recoverable signature has one; "null" there is a script's mistake. */
	if (rc == 0 && a->algo == ZCS_ALGO_ECDSA_RECOVERABLE && !a->have_recid)
		return cli_fail(
			CLI_EXIT_USAGE, "verify: --recid 0..3 is required for ecdsa-recoverable");
	return rc;
}

static int
parse_command(int argc, char **argv, struct cli_args *a)
{
	struct option lo[ARRAY_LEN(cmd_options) + 2];
	char so[2 * ARRAY_LEN(cmd_options) + 3];
	const struct cmd_option *o;
	const char *algo = NULL, *recid = NULL;
	int c;

	cmd_getopt(lo, so);
	optind = 0; /* glibc: restart scanning, argv[0] is the command name */
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		o = cmd_option(c);
		if (o != NULL && !(o->cmds & a->cmd_id))
			return cli_fail(CLI_EXIT_USAGE,
				"%s: --%s does not apply to this command (see --help)", a->cmd,
				o->name);
		switch (c) {
		case 'a':
			if (zcs_parse_u64(optarg, UINT64_MAX, &a->account) != 0)
				return cli_fail(CLI_EXIT_USAGE,
					"--account: expected a decimal account id, got '%s'",
					optarg);
			a->have_account = true;
			break;
		case 'x':
			a->hash_hex = optarg;
			break;
		case 'g':
			algo = optarg;
			break;
		case 'm':
			a->manifest = optarg;
			break;
		case 'S':
			a->sig_hex = optarg;
			break;
		case 'r':
			recid = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cli_fail(CLI_EXIT_USAGE, "%s: %s needs an argument", a->cmd,
				option_text(argv, c));
		default:
			return cli_fail(CLI_EXIT_USAGE, "%s: unknown option '%s' (see --help)",
				a->cmd, option_text(argv, c));
		}
	}
	if (optind < argc)
		return cli_fail(
			CLI_EXIT_USAGE, "%s: unexpected argument '%s'", a->cmd, argv[optind]);
	return check_command(a, algo, recid);
}

int
main(int argc, char **argv)
{
	struct cli_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_global(argc, argv, &a);
	/* top has options of its own, and needs neither EAL nor signer (top.c). */
	if (rc == 0 && a.cmd_id == CMD_TOP)
		return cli_top_main(&a, argc - optind, argv + optind);
	/* attest verify reads a file: no engine, no signer (attest_cmd.c). */
	if (rc == 0 && a.cmd_id == CMD_ATTEST)
		return cli_attest_main(&a, argc - optind, argv + optind);
	/* provision talks to one signer's control endpoint (provision_cmd.c). */
	if (rc == 0 && a.cmd_id == CMD_PROVISION)
		return cli_provision_main(&a, argc - optind, argv + optind);
	if (rc == 0)
		rc = parse_command(argc - optind, argv + optind, &a);
	if (rc < 0)
		return 0; /* --help */
	if (rc != 0)
		return rc;
	if (a.cmd_id == CMD_VERIFY)
		return cli_verify_run(&a);
	if (a.signer == NULL)
		return cli_engine_run(&a);
	return cli_signer_run(&a);
}
