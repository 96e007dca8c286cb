/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli: one request to one signer, for operators and scripts.
 *
 *   zcsign-cli --signer ADDR sign --account A --hash HEX [--algo ALGO]
 *   zcsign-cli --signer ADDR pubkey --account A
 *
 * It speaks the engine's wire protocol (HELLO with ZCS_SHARD_ANY, so no shard
 * check) over a blocking socket: latency does not matter here, a clear answer
 * does. Output is one JSON object on stdout; any failure is one line on stderr
 * naming what failed, and the exit status says whose fault it was: 2 for the
 * command line, 1 for everything at run time (connection, signer, account).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "hex.h"

#define PROG "zcsign-cli"
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
/* A signer answers in microseconds; seconds of silence mean it is wedged. */
#define REPLY_TIMEOUT_MS 5000

/* What the command line asked for. */
struct cli_args {
	const char *signer; /* address text as given: every message names it */
	const char *cmd;
	uint64_t account;
	bool have_account;
	unsigned int algo;
	const char *hash_hex;
	uint8_t hash[32];
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
		"Usage: " PROG " --signer ADDR COMMAND [OPTIONS]\n"
		"\n"
		"Global options:\n"
		"  -s, --signer ADDR   signer endpoint: unix:PATH or vsock:CID:PORT\n"
		"  -h, --help          this text\n"
		"\n"
		"Commands:\n"
		"  sign --account A --hash HEX [--algo ALGO]\n"
		"      sign a 32-byte hash (64 hex digits) with account A's key;\n"
		"      ALGO is ecdsa (default), ecdsa-recoverable or schnorr\n"
		"  pubkey --account A\n"
		"      print account A's compressed and x-only public keys\n"
		"\n"
		"Output: one JSON object on stdout. Exit status: 0 success, 1 run-time\n"
		"error (connection, signer, unknown account), 2 bad command line.\n");
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

static int
parse_hash(struct cli_args *a)
{
	size_t len = strlen(a->hash_hex);
	size_t i;

	if (len != 64)
		return fail(EXIT_USAGE, "--hash: expected 64 hex digits, got %zu characters", len);
	/* Checked here, not by the decoder: the message names the character (not secret). */
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)a->hash_hex[i]))
			return fail(EXIT_USAGE,
				"--hash: expected 64 hex digits, character %zu is not a hex digit",
				i + 1);
	if (zcs_hex_decode(a->hash_hex, 32, a->hash) != 0)
		return fail(EXIT_USAGE, "--hash: expected 64 hex digits");
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
		return fail(EXIT_USAGE, "no command given: sign or pubkey (see --help)");
	a->cmd = argv[optind];
	if (strcmp(a->cmd, "sign") != 0 && strcmp(a->cmd, "pubkey") != 0)
		return fail(
			EXIT_USAGE, "unknown command '%s': sign or pubkey (see --help)", a->cmd);
	return 0;
}

static int
parse_command(int argc, char **argv, struct cli_args *a)
{
	static const struct option opts[] = {
		{"account", required_argument, NULL, 'a'},
		{"hash", required_argument, NULL, 'x'},
		{"algo", required_argument, NULL, 'g'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool sign = strcmp(a->cmd, "sign") == 0;
	const char *algo = NULL;
	int c;

	optind = 0; /* glibc: restart scanning, argv[0] is the command name */
	while ((c = getopt_long(argc, argv, ":a:x:g:h", opts, NULL)) != -1) {
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
	if (!a->have_account)
		return fail(EXIT_USAGE, "%s: --account is required", a->cmd);
	if (!sign) {
		if (a->hash_hex != NULL || algo != NULL)
			return fail(EXIT_USAGE, "pubkey: --hash and --algo apply to sign only");
		return 0;
	}
	if (a->hash_hex == NULL)
		return fail(EXIT_USAGE, "sign: --hash is required");
	a->algo = ZCS_ALGO_ECDSA;
	if (algo != NULL) {
		a->algo = zcs_algo_parse(algo);
		if (a->algo == 0)
			return fail(EXIT_USAGE,
				"--algo: unknown algorithm '%s' (ecdsa, ecdsa-recoverable, "
				"schnorr)",
				algo);
	}
	return parse_hash(a);
}

static int
send_frame(struct cli_conn *c, const void *frame, size_t len)
{
	const uint8_t *p = frame;

	while (len > 0) {
		/* MSG_NOSIGNAL: a signer that hung up is an error message, not SIGPIPE. */
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/*
		 * A signer that refuses (BUSY) may close before reading our frame: its
		 * ERROR is still queued for us, and await_reply() reads it, or reports
		 * the close. The reason beats "Broken pipe".
		 */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return 0;
		if (n < 0)
			return fail(
				EXIT_RUNTIME, "signer at %s: send: %s", c->signer, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read exactly one frame: the header first, then the rest of the size its type
 * fixes, so nothing of a later frame is ever consumed. Returns 0, a wire status
 * (malformed reply), -ETIMEDOUT, -ECONNRESET (closed by the signer) or -errno.
 */
static int
recv_frame(int fd, union zcs_wire_frame *f, uint64_t deadline)
{
	uint8_t buf[ZCS_WIRE_MAX_FRAME];
	size_t have = 0, need = sizeof(struct zcs_wire_hdr), used;
	int rc;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = now_ns();
		ssize_t n;

		rc = zcs_wire_decode(buf, have, f, &used);
		if (rc != ZCS_WIRE_NEED_MORE)
			return rc;
		if (have >= sizeof(struct zcs_wire_hdr))
			need = zcs_wire_frame_size(buf[offsetof(struct zcs_wire_hdr, type)]);
		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)((deadline - now + 999999) / 1000000));
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc <= 0)
			continue;
		n = recv(fd, buf + have, need - have, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		if (n > 0)
			have += (size_t)n;
	}
}

/*
 * Wait for the reply of type want to the request seq (HELLO has none: seq is
 * then ignored). Any other outcome is reported here, naming the signer.
 */
static int
await_reply(struct cli_conn *c, unsigned int want, uint64_t seq, const char *what,
	union zcs_wire_frame *f)
{
	int rc = recv_frame(c->fd, f, now_ns() + (uint64_t)REPLY_TIMEOUT_MS * 1000000u);

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
	if (want == ZCS_FT_SIGN_REPLY && f->sign_reply.seq != seq)
		return fail(EXIT_RUNTIME,
			"signer at %s: reply to %s carries seq %" PRIu64 ", expected %" PRIu64,
			c->signer, what, f->sign_reply.seq, seq);
	if (want == ZCS_FT_PUBKEY_REPLY && f->pubkey_reply.seq != seq)
		return fail(EXIT_RUNTIME,
			"signer at %s: reply to %s carries seq %" PRIu64 ", expected %" PRIu64,
			c->signer, what, f->pubkey_reply.seq, seq);
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
	if (a.signer == NULL)
		return fail(EXIT_USAGE, "--signer is required (unix:PATH or vsock:CID:PORT)");

	rc = open_conn(&c, &a);
	if (rc == 0)
		rc = strcmp(a.cmd, "sign") == 0 ? cmd_sign(&c, &a) : cmd_pubkey(&c, &a);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}
