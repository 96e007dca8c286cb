/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli top: a live per-shard table (completion rate, end-to-end
 * p50/p99/p99.9, largest loop gap, errors, the signer's presignature pool and
 * its RFC 6979 fallbacks) read from zcsignd's DPDK telemetry
 * socket, the one dpdk-telemetry.py reads.
 *
 *   zcsign-cli [--file-prefix P] top [--interval SEC] [--once] [--json]
 *
 * It speaks the socket's protocol itself (AF_UNIX SOCK_SEQPACKET: a greeting
 * on connect, then one command, one JSON reply) instead of attaching as a DPDK
 * secondary: no EAL, no hugepages, no client slot, so an operator can watch an
 * engine whose slots are all taken, and a watcher can never disturb the
 * engine's shared memory. The replies come from another process, so they are
 * parsed by a strict, bounded reader: a malformed reply is an error naming
 * the command, never a crash or a silently wrong number.
 *
 * A counter is a total since the engine started: the rate is the difference
 * of completions (signed + expired + failed) between two refreshes over the
 * time between them. The first live table has no rate yet ("-"); --once waits
 * one interval for it. The percentiles are the engine's, since its start.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <zcsign/shard.h>
#include <zcsign/telemetry.h>

#include "cli.h"

/* DPDK's default --file-prefix (what zcsignd uses when given none). */
#define TOP_DEFAULT_PREFIX "rte"
#define TOP_SOCKET_NAME "dpdk_telemetry.v2"
/* DPDK caps a reply at 16 KiB; room to spare, and MSG_TRUNC reports more. */
#define TOP_REPLY_MAX 65536
/* The telemetry thread answers in microseconds: seconds mean a wedged engine. */
#define TOP_REPLY_TIMEOUT_S 5
#define TOP_INTERVAL_MIN 0.05
#define TOP_INTERVAL_MAX 3600.0

/* ---- JSON reader ---- */

/*
 * Enough for any reply DPDK can send (16 KiB): a value takes at least one
 * byte and its separator two, so 16 Ki nodes cover a 32 KiB text.
 */
#define JSON_MAX_NODES 16384
/* DPDK nests one level inside a reply's own dict: 3 levels; 8 refuses deep junk early. */
#define JSON_MAX_DEPTH 8

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUM,
	JSON_STR,
	JSON_ARR,
	JSON_OBJ,
};

/*
 * One value, in document order: a container's first child follows it, and
 * next is the index after its whole subtree (its next sibling). An object's
 * children alternate key (a string) and value. Strings span their bytes
 * between the quotes, still escaped.
 */
struct json_node {
	enum json_type type;
	uint32_t start;
	uint32_t len;
	uint32_t next;
	uint32_t kids; /* array: elements; object: members */
};

struct json_doc {
	const char *text;
	size_t len;
	size_t pos;
	uint32_t n;
	char err[96];
	struct json_node node[JSON_MAX_NODES];
};

static int json_value(struct json_doc *d, unsigned int depth);

static int
json_fail(struct json_doc *d, const char *what)
{
	if (d->pos >= d->len)
		snprintf(d->err, sizeof(d->err), "%s at the end (byte %zu)", what, d->pos);
	else
		snprintf(d->err, sizeof(d->err), "%s at byte %zu", what, d->pos);
	return -1;
}

static void
json_ws(struct json_doc *d)
{
	while (d->pos < d->len &&
		(d->text[d->pos] == ' ' || d->text[d->pos] == '\t' || d->text[d->pos] == '\n' ||
			d->text[d->pos] == '\r'))
		d->pos++;
}

