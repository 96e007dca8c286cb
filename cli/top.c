/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli top: a live per-shard table (completion rate, end-to-end
 * p50/p99/p99.9, largest loop gap, errors, the signer's presignature pool and
 * its RFC 6979 fallbacks) of a running zcsignd.
 *
 *   zcsign-cli [--file-prefix P] top [--interval SEC] [--once] [--json]
 *
 * The numbers come from zcsignd's DPDK telemetry socket (tel_client.h, read
 * into snapshots by top_snap.h), not from attaching as a DPDK secondary: no
 * EAL, no hugepages, no client slot, so an operator can watch an engine whose
 * slots are all taken. This file is the screen: options, the refresh loop,
 * the table and the JSON lines.
 *
 * A counter is a total since the engine started: the rate is the difference
 * of completions (signed + expired + failed) between two refreshes over the
 * time between them. The first live table has no rate yet ("-"); --once waits
 * one interval for it. The percentiles are the engine's, since its start.
 */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cli.h"
#include "num.h"
#include "out.h"
#include "tel_client.h"
#include "top_snap.h"

/* DPDK's default --file-prefix (what zcsignd uses when given none). */
#define TOP_DEFAULT_PREFIX "rte"
#define TOP_INTERVAL_MIN 0.05
#define TOP_INTERVAL_MAX 3600.0

struct top {
	const char *prefix;
	double interval;
	bool once;
	bool json;
	bool ansi; /* stdout is a terminal: redraw in place */
	bool keys; /* stdin is a terminal in raw mode: 'q' quits */
	struct termios saved;
	struct tel_client tel;
	struct top_snap snap[2];
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
read_snap(struct top *t, struct top_snap *s)
{
	if (top_snap_read(&t->tel, s) != 0)
		return -1;
	s->t_ns = zcs_mono_ns();
	return 0;
}

/* ---- output ---- */

static uint64_t
completions(const struct top_shard *x)
{
	return x->signed_ok + x->expired + x->failed;
}

/*
 * Completions per second of shard i between prev and cur; false when there is
 * no rate: no earlier refresh, another zcsignd since (pid), or a counter that
 * went back.
 */
static bool
rate_of(const struct top_snap *cur, const struct top_snap *prev, unsigned int i, double *rate)
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
print_pool(const struct top_shard *x)
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
print_table(const struct top *t, const struct top_snap *cur, const struct top_snap *prev)
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
		const struct top_shard *x = &cur->s[i];

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
print_json(const struct top *t, const struct top_snap *cur, const struct top_snap *prev)
{
	uint64_t done = 0, errors = 0;
	double rate, total_rate = 0;
	bool have_rate = prev != NULL;
	unsigned int i;

	/* prefix, version, state, poll and nonce modes are plain names (cli.c, DPDK, telemetry.c).
	 */
	printf("{\"prefix\":\"%s\",\"pid\":%" PRIu64 ",\"version\":\"%s\",\"poll_mode\":\"%s\","
	       "\"uptime_ns\":%" PRIu64 ",\"interval_s\":%g,\"shards\":[",
		t->prefix, cur->pid, cur->version, cur->poll_mode, cur->uptime_ns, t->interval);
	for (i = 0; i < cur->shards; i++) {
		const struct top_shard *x = &cur->s[i];

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

	while (!quit && (now = zcs_mono_ns()) < until_ns) {
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
print_snap(const struct top *t, const struct top_snap *cur, const struct top_snap *prev)
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
	struct top_snap *cur = &t->snap[0], *prev = NULL;

	if (tel_connect(&t->tel) != 0 || read_snap(t, cur) != 0)
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
		"(<runtime dir>/dpdk/P/" TEL_SOCKET_NAME "): completions per second, completions\n"
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
	if (zcs_parse_double(s, TOP_INTERVAL_MIN, TOP_INTERVAL_MAX, out) != 0)
		return cli_fail(CLI_EXIT_USAGE,
			"top: --interval: expected %g..%g seconds, got '%s'", TOP_INTERVAL_MIN,
			TOP_INTERVAL_MAX, s);
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

	/* Two snapshots and the client's reply buffer and parse nodes: not for the stack. */
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return cli_fail(CLI_EXIT_RUNTIME, "top: out of memory");
	t->interval = 1.0;
	t->prefix = a->file_prefix != NULL ? a->file_prefix : TOP_DEFAULT_PREFIX;
	tel_init(&t->tel, t->prefix, &quit);
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
		rc = cli_fail(CLI_EXIT_RUNTIME, "%s", t->tel.err);
	tel_close(&t->tel);
	free(t);
	return rc;
}
