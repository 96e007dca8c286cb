/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli: one request to one signer, or one signature checked, for
 * operators and scripts.
 *
 *   zcsign-cli --signer ADDR sign --account A --hash HEX [--algo ALGO]
 *   zcsign-cli --signer ADDR pubkey --account A
 *   zcsign-cli verify --manifest FILE --account A --hash HEX --signature HEX
 *       --algo ALGO [--recid N|null]
 *
 * sign and pubkey speak the engine's wire protocol (HELLO with ZCS_SHARD_ANY,
 * so no shard check) over a blocking socket: latency does not matter here, a
 * clear answer does. verify needs no signer: it checks a signature (sign's
 * output, passed straight through) against zcsign-keygen's public manifest
 * with libsecp256k1 (verify.h). Output is one JSON object on stdout; any
 * failure is one line on stderr naming what failed, and the exit status says
 * whose fault it was: 2 for the command line, 1 for everything at run time
 * (connection, signer, account, a signature that does not verify).
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
#include "hex.h"
#include "verify.h"
#include "wire_io.h"

#define PROG "zcsign-cli"
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
/* A signer answers in microseconds; seconds of silence mean it is wedged. */
#define REPLY_TIMEOUT_MS 5000

enum cli_cmd {
	CMD_SIGN = 1,
	CMD_PUBKEY = 2,
	CMD_VERIFY = 4,
};

/* What the command line asked for. */
struct cli_args {
	const char *signer; /* address text as given: every message names it */
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
		"Usage: " PROG " [--signer ADDR] COMMAND [OPTIONS]\n"
		"\n"
		"Global options:\n"
		"  -s, --signer ADDR   signer endpoint: unix:PATH or vsock:CID:PORT\n"
		"                      (required by sign and pubkey, not used by verify)\n"
		"  -h, --help          this text\n"
		"\n"
		"Commands:\n"
		"  sign --account A --hash HEX [--algo ALGO]\n"
		"      sign a 32-byte hash (64 hex digits) with account A's key;\n"
		"      ALGO is ecdsa (default), ecdsa-recoverable or schnorr\n"
		"  pubkey --account A\n"
		"      print account A's compressed and x-only public keys\n"
		"  verify --manifest FILE --account A --hash HEX --signature HEX --algo ALGO\n"
		"         [--recid N]\n"
		"      check a 64-byte signature (128 hex digits) against account A's key\n"
		"      in zcsign-keygen's manifest.json, without a signer; N is 0..3 for\n"
		"      ecdsa-recoverable, omitted or null otherwise (as sign prints it)\n"
		"\n"
		"Output: one JSON object on stdout. Exit status: 0 success (verify: the\n"
		"signature is valid), 1 run-time error (connection, signer, unknown\n"
		"account, unreadable manifest, a signature that does not verify), 2 bad\n"
		"command line.\n");
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
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
		return fail(EXIT_USAGE, "%s: expected %zu hex digits, got %zu characters", opt,
			2 * n, len);
	/* Checked here, not by the decoder: the message names the character (not secret). */
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			return fail(EXIT_USAGE,
				"%s: expected %zu hex digits, character %zu is not a hex digit",
				opt, 2 * n, i + 1);
	if (zcs_hex_decode(text, n, out) != 0)
		return fail(EXIT_USAGE, "%s: expected %zu hex digits", opt, 2 * n);
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
		return fail(EXIT_USAGE, "--recid: expected 0..3 or null, got '%s'", s);
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