static int
json_new(struct json_doc *d, enum json_type type)
{
	struct json_node *n;

	if (d->n >= JSON_MAX_NODES)
		return json_fail(d, "too many values");
	n = &d->node[d->n];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->start = (uint32_t)d->pos;
	return (int)d->n++;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at d->pos (the opening quote): escapes checked, control characters refused. */
static int
json_string(struct json_doc *d)
{
	int i = json_new(d, JSON_STR);
	unsigned int k;

	if (i < 0)
		return -1;
	d->pos++;
	d->node[i].start = (uint32_t)d->pos;
	for (;;) {
		unsigned char c;

		if (d->pos >= d->len)
			return json_fail(d, "unterminated string");
		c = (unsigned char)d->text[d->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return json_fail(d, "control character in a string");
		if (c == '\\') {
			d->pos++;
			if (d->pos >= d->len)
				return json_fail(d, "unterminated string");
			c = (unsigned char)d->text[d->pos];
			if (c == 'u') {
				for (k = 1; k <= 4; k++)
					if (d->pos + k >= d->len || !is_hex(d->text[d->pos + k]))
						return json_fail(d, "bad \\u escape");
				d->pos += 4;
			} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0') {
				return json_fail(d, "bad escape");
			}
		}
		d->pos++;
	}
	d->node[i].len = (uint32_t)(d->pos - d->node[i].start);
	d->pos++;
	d->node[i].next = d->n;
	return i;
}

/* The JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
json_number(struct json_doc *d)
{
	const char *t = d->text;
	int i = json_new(d, JSON_NUM);
	size_t digits;

	if (i < 0)
		return -1;
	if (d->pos < d->len && t[d->pos] == '-')
		d->pos++;
	if (d->pos < d->len && t[d->pos] == '0') {
		d->pos++;
	} else {
		for (digits = 0; d->pos < d->len && t[d->pos] >= '0' && t[d->pos] <= '9'; digits++)
			d->pos++;
		if (digits == 0)
			return json_fail(d, "bad number");
	}
	if (d->pos < d->len && t[d->pos] == '.') {
		d->pos++;
		for (digits = 0; d->pos < d->len && t[d->pos] >= '0' && t[d->pos] <= '9'; digits++)
			d->pos++;
		if (digits == 0)
			return json_fail(d, "bad number");
	}
	if (d->pos < d->len && (t[d->pos] == 'e' || t[d->pos] == 'E')) {
		d->pos++;
		if (d->pos < d->len && (t[d->pos] == '+' || t[d->pos] == '-'))
			d->pos++;
		for (digits = 0; d->pos < d->len && t[d->pos] >= '0' && t[d->pos] <= '9'; digits++)
			d->pos++;
		if (digits == 0)
			return json_fail(d, "bad number");
	}
	d->node[i].len = (uint32_t)(d->pos - d->node[i].start);
	d->node[i].next = d->n;
	return i;
}

static int
json_word(struct json_doc *d, const char *word, enum json_type type)
{
	size_t len = strlen(word);
	int i;

	if (d->len - d->pos < len || memcmp(d->text + d->pos, word, len) != 0)
		return json_fail(d, "unexpected character");
	i = json_new(d, type);
	if (i < 0)
		return -1;
	d->pos += len;
	d->node[i].len = (uint32_t)len;
	d->node[i].next = d->n;
	return i;
}

/* An array or object at d->pos (its opening bracket). */
static int
json_container(struct json_doc *d, unsigned int depth)
{
	bool obj = d->text[d->pos] == '{';
	char close = obj ? '}' : ']';
	int i = json_new(d, obj ? JSON_OBJ : JSON_ARR);

	if (i < 0)
		return -1;
	if (depth >= JSON_MAX_DEPTH)
		return json_fail(d, "nested too deep");
	d->pos++;
	json_ws(d);
	if (d->pos < d->len && d->text[d->pos] == close) {
		d->pos++;
		d->node[i].next = d->n;
		return i;
	}
	for (;;) {
		json_ws(d);
		if (obj) {
			if (d->pos >= d->len || d->text[d->pos] != '"')
				return json_fail(d, "expected a key");
			if (json_string(d) < 0)
				return -1;
			json_ws(d);
			if (d->pos >= d->len || d->text[d->pos] != ':')
				return json_fail(d, "expected ':'");
			d->pos++;
		}
		if (json_value(d, depth + 1) < 0)
			return -1;
		d->node[i].kids++;
		json_ws(d);
		if (d->pos < d->len && d->text[d->pos] == ',') {
			d->pos++;
			continue;
		}
		if (d->pos < d->len && d->text[d->pos] == close)
			break;
		return json_fail(d, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	d->pos++;
	d->node[i].len = (uint32_t)(d->pos - d->node[i].start);
	d->node[i].next = d->n;
	return i;
}

static int
json_value(struct json_doc *d, unsigned int depth)
{
	json_ws(d);
	if (d->pos >= d->len)
		return json_fail(d, "expected a value");
	switch (d->text[d->pos]) {
	case '{':
	case '[':
		return json_container(d, depth);
	case '"':
		return json_string(d);
	case 't':
		return json_word(d, "true", JSON_BOOL);
	case 'f':
		return json_word(d, "false", JSON_BOOL);
	case 'n':
		return json_word(d, "null", JSON_NULL);
	default:
		if (d->text[d->pos] == '-' || (d->text[d->pos] >= '0' && d->text[d->pos] <= '9'))
			return json_number(d);
		return json_fail(d, "unexpected character");
	}
}

/* One whole JSON text (text need not be NUL-terminated). 0, or -1 with d->err. */
static int
json_parse(struct json_doc *d, const char *text, size_t len)
{
	d->text = text;
	d->len = len;
	d->pos = 0;
	d->n = 0;
	d->err[0] = '\0';
	if (len >= UINT32_MAX)
		return json_fail(d, "too long");
	if (json_value(d, 0) < 0)
		return -1;
	json_ws(d);
	if (d->pos != d->len)
		return json_fail(d, "trailing characters");
	return 0;
}

/* The value of member key of object obj, or -1 (no such member, or obj not an object). */
static int
json_find(const struct json_doc *d, int obj, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i, k;

	if (obj < 0 || d->node[obj].type != JSON_OBJ)
		return -1;
	/* Keys are compared as sent: ours have no escapes, and one with any never matches. */
	for (i = (uint32_t)obj + 1, k = 0; k < d->node[obj].kids; k++) {
		const struct json_node *key_node = &d->node[i];

		if (key_node->len == klen && memcmp(d->text + key_node->start, key, klen) == 0)
			return (int)(i + 1);
		i = d->node[i + 1].next;
	}
	return -1;
}

/* Element idx of array arr, or -1. */
static int
json_at(const struct json_doc *d, int arr, uint32_t idx)
{
	uint32_t i, k;

	if (arr < 0 || d->node[arr].type != JSON_ARR || idx >= d->node[arr].kids)
		return -1;
	for (i = (uint32_t)arr + 1, k = 0; k < idx; k++)
		i = d->node[i].next;
	return (int)i;
}

/* A non-negative integer without fraction or exponent that fits a uint64_t. 0 or -1. */
static int
json_u64(const struct json_doc *d, int i, uint64_t *out)
{
	const struct json_node *n;
	uint64_t v = 0;
	uint32_t k;

	if (i < 0 || d->node[i].type != JSON_NUM)
		return -1;
	n = &d->node[i];
	for (k = 0; k < n->len; k++) {
		unsigned int c = (unsigned int)(d->text[n->start + k] - '0');

		if (c > 9 || v > (UINT64_MAX - c) / 10)
			return -1;
		v = v * 10 + c;
	}
	*out = v;
	return 0;
}

/* Four hex digits json_string() has checked. */
static unsigned int
hex4(const char *s)
{
	unsigned int v = 0, k;

	for (k = 0; k < 4; k++) {
		char c = s[k];

		v = v * 16 + (unsigned int)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/*
 * A string value into buf, unescaped. \u escapes outside ASCII become '?': the
 * table shows names and states, never text that needs them. 0 or -1 (not a
 * string, or longer than len - 1).
 */
static int
json_str(const struct json_doc *d, int i, char *buf, size_t len)
{
	const char *s;
	size_t o = 0;
	uint32_t k;

	if (i < 0 || d->node[i].type != JSON_STR || len == 0)
		return -1;
	s = d->text + d->node[i].start;
	for (k = 0; k < d->node[i].len; k++) {
		char c = s[k];

		if (c == '\\') {
			c = s[++k];
			if (c == 'u') {
				unsigned int u = hex4(s + k + 1);

				c = u >= 0x20 && u < 0x7f ? (char)u : '?';
				k += 4;
			} else {
				c = c == 'b'	   ? '\b'
					: c == 'f' ? '\f'
					: c == 'n' ? '\n'
					: c == 'r' ? '\r'
					: c == 't' ? '\t'
						   : c;
			}
		}
		if (o + 1 >= len)
			return -1;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return 0;
}

/* ---- the telemetry socket ---- */

struct shard_snap {
	unsigned int shard;
	unsigned int lcore;
	char state[16];
	uint64_t signed_ok;
	uint64_t expired;
	uint64_t failed;
	uint64_t in_flight;
	uint64_t ring_count;
	uint64_t lat_count;
	uint64_t p50;
	uint64_t p99;
	uint64_t p999;
	uint64_t lat_max;
	uint64_t gap_max; /* ns: the largest gap of any size, not only hiccups */
	uint64_t hiccups;
	/* The signer's last STATS (shard,<n>'s "signer"), when it sent one. */
	bool has_signer;
	char nonce_mode[16];
	uint64_t ecdsa_depth;
	uint64_t ecdsa_capacity;
	uint64_t misses;
};

/* One refresh: every command asked once. */
struct snap {
	uint64_t t_ns; /* CLOCK_MONOTONIC when the counters were read */
	uint64_t pid;
	uint64_t uptime_ns;
	char version[32];
	char poll_mode[16];
	unsigned int shards;
	struct shard_snap s[ZCS_MAX_SHARDS];
};

struct top {
	const char *prefix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	double interval;
	bool once;
	bool json;
	bool ansi; /* stdout is a terminal: redraw in place */
	bool keys; /* stdin is a terminal in raw mode: 'q' quits */
	struct termios saved;
	char buf[TOP_REPLY_MAX];
	struct json_doc doc;
	struct snap snap[2];
	char err[512];
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int top_fail(struct top *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
top_fail(struct top *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * DPDK's runtime directory (eal_create_runtime_dir): $RUNTIME_DIRECTORY,
 * else /var/run for root, else $XDG_RUNTIME_DIR or /tmp; then dpdk/<prefix>.
 */
static int
socket_path(struct top *t)
{
	const char *base = getenv("RUNTIME_DIRECTORY");
	int n;

	if (base == NULL || base[0] == '\0') {
		base = "/var/run";
		if (getuid() != 0) {
			base = getenv("XDG_RUNTIME_DIR");
			if (base == NULL || base[0] == '\0')
				base = "/tmp";
		}
	}
	n = snprintf(t->path, sizeof(t->path), "%s/dpdk/%s/" TOP_SOCKET_NAME, base, t->prefix);
	if (n < 0 || (size_t)n >= sizeof(t->path))
		return top_fail(t,
			"telemetry socket path %s/dpdk/%s/" TOP_SOCKET_NAME
			" is longer than a unix socket path may be",
			base, t->prefix);
	return 0;
}

/* Read one message into t->buf (NUL-terminated); its length, or -1 with t->err. */
static ssize_t
recv_msg(struct top *t, const char *what)
{
	ssize_t n;

	do
		n = recv(t->fd, t->buf, sizeof(t->buf) - 1, MSG_TRUNC);
	while (n < 0 && errno == EINTR && !quit);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return top_fail(t, "telemetry socket at %s: no reply to %s within %d s", t->path,
			what, TOP_REPLY_TIMEOUT_S);
	if (n < 0)
		return top_fail(t, "telemetry socket at %s: %s: %s", t->path, what,
			errno == EINTR ? "interrupted" : strerror(errno));
	if (n == 0)
		return top_fail(t,
			"telemetry socket at %s closed before replying to %s: did "
			"zcsignd stop?",
			t->path, what);
	if ((size_t)n >= sizeof(t->buf))
		return top_fail(t,
			"telemetry socket at %s: reply to %s is %zd bytes, more than "
			"%zu",
			t->path, what, n, sizeof(t->buf) - 1);
	t->buf[n] = '\0';
	return n;
}

/* Connect and read DPDK's greeting ({"version": ..., "pid": ..., "max_output_len": ...}). */
static int
top_connect(struct top *t)
{
	struct timeval tv = {.tv_sec = TOP_REPLY_TIMEOUT_S};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ssize_t n;

	if (socket_path(t) != 0)
		return -1;
	memcpy(sa.sun_path, t->path, sizeof(sa.sun_path));
	t->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		return top_fail(t, "socket: %s", strerror(errno));
	/* A socket file without a listener is what a killed zcsignd leaves: no engine either. */
	if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
			return top_fail(t,
				"no telemetry socket at %s: is zcsignd running with "
				"--file-prefix %s (and telemetry enabled)?",
				t->path, t->prefix);
		return top_fail(t, "cannot connect to the telemetry socket at %s: %s", t->path,
			strerror(errno));
	}
	if (setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
		setsockopt(t->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return top_fail(
			t, "telemetry socket at %s: setsockopt: %s", t->path, strerror(errno));
	n = recv_msg(t, "the connection (its greeting)");
	if (n < 0)
		return -1;
	if (json_parse(&t->doc, t->buf, (size_t)n) != 0)
		return top_fail(
			t, "telemetry socket at %s: malformed greeting: %s", t->path, t->doc.err);
	if (json_find(&t->doc, 0, "max_output_len") < 0)
		return top_fail(
			t, "telemetry socket at %s: not a DPDK telemetry v2 greeting", t->path);
	return 0;
}

/*
 * Send cmd (with its parameter) and parse the reply {"<cmd>": value}. Returns
 * the node of value, or -1 with t->err naming the command.
 */
static int
ask(struct top *t, const char *cmd)
{
	const char *comma = strchr(cmd, ',');
	size_t name_len = comma != NULL ? (size_t)(comma - cmd) : strlen(cmd);
	const struct json_node *key;
	ssize_t n;
	int v;

	if (send(t->fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0)
		return top_fail(t, "telemetry socket at %s: sending %s: %s", t->path, cmd,
			errno == EPIPE ? "zcsignd closed it (did it stop?)" : strerror(errno));
	n = recv_msg(t, cmd);
	if (n < 0)
		return -1;
	if (json_parse(&t->doc, t->buf, (size_t)n) != 0)
		return top_fail(t, "reply to %s is not valid JSON: %s", cmd, t->doc.err);
	key = &t->doc.node[1];
	if (t->doc.node[0].type != JSON_OBJ || t->doc.node[0].kids != 1 || key->len != name_len ||
		memcmp(t->buf + key->start, cmd, name_len) != 0)
		return top_fail(t, "reply to %s is not {\"%.*s\": ...}", cmd, (int)name_len, cmd);
	v = 2;
	/* DPDK answers null when the handler failed: -ENODEV (no engine) or -EINVAL. */
	if (t->doc.node[v].type == JSON_NULL)
		return top_fail(t,
			"zcsignd answered null to %s: is its engine running (and does "
			"it have that shard)?",
			cmd);
	return v;
}

/* Member key of obj as a uint64_t, or -1 with t->err naming the command. */
static int
get_u64(struct top *t, const char *cmd, int obj, const char *key, uint64_t *out)
{
	if (json_u64(&t->doc, json_find(&t->doc, obj, key), out) != 0)
		return top_fail(
			t, "reply to %s: \"%s\" is missing or not an unsigned integer", cmd, key);
	return 0;
}

static int
get_str(struct top *t, const char *cmd, int obj, const char *key, char *buf, size_t len)
{
	if (json_str(&t->doc, json_find(&t->doc, obj, key), buf, len) != 0)
		return top_fail(t,
			"reply to %s: \"%s\" is missing, not a string or longer than %zu", cmd, key,
			len - 1);
	return 0;
}

static int
read_info(struct top *t, struct snap *s)
{
	const char *cmd = ZCS_TEL_CMD_INFO;
	uint64_t shards;
	int v = ask(t, cmd);

	if (v < 0 || get_u64(t, cmd, v, "pid", &s->pid) != 0 ||
		get_u64(t, cmd, v, "uptime_ns", &s->uptime_ns) != 0 ||
		get_u64(t, cmd, v, "shards", &shards) != 0 ||
		get_str(t, cmd, v, "version", s->version, sizeof(s->version)) != 0 ||
		get_str(t, cmd, v, "poll_mode", s->poll_mode, sizeof(s->poll_mode)) != 0)
		return -1;
	if (shards == 0 || shards > ZCS_MAX_SHARDS)
		return top_fail(t, "reply to %s: %" PRIu64 " shards (expected 1..%d)", cmd, shards,
			ZCS_MAX_SHARDS);
	s->shards = (unsigned int)shards;
	return 0;
}

/* /zcsign/shards must list 0..shards-1: the table indexes every other command by it. */
static int
read_shard_list(struct top *t, struct snap *s)
{
	const char *cmd = ZCS_TEL_CMD_SHARDS;
	int v = ask(t, cmd);
	uint64_t id;
	uint32_t i;

	if (v < 0)
		return -1;
	if (t->doc.node[v].type != JSON_ARR || t->doc.node[v].kids != s->shards)
		return top_fail(
			t, "reply to %s: expected an array of %u shard numbers", cmd, s->shards);
	for (i = 0; i < s->shards; i++)
		if (json_u64(&t->doc, json_at(&t->doc, v, i), &id) != 0 || id != i)
			return top_fail(t, "reply to %s: element %u is not shard %u", cmd, i, i);
	return 0;
}

static int
read_shard(struct top *t, struct shard_snap *x, unsigned int n)
{
	char cmd[64];
	uint64_t lcore;
	int v;

	x->shard = n;
	snprintf(cmd, sizeof(cmd), ZCS_TEL_CMD_SHARD ",%u", n);
	v = ask(t, cmd);
	if (v < 0 || get_str(t, cmd, v, "state", x->state, sizeof(x->state)) != 0 ||
		get_u64(t, cmd, v, "lcore", &lcore) != 0 ||
		get_u64(t, cmd, v, "signed", &x->signed_ok) != 0 ||
		get_u64(t, cmd, v, "expired", &x->expired) != 0 ||
		get_u64(t, cmd, v, "failed", &x->failed) != 0 ||
		get_u64(t, cmd, v, "in_flight", &x->in_flight) != 0 ||
		get_u64(t, cmd, v, "ring_count", &x->ring_count) != 0)
		return -1;
	v = json_find(&t->doc, v, "signer"); /* absent until the signer's first STATS */
	x->has_signer = v >= 0;
	if (x->has_signer &&
		(get_str(t, cmd, v, "nonce_mode", x->nonce_mode, sizeof(x->nonce_mode)) != 0 ||
			get_u64(t, cmd, v, "ecdsa_pool_depth", &x->ecdsa_depth) != 0 ||
			get_u64(t, cmd, v, "ecdsa_pool_capacity", &x->ecdsa_capacity) != 0 ||
			get_u64(t, cmd, v, "misses", &x->misses) != 0))
		return -1;
	if (lcore > UINT16_MAX)
		return top_fail(t, "reply to %s: lcore %" PRIu64 " out of range", cmd, lcore);
	x->lcore = (unsigned int)lcore;

	snprintf(cmd, sizeof(cmd), ZCS_TEL_CMD_LATENCY ",%u", n);
	v = ask(t, cmd);
	if (v < 0 || get_u64(t, cmd, v, "count", &x->lat_count) != 0 ||
		get_u64(t, cmd, v, "p50", &x->p50) != 0 ||
		get_u64(t, cmd, v, "p99", &x->p99) != 0 ||
		get_u64(t, cmd, v, "p99_9", &x->p999) != 0 ||
		get_u64(t, cmd, v, "max", &x->lat_max) != 0)
		return -1;

	snprintf(cmd, sizeof(cmd), ZCS_TEL_CMD_JITTER ",%u", x->lcore);
	v = ask(t, cmd);
	if (v < 0 || get_u64(t, cmd, v, "hiccups", &x->hiccups) != 0)
		return -1;
	return get_u64(t, cmd, json_find(&t->doc, v, "gap"), "max", &x->gap_max);
}

static int
read_snap(struct top *t, struct snap *s)
{
	unsigned int i;

	if (read_info(t, s) != 0 || read_shard_list(t, s) != 0)
		return -1;
	for (i = 0; i < s->shards; i++)
		if (read_shard(t, &s->s[i], i) != 0)
			return -1;
	s->t_ns = mono_ns();
	return 0;
}

/* ---- output ---- */

static uint64_t
completions(const struct shard_snap *x)
{
	return x->signed_ok + x->expired + x->failed;
}

/*
 * Completions per second of shard i between prev and cur; false when there is
 * no rate: no earlier refresh, another zcsignd since (pid), or a counter that
 * went back.
 */
static bool
rate_of(const struct snap *cur, const struct snap *prev, unsigned int i, double *rate)
{
	if (prev == NULL || prev->pid != cur->pid || prev->shards != cur->shards ||
		cur->t_ns <= prev->t_ns || completions(&cur->s[i]) < completions(&prev->s[i]))
		return false;
	*rate = (double)(completions(&cur->s[i]) - completions(&prev->s[i])) * 1e9 /
		(double)(cur->t_ns - prev->t_ns);
	return true;
}

static void
print_us(uint64_t ns, int width)
{
	printf(" %*.1f", width, (double)ns / 1000.0);
}

/* POOL% and MISSES: the ECDSA pool's fill and the signer's RFC 6979 fallbacks. */
static void
print_pool(const struct shard_snap *x)
{
	if (!x->has_signer || x->ecdsa_capacity == 0)
		printf(" %5s", "-");
	else
		printf(" %5.0f", 100.0 * (double)x->ecdsa_depth / (double)x->ecdsa_capacity);
	if (!x->has_signer)
		printf(" %8s\n", "-");
	else
		printf(" %8" PRIu64 "\n", x->misses);
}

static void
print_table(const struct top *t, const struct snap *cur, const struct snap *prev)
{
	uint64_t done = 0, errors = 0, up = cur->uptime_ns / 1000000000u;
	double rate, total_rate = 0;
	bool have_rate = prev != NULL;
	unsigned int i;

	if (t->ansi)
		fputs("\033[H\033[2J", stdout); /* home, clear */
	printf("zcsignd %s  pid %" PRIu64 "  prefix %s  %u shard%s  poll %s  up %" PRIu64
	       ":%02" PRIu64 ":%02" PRIu64 "  every %.2g s%s\n",
		cur->version, cur->pid, t->prefix, cur->shards, cur->shards == 1 ? "" : "s",
		cur->poll_mode, up / 3600, up / 60 % 60, up % 60, t->interval,
		t->keys ? "  (q quits)" : "");
	printf("%5s %-10s %5s %10s %12s %8s %9s %9s %9s %10s %8s %6s %5s %8s\n", "SHARD", "STATE",
		"LCORE", "RATE/s", "DONE", "ERRORS", "P50_us", "P99_us", "P99.9_us", "MAXGAP_us",
		"HICCUPS", "INFL", "POOL%", "MISSES");
	for (i = 0; i < cur->shards; i++) {
		const struct shard_snap *x = &cur->s[i];

		printf("%5u %-10s %5u", x->shard, x->state, x->lcore);
		if (rate_of(cur, prev, i, &rate)) {
			printf(" %10.1f", rate);
			total_rate += rate;
		} else {
			printf(" %10s", "-");
			have_rate = false;
		}
		printf(" %12" PRIu64 " %8" PRIu64, completions(x), x->expired + x->failed);
		print_us(x->p50, 9);
		print_us(x->p99, 9);
		print_us(x->p999, 9);
		print_us(x->gap_max, 10);
		printf(" %8" PRIu64 " %6" PRIu64, x->hiccups, x->in_flight);
		print_pool(x);
		done += completions(x);
		errors += x->expired + x->failed;
	}
	if (have_rate)
		printf("%5s %-10s %5s %10.1f", "all", "", "", total_rate);
	else
		printf("%5s %-10s %5s %10s", "all", "", "", "-");
	printf(" %12" PRIu64 " %8" PRIu64 "\n", done, errors);
}

/* One JSON object on one line: a script reads a snapshot per line. */
static void
print_json(const struct top *t, const struct snap *cur, const struct snap *prev)
{
	uint64_t done = 0, errors = 0;
	double rate, total_rate = 0;
	bool have_rate = prev != NULL;
	unsigned int i;

	/* prefix, version, state, poll and nonce modes are plain names (cli.c, DPDK, telemetry.c). */
	printf("{\"prefix\":\"%s\",\"pid\":%" PRIu64 ",\"version\":\"%s\",\"poll_mode\":\"%s\","
	       "\"uptime_ns\":%" PRIu64 ",\"interval_s\":%g,\"shards\":[",
		t->prefix, cur->pid, cur->version, cur->poll_mode, cur->uptime_ns, t->interval);
	for (i = 0; i < cur->shards; i++) {
		const struct shard_snap *x = &cur->s[i];

		printf("%s{\"shard\":%u,\"state\":\"%s\",\"lcore\":%u,", i ? "," : "", x->shard,
			x->state, x->lcore);
		if (rate_of(cur, prev, i, &rate)) {
			printf("\"rate_per_s\":%.1f,", rate);
			total_rate += rate;
		} else {
			printf("\"rate_per_s\":null,");
			have_rate = false;
		}
		printf("\"completed\":%" PRIu64 ",\"signed\":%" PRIu64 ",\"errors\":%" PRIu64
		       ",\"expired\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"in_flight\":%" PRIu64
		       ",\"ring_count\":%" PRIu64 ",",
			completions(x), x->signed_ok, x->expired + x->failed, x->expired, x->failed,
			x->in_flight, x->ring_count);
		printf("\"latency_ns\":{\"count\":%" PRIu64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64
		       ",\"p99_9\":%" PRIu64 ",\"max\":%" PRIu64 "},",
			x->lat_count, x->p50, x->p99, x->p999, x->lat_max);
		printf("\"max_loop_gap_ns\":%" PRIu64 ",\"hiccups\":%" PRIu64 ",", x->gap_max,
			x->hiccups);
		if (x->has_signer)
			printf("\"signer\":{\"nonce_mode\":\"%s\",\"ecdsa_pool_depth\":%" PRIu64
			       ",\"ecdsa_pool_capacity\":%" PRIu64 ",\"misses\":%" PRIu64 "}}",
				x->nonce_mode, x->ecdsa_depth, x->ecdsa_capacity, x->misses);
		else
			printf("\"signer\":null}");
		done += completions(x);
		errors += x->expired + x->failed;
	}
	printf("],\"total\":{");
	if (have_rate)
		printf("\"rate_per_s\":%.1f,", total_rate);
	else
		printf("\"rate_per_s\":null,");
	printf("\"completed\":%" PRIu64 ",\"errors\":%" PRIu64 "}}\n", done, errors);
}

/* ---- the loop ---- */

/*
 * Sleep until until_ns (CLOCK_MONOTONIC), or less when a signal or 'q' says to quit; stdin is
 * watched only when it is a terminal (a pipe or /dev/null is always readable).
 */
static void
wait_interval(struct top *t, uint64_t until_ns)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	uint64_t now;
	char c;

	while (!quit && (now = mono_ns()) < until_ns) {
		int ms = (int)((until_ns - now + 999999) / 1000000);

		if (poll(&pfd, t->keys ? 1 : 0, ms) > 0 && (pfd.revents & POLLIN) &&
			read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			quit = 1;
	}
}

/* stdin in non-canonical mode without echo, so 'q' arrives without Enter. */
static void
keys_on(struct top *t)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) != 0)
		return;
	raw = t->saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	t->keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static void
keys_off(struct top *t)
{
	if (t->keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->keys = false;
}

static void
print_snap(const struct top *t, const struct snap *cur, const struct snap *prev)
{
	if (t->json)
		print_json(t, cur, prev);
	else
		print_table(t, cur, prev);
}

static int
run(struct top *t)
{
	uint64_t next, step = (uint64_t)(t->interval * 1e9);
	struct snap *cur = &t->snap[0], *prev = NULL;

	if (top_connect(t) != 0 || read_snap(t, cur) != 0)
		return -1;
	next = cur->t_ns + step;
	if (t->once) {
		/* One snapshot with a rate: the counters again, one interval later. */
		prev = cur;
		cur = &t->snap[1];
		wait_interval(t, next);
		if (read_snap(t, cur) != 0)
			return -1;
		print_snap(t, cur, prev);
		return cli_flush_stdout() == 0 ? 0 : 1;
	}
	for (;;) {
		print_snap(t, cur, prev);
		if (cli_flush_stdout() != 0)
			return 1;
		wait_interval(t, next);
		if (quit)
			return 0;
		prev = cur;
		cur = cur == &t->snap[0] ? &t->snap[1] : &t->snap[0];
		if (read_snap(t, cur) != 0)
			return quit ? 0 : -1;
		/* Keep the cadence, but never queue up refreshes behind a slow one. */
		next += step;
		if (next < cur->t_ns)
			next = cur->t_ns + step;
		if (!t->ansi && !t->json)
			putchar('\n');
	}
}

static void
top_usage(FILE *f)
{
	fprintf(f,
		"Usage: " CLI_PROG " [--file-prefix P] top [--interval SEC] [--once] [--json]\n"
		"\n"
		"A per-shard table of a running zcsignd, from its DPDK telemetry socket\n"
		"(<runtime dir>/dpdk/P/" TOP_SOCKET_NAME "): completions per second, completions\n"
		"and errors (expired + failed) since start, end-to-end latency p50/p99/p99.9\n"
		"(us), largest loop gap (us), hiccups, requests in flight, the signer's ECDSA\n"
		"presignature pool (%% full) and its misses (signs that fell back to RFC 6979).\n"
		"\n"
		"  -i, --interval SEC  refresh period, %g..%g (default 1)\n"
		"  -1, --once          one snapshot (taken twice, SEC apart, for the rate), exit\n"
		"  -j, --json          one JSON object per snapshot, one per line\n"
		"  -h, --help          this text\n"
		"\n"
		"On a terminal the table is redrawn in place; 'q', Ctrl-C or SIGTERM quit.\n"
		"Otherwise one table per interval is appended. Exit status: 0, 1 no\n"
		"telemetry socket or a bad reply, 2 bad command line.\n",
		TOP_INTERVAL_MIN, TOP_INTERVAL_MAX);
}

static int
parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < TOP_INTERVAL_MIN ||
		v > TOP_INTERVAL_MAX)
		return cli_fail(CLI_EXIT_USAGE,
			"top: --interval: expected %g..%g seconds, got '%s'", TOP_INTERVAL_MIN,
			TOP_INTERVAL_MAX, s);
	*out = v;
	return 0;
}

static int
parse_top(int argc, char **argv, struct top *t)
{
	static const struct option opts[] = {
		{"interval", required_argument, NULL, 'i'},
		{"once", no_argument, NULL, '1'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 0; /* glibc: restart scanning, argv[0] is "top" */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:1jh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_interval(optarg, &t->interval) != 0)
				return CLI_EXIT_USAGE;
			break;
		case '1':
			t->once = true;
			break;
		case 'j':
			t->json = true;
			break;
		case 'h':
			top_usage(stdout);
			return -1;
		case ':':
			return cli_fail(
				CLI_EXIT_USAGE, "top: %s needs an argument", argv[optind - 1]);
		default:
			return cli_fail(CLI_EXIT_USAGE, "top: unknown option '%s' (see top --help)",
				argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail(CLI_EXIT_USAGE, "top: unexpected argument '%s'", argv[optind]);
	return 0;
}

int
cli_top_main(const struct cli_args *a, int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct top *t;
	int rc;

	/* ~110 KiB of replies, parse nodes and snapshots: not for the stack. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return cli_fail(CLI_EXIT_RUNTIME, "top: out of memory");
	t->fd = -1;
	t->interval = 1.0;
	t->prefix = a->file_prefix != NULL ? a->file_prefix : TOP_DEFAULT_PREFIX;
	rc = parse_top(argc, argv, t);
	if (rc != 0) {
		free(t);
		return rc < 0 ? 0 : rc;
	}
	t->ansi = !t->json && !t->once && isatty(STDOUT_FILENO);
	/*
	 * Live mode ends on a signal with exit 0, after the terminal is restored;
	 * no SA_RESTART, so the signal cuts a sleep or a wait for a reply short.
	 * --once keeps the default: a script that kills it gets no half answer.
	 */
	if (!t->once) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		keys_on(t);
	}
	rc = run(t);
	keys_off(t);
	if (rc < 0)
		rc = cli_fail(CLI_EXIT_RUNTIME, "%s", t->err);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return rc;
}
