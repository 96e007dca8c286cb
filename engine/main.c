/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsignd: the EAL primary around the engine library.
 *
 *   zcsignd [EAL options] -- --config FILE [--poll spin|backoff|yield]
 *
 * The main lcore only waits for SIGINT/SIGTERM (the handler sets a flag and
 * nothing else), then stops the engine with a drain and prints the reconciled
 * counters. Exit status: 0 after a stop, 1 for a bad configuration or a
 * failed start, 2 for a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eal_memconfig.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_lcore.h>

#include <zcsign/engine.h>

#include "shards.h"

#define PROG "zcsignd"
#define TICK_US 10000

static volatile sig_atomic_t force_quit;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	force_quit = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [EAL options] -- --config FILE [--poll spin|backoff|yield]\n"
		"  --config FILE   engine configuration (INI: [engine], [shard.<i>])\n"
		"  --poll MODE     worker poll mode, overrides the file: spin (isolated cores)\n"
		"                  or backoff (shared cores: sleeps when idle) or yield (pollers\n"
		"                  sharing a core: sched_yield() when idle)\n"
		"  --help          this text\n"
		"Stops with a drain on SIGINT or SIGTERM.\n");
}

struct args {
	const char *config;
	const char *poll;
};

/* Returns 0, 1 for --help, or -1 after printing why the command line is wrong. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"poll", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	/* rte_eal_init() used getopt too: optind 0 makes glibc start afresh. */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'p':
			a->poll = optarg;
			break;
		case 'h':
			return 1;
		case ':':
			fprintf(stderr, PROG ": %s needs a value (try --help)\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	if (a->config == NULL) {
		fprintf(stderr, PROG ": --config FILE is required (try --help)\n");
		return -1;
	}
	if (a->poll != NULL && zcs_poll_mode_parse(a->poll) < 0) {
		fprintf(stderr, PROG ": --poll %s: not spin, backoff or yield\n", a->poll);
		return -1;
	}
	return 0;
}

static int
load_conf(const struct args *a, struct zcs_engine_conf *conf)
{
	char err[512];

	zcs_engine_conf_init(conf);
	if (zcs_engine_conf_load(conf, err, sizeof(err), a->config) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	if (a->poll != NULL)
		conf->poll = (enum zcs_poll_mode)zcs_poll_mode_parse(a->poll);
	return 0;
}

static void
print_shards(const struct zcs_engine_shared *sh)
{
	struct zcs_shard_info si;
	unsigned int i;

	for (i = 0; zcs_shard_info(sh, i, &si) == 0; i++)
		fprintf(stderr, PROG ": shard %u -> %s on lcore %" PRIu32 ": %s\n", i, si.endpoint,
			si.lcore, zcs_shard_conn_name(si.state));
}

static void
print_totals(const struct zcs_engine_shared *sh)
{
	struct zcs_engine_info ei;

	zcs_engine_info(sh, &ei);
	fprintf(stderr,
		PROG ": stopped: submitted=%" PRIu64 " signed=%" PRIu64 " expired=%" PRIu64
		     " failed=%" PRIu64 " in_flight=%" PRIu64 "\n",
		ei.clients.submitted, ei.signed_ok, ei.expired, ei.failed, ei.inflight);
}

/* One memory segment's backing file, found through its fd, unlinked. */
static int
unlink_segment(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	char link[64], path[PATH_MAX];
	unsigned int *n = arg;
	ssize_t len;
	int fd;

	RTE_SET_USED(msl);
	fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (fd < 0)
		return 0; /* no file (--no-huge, --in-memory) */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len <= 0)
		return 0;
	path[len] = '\0';
	if (strstr(path, "map_") != NULL && unlink(path) == 0)
		(*n)++;
	return 0;
}

/*
 * A clean stop leaves no hugepage files behind: the engine has drained and
 * refuses new clients, so the files (DPDK keeps them for secondaries to map)
 * go now; a client still attached keeps its mappings. A killed zcsignd leaves
 * them: tuning/hugepages.sh and the tests' fixtures remove those.
 */
static void
unlink_hugepage_files(void)
{
	unsigned int n = 0;

	rte_mcfg_mem_read_lock();
	rte_memseg_walk_thread_unsafe(unlink_segment, &n);
	rte_mcfg_mem_read_unlock();
	if (n > 0)
		fprintf(stderr, PROG ": removed its %u hugepage files\n", n);
}

int
main(int argc, char **argv)
{
	struct zcs_engine_conf conf;
	struct zcs_engine_shared *sh;
	struct args a = {NULL, NULL};
	struct sigaction sa;
	struct zcs_engine *e;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, PROG ": EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;

	ret = parse_args(argc, argv, &a);
	if (ret != 0) {
		if (ret > 0)
			usage(stdout);
		rte_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	if (load_conf(&a, &conf) != 0) {
		rte_eal_cleanup();
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	e = zcs_engine_start(&conf);
	if (e == NULL) {
		fprintf(stderr, PROG ": cannot start the engine: %s (see the log above)\n",
			rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	sh = zcs_shards_lookup();
	if (sh != NULL)
		print_shards(sh);

	while (!force_quit)
		rte_delay_us_sleep(TICK_US);

	fprintf(stderr, PROG ": stopping: draining the shards\n");
	ret = zcs_engine_stop(e);
	if (ret == -ETIMEDOUT)
		fprintf(stderr, PROG ": drain timed out: the rest failed with shutdown\n");
	if (sh != NULL)
		print_totals(sh);
	unlink_hugepage_files();
	rte_eal_cleanup();
	return 0;
}