static int
parse_global(int argc, char **argv, struct cli_args *a)
{
	static const struct option opts[] = {
		{"signer", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	/* '+': stop at the subcommand, whose options are parsed on their own. */
	while ((c = getopt_long(argc, argv, "+:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			a->signer = optarg;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return fail(EXIT_USAGE, "%s needs an argument", option_text(argv, c));
		default:
			return fail(EXIT_USAGE, "unknown option '%s' (see --help)",
				option_text(argv, c));
		}
	}
	if (optind >= argc)
		return fail(EXIT_USAGE, "no command given: sign, pubkey or verify (see --help)");
	a->cmd = argv[optind];
	if (strcmp(a->cmd, "sign") == 0)
		a->cmd_id = CMD_SIGN;
	else if (strcmp(a->cmd, "pubkey") == 0)
		a->cmd_id = CMD_PUBKEY;
	else if (strcmp(a->cmd, "verify") == 0)
		a->cmd_id = CMD_VERIFY;
	else
		return fail(EXIT_USAGE, "unknown command '%s': sign, pubkey or verify (see --help)",
			a->cmd);
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

	if (!a->have_account)
		return fail(EXIT_USAGE, "%s: --account is required", a->cmd);
	if (a->cmd_id == CMD_PUBKEY)
		return 0;
	if (a->hash_hex == NULL)
		return fail(EXIT_USAGE, "%s: --hash is required", a->cmd);
	if (a->cmd_id == CMD_VERIFY && (a->manifest == NULL || a->sig_hex == NULL || algo == NULL))
		return fail(EXIT_USAGE, "verify: %s is required",
			a->manifest == NULL	     ? "--manifest"
				: a->sig_hex == NULL ? "--signature"
						     : "--algo");
	a->algo = ZCS_ALGO_ECDSA;
	if (algo != NULL) {
		a->algo = zcs_algo_parse(algo);
		if (a->algo == 0)
			return fail(EXIT_USAGE,
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
		return fail(EXIT_USAGE, "verify: --recid 0..3 is required for ecdsa-recoverable");
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
			return fail(EXIT_USAGE,
				"%s: --%s does not apply to this command (see --help)", a->cmd,
				option_name(opts, c));
		switch (c) {
		case 'a':
			if (parse_account(optarg, &a->account) != 0)
				return fail(EXIT_USAGE,
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
			return fail(EXIT_USAGE, "%s: %s needs an argument", a->cmd,
				option_text(argv, c));
		default:
			return fail(EXIT_USAGE, "%s: unknown option '%s' (see --help)", a->cmd,
				option_text(argv, c));
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE, "%s: unexpected argument '%s'", a->cmd, argv[optind]);
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
		return fail(EXIT_RUNTIME, "signer at %s: send: %s", c->signer, strerror(-rc));
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
		return fail(EXIT_RUNTIME, "signer at %s: no reply to %s within %d ms", c->signer,
			what, REPLY_TIMEOUT_MS);
	if (rc == -ECONNRESET)
		return fail(EXIT_RUNTIME,
			"signer at %s closed the connection before replying to %s", c->signer,
			what);
	if (rc < 0)
		return fail(EXIT_RUNTIME, "signer at %s: receive: %s", c->signer, strerror(-rc));
	if (rc > 0)
		return fail(EXIT_RUNTIME, "signer at %s: malformed reply to %s: %s (%s)", c->signer,
			what, zcs_strerror(rc), zcs_status_name(rc));
	if (f->hdr.type == ZCS_FT_ERROR && f->error.status == ZCS_ERR_BUSY)
		return fail(EXIT_RUNTIME,
			"signer at %s is busy: it already serves a connection (is zcsignd "
			"attached?)",
			c->signer);
	if (f->hdr.type == ZCS_FT_ERROR)
		return fail(EXIT_RUNTIME, "signer at %s refused %s: %s (%s)", c->signer, what,
			zcs_strerror(f->error.status), zcs_status_name(f->error.status));
	if (f->hdr.type != want)
		return fail(EXIT_RUNTIME, "signer at %s: frame type %u in reply to %s", c->signer,
			f->hdr.type, what);
	/* HELLO_REPLY carries no seq: it matches by being the only reply. */
	got = want == ZCS_FT_SIGN_REPLY	      ? f->sign_reply.seq
		: want == ZCS_FT_PUBKEY_REPLY ? f->pubkey_reply.seq
					      : seq;
	if (got != seq)
		return fail(EXIT_RUNTIME,
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
		return fail(EXIT_USAGE, "--signer: %s", err);
	c->fd = zcs_addr_connect(&addr, false, err, sizeof(err));
	if (c->fd < 0)
		return fail(EXIT_RUNTIME, "%s", err);
	zcs_wire_hello(&hello, ZCS_SHARD_ANY, 0);
	rc = send_frame(c, &hello, sizeof(hello));
	if (rc == 0)
		rc = await_reply(c, ZCS_FT_HELLO_REPLY, 0, "HELLO", &f);
	if (rc != 0)
		return rc;
	c->shard_id = f.hello_reply.shard_id;
	return 0;
}

static int
request_status(const struct cli_args *a, unsigned int status)
{
	if (status == ZCS_OK)
		return 0;
	return fail(EXIT_RUNTIME, "account %" PRIu64 ": %s (%s)", a->account,
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
		rc = request_status(a, f.pubkey_reply.status);
	if (rc == 0)
		*out = f.pubkey_reply;
	return rc;
}

static int
flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail(EXIT_RUNTIME, "stdout: %s", strerror(errno));
	return 0;
}

static int
cmd_sign(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_pubkey_reply pk;
	struct zcs_wire_sign req;
	union zcs_wire_frame f;
	uint64_t t0, latency;
	char sig[129], pub[67], hash[65];
	int rc;

	zcs_wire_sign(&req, 1, a->account, (uint8_t)a->algo, a->hash);
	/* Measured around send -> reply only: the number a client of the signer sees. */
	t0 = now_ns();
	rc = send_frame(c, &req, sizeof(req));
	if (rc == 0)
		rc = await_reply(c, ZCS_FT_SIGN_REPLY, 1, "SIGN", &f);
	latency = now_ns() - t0;
	if (rc == 0)
		rc = request_status(a, f.sign_reply.status);
	/* The key that verifies this signature, so the output is self-contained. */
	if (rc == 0)
		rc = get_pubkey(c, a, 2, &pk, NULL);
	if (rc != 0)
		return rc;

	zcs_hex_encode(a->hash, 32, hash);
	zcs_hex_encode(f.sign_reply.sig, 64, sig);
	if (a->algo == ZCS_ALGO_SCHNORR)
		zcs_hex_encode(pk.xonly, 32, pub);
	else
		zcs_hex_encode(pk.compressed, 33, pub);
	printf("{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"hash\":\"%s\",\"signature\":\"%s\",",
		a->account, zcs_algo_name(a->algo), hash, sig);
	/* Only recoverable ECDSA has a recovery id; a 0 elsewhere would look like one. */
	if (a->algo == ZCS_ALGO_ECDSA_RECOVERABLE)
		printf("\"recid\":%u,", f.sign_reply.recid);
	else
		printf("\"recid\":null,");
	printf("\"pubkey\":\"%s\",\"shard\":%u,\"service_ns\":%" PRIu64 ",\"latency_ns\":%" PRIu64
	       "}\n",
		pub, c->shard_id, f.sign_reply.service_ns, latency);
	return flush_stdout();
}

static int
cmd_pubkey(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_pubkey_reply pk;
	char pub[67], xonly[65];
	uint64_t latency;
	int rc;

	rc = get_pubkey(c, a, 1, &pk, &latency);
	if (rc != 0)
		return rc;
	zcs_hex_encode(pk.compressed, 33, pub);
	zcs_hex_encode(pk.xonly, 32, xonly);
	printf("{\"account\":%" PRIu64 ",\"pubkey\":\"%s\",\"xonly\":\"%s\",\"shard\":%u,"
	       "\"latency_ns\":%" PRIu64 "}\n",
		a->account, pub, xonly, c->shard_id, latency);
	return flush_stdout();
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
		return fail(EXIT_RUNTIME, "%s", err);
	acct = zcs_manifest_find(&m, a->account);
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (acct == NULL)
		rc = fail(EXIT_RUNTIME, "account %" PRIu64 ": not in %s", a->account, a->manifest);
	else if (ctx == NULL)
		rc = fail(EXIT_RUNTIME, "cannot create a libsecp256k1 context");
	else
		rc = zcs_verify(ctx, a->algo, a->hash, a->sig, a->recid, acct);
	if (rc < 0)
		rc = fail(EXIT_RUNTIME, "account %" PRIu64 ": signature does not verify (%s)",
			a->account, zcs_verify_strerror(rc));
	if (rc == 0) {
		printf("{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"valid\":true}\n", a->account,
			zcs_algo_name(a->algo));
		rc = flush_stdout();
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
	if (rc == 0)
		rc = parse_command(argc - optind, argv + optind, &a);
	if (rc < 0)
		return 0; /* --help */
	if (rc != 0)
		return rc;
	if (a.cmd_id == CMD_VERIFY)
		return cmd_verify(&a);
	if (a.signer == NULL)
		return fail(EXIT_USAGE, "--signer is required (unix:PATH or vsock:CID:PORT)");

	rc = open_conn(&c, &a);
	if (rc == 0)
		rc = a.cmd_id == CMD_SIGN ? cmd_sign(&c, &a) : cmd_pubkey(&c, &a);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}
