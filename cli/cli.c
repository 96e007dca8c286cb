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
 *
 * Without --signer, sign, pubkey and status go through a running zcsignd: the
 * CLI is a DPDK secondary process of it (engine_path.c), so it needs zcsignd's
 * --file-prefix and the rights to its hugepages. With --signer, sign and
 * pubkey speak the engine's wire protocol (HELLO with ZCS_SHARD_ANY, so no
 * shard check) over a blocking socket: for a signer no engine holds (a signer
 * serves one connection). Latency does not matter here, a clear answer does.
 * verify needs neither: it checks a signature (sign's output, passed straight
 * through) against zcsign-keygen's public manifest with libsecp256k1
 * (verify.h). top is no DPDK process at all: it reads zcsignd's telemetry
 * socket (top.c), so it takes no client slot. Output is one JSON object on
 * stdout; any failure is one line on stderr naming what failed, and the exit
 * status says whose fault it was: 2 for the command line, 1 for everything at
 * run time (engine, connection, signer, account, a signature that does not
 * verify).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <secp256k1.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "cli.h"
#include "hex.h"
#include "verify.h"
#include "wire_io.h"

#define PROG CLI_PROG
#define EXIT_RUNTIME CLI_EXIT_RUNTIME
#define EXIT_USAGE CLI_EXIT_USAGE
/* A signer answers in microseconds; seconds of silence mean it is wedged. */
#define REPLY_TIMEOUT_MS 5000
/* DPDK's own limit on a file prefix is a path component; ours keeps it a plain name. */
#define FILE_PREFIX_MAX 64

/* One connection to a signer, after its HELLO reply. */
struct cli_conn {
	int fd;
	const char *signer;
	uint16_t shard_id;
};

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
		"\n"
		"Output: one JSON object on stdout. Exit status: 0 success (verify: the\n"
		"signature is valid), 1 run-time error (no zcsignd, connection, signer,\n"
		"unknown account, a request that failed, unreadable manifest, a signature\n"
		"that does not verify), 2 bad command line.\n");
}

int
cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Strict decimal uint64: strtoull alone accepts signs, spaces and hex prefixes. */
static int
parse_account(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 20)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Exactly 2n hex digits of option opt into out[n]. */
static int
parse_hex_arg(const char *opt, const char *text, uint8_t *out, size_t n)
{
	size_t len = strlen(text);
	size_t i;

	if (len != 2 * n)
		return cli_fail(EXIT_USAGE, "%s: expected %zu hex digits, got %zu characters", opt,
			2 * n, len);
	/* Checked here, not by the decoder: the message names the character (not secret). */
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			return cli_fail(EXIT_USAGE,
				"%s: expected %zu hex digits, character %zu is not a hex digit",
				opt, 2 * n, i + 1);
	if (zcs_hex_decode(text, n, out) != 0)
		return cli_fail(EXIT_USAGE, "%s: expected %zu hex digits", opt, 2 * n);
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
	if (parse_account(s, &v) != 0 || v > 255)
		return cli_fail(EXIT_USAGE, "--recid: expected 0..3 or null, got '%s'", s);
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
		return cli_fail(EXIT_USAGE, "--file-prefix: expected 1..%d characters, got %zu",
			FILE_PREFIX_MAX, len);
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-' && p[i] != '.')
			return cli_fail(EXIT_USAGE,
				"--file-prefix: '%s': only letters, digits, '_', '-' and '.'", p);
	if (p[0] == '.' || p[0] == '-')
		return cli_fail(
			EXIT_USAGE, "--file-prefix: '%s' must not start with '%c'", p, p[0]);
	return 0;
}

static int
parse_global(int argc, char **argv, struct cli_args *a)
{
	static const struct option opts[] = {
		{"signer", required_argument, NULL, 's'},
		{"file-prefix", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	/* '+': stop at the subcommand, whose options are parsed on their own. */
	while ((c = getopt_long(argc, argv, "+:s:p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->signer = optarg;
			break;
		case 'p':
			if (parse_file_prefix(optarg) != 0)
				return EXIT_USAGE;
			a->file_prefix = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cli_fail(EXIT_USAGE, "%s needs an argument", option_text(argv, c));
		default:
			return cli_fail(EXIT_USAGE, "unknown option '%s' (see --help)",
				option_text(argv, c));
		}
	}
	if (optind >= argc)
		return cli_fail(EXIT_USAGE,
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
	else
		return cli_fail(EXIT_USAGE,
			"unknown command '%s': sign, pubkey, status, top or verify (see --help)",
			a->cmd);
	/* Two answers to "which signer": refuse rather than pick one silently. */
	if (a->signer != NULL && a->file_prefix != NULL)
		return cli_fail(EXIT_USAGE,
			"--signer and --file-prefix exclude each other: one signer, or the "
			"engine");
	if (a->cmd_id == CMD_TOP && a->signer != NULL)
		return cli_fail(EXIT_USAGE,
			"top: watches an engine, not a signer: drop --signer (and give "
			"zcsignd's --file-prefix)");
	if (a->cmd_id == CMD_STATUS && a->signer != NULL)
		return cli_fail(EXIT_USAGE,
			"status: reports an engine, not a signer: drop --signer (and give "
			"zcsignd's --file-prefix)");
	return 0;
}

/*
 * Which commands take each option (by getopt letter), so that one given to the
 * wrong command is refused by name instead of silently ignored.
 */
static unsigned int
option_cmds(int c)
{
	switch (c) {
	case 'a':
		return CMD_SIGN | CMD_PUBKEY | CMD_VERIFY;
	case 'x':
	case 'g':
		return CMD_SIGN | CMD_VERIFY;
	default: /* --manifest, --signature, --recid */
		return CMD_VERIFY;
	}
}

/* What a command needs beyond its options: algorithm, hash, signature, recid. */
static int
check_command(struct cli_args *a, const char *algo, const char *recid)
{
	int rc;

	if (a->cmd_id == CMD_STATUS)
		return 0;
	if (!a->have_account)
		return cli_fail(EXIT_USAGE, "%s: --account is required", a->cmd);
	if (a->cmd_id == CMD_PUBKEY)
		return 0;
	if (a->hash_hex == NULL)
		return cli_fail(EXIT_USAGE, "%s: --hash is required", a->cmd);
	if (a->cmd_id == CMD_VERIFY && (a->manifest == NULL || a->sig_hex == NULL || algo == NULL))
		return cli_fail(EXIT_USAGE, "verify: %s is required",
			a->manifest == NULL	     ? "--manifest"
				: a->sig_hex == NULL ? "--signature"
						     : "--algo");
	a->algo = ZCS_ALGO_ECDSA;
	if (algo != NULL) {
		a->algo = zcs_algo_parse(algo);
		if (a->algo == 0)
			return cli_fail(EXIT_USAGE,
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
			EXIT_USAGE, "verify: --recid 0..3 is required for ecdsa-recoverable");
	return rc;
}

/* Long name of the option getopt returned as c (the argument is in argv[optind - 1]). */
static const char *
option_name(const struct option *opts, int c)
{
	for (; opts->name != NULL; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
}

static int
parse_command(int argc, char **argv, struct cli_args *a)
{
	static const struct option opts[] = {
		{"account", required_argument, NULL, 'a'},
		{"hash", required_argument, NULL, 'x'},
		{"algo", required_argument, NULL, 'g'},
		{"manifest", required_argument, NULL, 'm'},
		{"signature", required_argument, NULL, 'S'},
		{"recid", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *algo = NULL, *recid = NULL;
	int c;

	optind = 0; /* glibc: restart scanning, argv[0] is the command name */
	while ((c = getopt_long(argc, argv, ":a:x:g:m:S:r:h", opts, NULL)) != -1) {
		if (c != 'h' && c != ':' && c != '?' && !(option_cmds(c) & a->cmd_id))
			return cli_fail(EXIT_USAGE,
				"%s: --%s does not apply to this command (see --help)", a->cmd,
				option_name(opts, c));
		switch (c) {
		case 'a':
			if (parse_account(optarg, &a->account) != 0)
				return cli_fail(EXIT_USAGE,
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
			return cli_fail(EXIT_USAGE, "%s: %s needs an argument", a->cmd,
				option_text(argv, c));
		default:
			return cli_fail(EXIT_USAGE, "%s: unknown option '%s' (see --help)", a->cmd,
				option_text(argv, c));
		}
	}
	if (optind < argc)
		return cli_fail(EXIT_USAGE, "%s: unexpected argument '%s'", a->cmd, argv[optind]);
	return check_command(a, algo, recid);
}

static int
send_frame(struct cli_conn *c, const void *frame, size_t len)
{
	int rc = zcs_wire_send_all(c->fd, frame, len);

	/*
	 * A signer that refuses (BUSY) may close before reading our frame: its
	 * ERROR is still queued for us, and await_reply() reads it, or reports the
	 * close. The reason beats "Broken pipe".
	 */
	if (rc == -EPIPE || rc == -ECONNRESET)
		return 0;
	if (rc != 0)
		return cli_fail(EXIT_RUNTIME, "signer at %s: send: %s", c->signer, strerror(-rc));
	return 0;
}

/*
 * Wait for the reply of type want to the request seq (HELLO has none: seq is
 * then ignored). Any other outcome is reported here, naming the signer.
 */
static int
await_reply(struct cli_conn *c, unsigned int want, uint64_t seq, const char *what,
	union zcs_wire_frame *f)
{
	int rc = zcs_wire_recv_frame(c->fd, f, REPLY_TIMEOUT_MS);
	uint64_t got;

	if (rc == -ETIMEDOUT)
		return cli_fail(EXIT_RUNTIME, "signer at %s: no reply to %s within %d ms",
			c->signer, what, REPLY_TIMEOUT_MS);
	if (rc == -ECONNRESET)
		return cli_fail(EXIT_RUNTIME,
			"signer at %s closed the connection before replying to %s", c->signer,
			what);
	if (rc < 0)
		return cli_fail(
			EXIT_RUNTIME, "signer at %s: receive: %s", c->signer, strerror(-rc));
	if (rc > 0)
		return cli_fail(EXIT_RUNTIME, "signer at %s: malformed reply to %s: %s (%s)",
			c->signer, what, zcs_strerror(rc), zcs_status_name(rc));
	if (f->hdr.type == ZCS_FT_ERROR && f->error.status == ZCS_ERR_BUSY)
		return cli_fail(EXIT_RUNTIME,
			"signer at %s is busy: it already serves a connection (is zcsignd "
			"attached?)",
			c->signer);
	if (f->hdr.type == ZCS_FT_ERROR)
		return cli_fail(EXIT_RUNTIME, "signer at %s refused %s: %s (%s)", c->signer, what,
			zcs_strerror(f->error.status), zcs_status_name(f->error.status));
	if (f->hdr.type != want)
		return cli_fail(EXIT_RUNTIME, "signer at %s: frame type %u in reply to %s",
			c->signer, f->hdr.type, what);
	/* HELLO_REPLY carries no seq: it matches by being the only reply. */
	got = want == ZCS_FT_SIGN_REPLY	      ? f->sign_reply.seq
		: want == ZCS_FT_PUBKEY_REPLY ? f->pubkey_reply.seq
					      : seq;
	if (got != seq)
		return cli_fail(EXIT_RUNTIME,
			"signer at %s: reply to %s carries seq %" PRIu64 ", expected %" PRIu64,
			c->signer, what, got, seq);
	return 0;
}

static int
open_conn(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_hello hello;
	union zcs_wire_frame f;
	struct zcs_addr addr;
	char err[256];
	int rc;

	c->fd = -1;
	c->signer = a->signer;
	if (zcs_addr_parse(a->signer, false, &addr, err, sizeof(err)) != 0)
		return cli_fail(EXIT_USAGE, "--signer: %s", err);
	c->fd = zcs_addr_connect(&addr, false, err, sizeof(err));
	if (c->fd < 0)
		return cli_fail(EXIT_RUNTIME, "%s", err);
	zcs_wire_hello(&hello, ZCS_SHARD_ANY, 0);
	rc = send_frame(c, &hello, sizeof(hello));
	if (rc == 0)
		rc = await_reply(c, ZCS_FT_HELLO_REPLY, 0, "HELLO", &f);
	if (rc != 0)
		return rc;
	c->shard_id = f.hello_reply.shard_id;
	return 0;
}

int
cli_request_status(const struct cli_args *a, unsigned int status)
{
	if (status == ZCS_OK)
		return 0;
	return cli_fail(EXIT_RUNTIME, "account %" PRIu64 ": %s (%s)", a->account,
		zcs_strerror((int)status), zcs_status_name((int)status));
}

/* PUBKEY on an open connection; latency_ns may be NULL. */
static int
get_pubkey(struct cli_conn *c, const struct cli_args *a, uint64_t seq,
	struct zcs_wire_pubkey_reply *out, uint64_t *latency_ns)
{
	struct zcs_wire_pubkey req;
	union zcs_wire_frame f;
	uint64_t t0;
	int rc;

	zcs_wire_pubkey(&req, seq, a->account);
	t0 = now_ns();
	rc = send_frame(c, &req, sizeof(req));
	if (rc == 0)
		rc = await_reply(c, ZCS_FT_PUBKEY_REPLY, seq, "PUBKEY", &f);
	if (latency_ns != NULL)
		*latency_ns = now_ns() - t0;
	if (rc == 0)
		rc = cli_request_status(a, f.pubkey_reply.status);
	if (rc == 0)
		*out = f.pubkey_reply;
	return rc;
}

int
cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(EXIT_RUNTIME, "stdout: %s", strerror(errno));
	return 0;
}

int
cli_print_sign(const struct cli_args *a, const uint8_t sig[64], unsigned int recid,
	const uint8_t pubkey[33], unsigned int shard, uint64_t service_ns, uint64_t latency_ns)
{
	char sig_hex[129], pub[67], hash[65];

	zcs_hex_encode(a->hash, 32, hash);
	zcs_hex_encode(sig, 64, sig_hex);
	/* BIP-340 verifies against the x-only key: the compressed key without its parity byte. */
	if (a->algo == ZCS_ALGO_SCHNORR)
		zcs_hex_encode(pubkey + 1, 32, pub);
	else
		zcs_hex_encode(pubkey, 33, pub);
	printf("{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"hash\":\"%s\",\"signature\":\"%s\",",
		a->account, zcs_algo_name(a->algo), hash, sig_hex);
	/* Only recoverable ECDSA has a recovery id; a 0 elsewhere would look like one. */
	if (a->algo == ZCS_ALGO_ECDSA_RECOVERABLE)
		printf("\"recid\":%u,", recid);
	else
		printf("\"recid\":null,");
	printf("\"pubkey\":\"%s\",\"shard\":%u,\"service_ns\":%" PRIu64 ",\"latency_ns\":%" PRIu64
	       "}\n",
		pub, shard, service_ns, latency_ns);
	return cli_flush_stdout();
}

int
cli_print_pubkey(const struct cli_args *a, const uint8_t pubkey[33], const uint8_t xonly[32],
	unsigned int shard, uint64_t latency_ns)
{
	char pub[67], x[65];

	zcs_hex_encode(pubkey, 33, pub);
	zcs_hex_encode(xonly, 32, x);
	printf("{\"account\":%" PRIu64 ",\"pubkey\":\"%s\",\"xonly\":\"%s\",\"shard\":%u,"
	       "\"latency_ns\":%" PRIu64 "}\n",
		a->account, pub, x, shard, latency_ns);
	return cli_flush_stdout();
}

static int
cmd_sign(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_pubkey_reply pk;
	struct zcs_wire_sign req;
	union zcs_wire_frame f;
	uint64_t t0, latency;
	int rc;

	zcs_wire_sign(&req, 1, a->account, (uint8_t)a->algo, a->hash);
	/* Measured around send -> reply only: the number a client of the signer sees. */
	t0 = now_ns();
	rc = send_frame(c, &req, sizeof(req));
	if (rc == 0)
		rc = await_reply(c, ZCS_FT_SIGN_REPLY, 1, "SIGN", &f);
	latency = now_ns() - t0;
	if (rc == 0)
		rc = cli_request_status(a, f.sign_reply.status);
	/* The key that verifies this signature, so the output is self-contained. */
	if (rc == 0)
		rc = get_pubkey(c, a, 2, &pk, NULL);
	if (rc != 0)
		return rc;
	return cli_print_sign(a, f.sign_reply.sig, f.sign_reply.recid, pk.compressed, c->shard_id,
		f.sign_reply.service_ns, latency);
}

static int
cmd_pubkey(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_pubkey_reply pk;
	uint64_t latency;
	int rc;

	rc = get_pubkey(c, a, 1, &pk, &latency);
	if (rc != 0)
		return rc;
	return cli_print_pubkey(a, pk.compressed, pk.xonly, c->shard_id, latency);
}

/* A signature against the manifest: exit 0 valid, 1 invalid or unknown account. */
static int
cmd_verify(const struct cli_args *a)
{
	const struct zcs_manifest_account *acct;
	struct zcs_manifest m;
	secp256k1_context *ctx;
	char err[512];
	int rc;

	rc = zcs_manifest_load(&m, err, sizeof(err), a->manifest);
	if (rc != 0)
		return cli_fail(EXIT_RUNTIME, "%s", err);
	acct = zcs_manifest_find(&m, a->account);
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (acct == NULL)
		rc = cli_fail(
			EXIT_RUNTIME, "account %" PRIu64 ": not in %s", a->account, a->manifest);
	else if (ctx == NULL)
		rc = cli_fail(EXIT_RUNTIME, "cannot create a libsecp256k1 context");
	else
		rc = zcs_verify(ctx, a->algo, a->hash, a->sig, a->recid, acct);
	if (rc < 0)
		rc = cli_fail(EXIT_RUNTIME, "account %" PRIu64 ": signature does not verify (%s)",
			a->account, zcs_verify_strerror(rc));
	if (rc == 0) {
		printf("{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"valid\":true}\n", a->account,
			zcs_algo_name(a->algo));
		rc = cli_flush_stdout();
	}
	secp256k1_context_destroy(ctx);
	zcs_manifest_free(&m);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct cli_conn c;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_global(argc, argv, &a);
	/* top has options of its own, and needs neither EAL nor signer (top.c). */
	if (rc == 0 && a.cmd_id == CMD_TOP)
		return cli_top_main(&a, argc - optind, argv + optind);
	if (rc == 0)
		rc = parse_command(argc - optind, argv + optind, &a);
	if (rc < 0)
		return 0; /* --help */
	if (rc != 0)
		return rc;
	if (a.cmd_id == CMD_VERIFY)
		return cmd_verify(&a);
	if (a.signer == NULL)
		return cli_engine_run(&a);

	rc = open_conn(&c, &a);
	if (rc == 0)
		rc = a.cmd_id == CMD_SIGN ? cmd_sign(&c, &a) : cmd_pubkey(&c, &a);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}
