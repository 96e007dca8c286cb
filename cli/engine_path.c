/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli's engine path: sign, pubkey and status through a running zcsignd,
 * as a DPDK secondary process of it.
 *
 * The EAL is started with an argv built here, not taken from the command line:
 * an operator names zcsignd's --file-prefix and nothing else. The CLI's one
 * lcore floats over the CPUs this process may use (never pinned to CPU 0,
 * which may be a worker's isolated core), and EAL logs go to stderr so that
 * stdout carries only the JSON. sign and pubkey claim a client slot
 * (zcs_attach) and wait, bounded, for their one completion: latency_ns is the
 * engine's own submit -> completion TSC span, service_ns the signer's time.
 * status only looks the shared state up: it takes no slot, so it works while
 * every slot is taken, and reads it through the snapshots of shards.h
 * (zcs_engine_info, zcs_shard_info, zcs_client_info): lock-free counters a
 * few events apart, never torn. Whatever happens, the slot is given back and
 * the EAL cleaned up before exit.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_* */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include <zcsign/client.h>
#include <zcsign/shard.h>
#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "cli.h"
#include "hex.h"
#include "lcores.h"
#include "out.h"
#include "shards.h"

/* DPDK's default --file-prefix (what zcsignd uses when given none). */
#define DEFAULT_PREFIX "rte"
/* A worker answers in microseconds; seconds of silence mean the engine is wedged. */
#define COMPLETION_TIMEOUT_MS 5000
/* Spin this long on the completion ring before sleeping between polls. */
#define POLL_SPIN_US 200
#define POLL_SLEEP_US 20

#define SIGN_COOKIE 1
#define PUBKEY_COOKIE 2

static const char *
prefix_of(const struct cli_args *a)
{
	return a->file_prefix != NULL ? a->file_prefix : DEFAULT_PREFIX;
}

static int
no_engine(const struct cli_args *a)
{
	return cli_fail(CLI_EXIT_RUNTIME,
		"cannot attach to zcsignd (file prefix %s): is it running, with --file-prefix %s?",
		prefix_of(a), prefix_of(a));
}

/* ---- EAL ---- */

/*
 * "--lcores=0@(c0,c1-c2,...)": the CLI's lcore 0 on every CPU this process may
 * run on, so the scheduler keeps placing it as it would any command.
 */
static int
lcores_arg(char *out, size_t len)
{
	static const char opt[] = "--lcores=";

	if (len <= sizeof(opt))
		return -1;
	memcpy(out, opt, sizeof(opt) - 1);
	return zcs_lcores_map(out + sizeof(opt) - 1, len - (sizeof(opt) - 1), 0, 0);
}

/*
 * True when a primary process runs with the prefix: it holds a lock on its
 * runtime config file (the directory DPDK would use, as root or not). Asked
 * before rte_eal_init, which, without a primary, prints lines of its own and
 * leaves a socket and directories behind.
 */
static bool
primary_alive(const struct cli_args *a)
{
	const char *base = "/var/run";
	char path[256];
	int n;

	if (getuid() != 0) {
		base = getenv("XDG_RUNTIME_DIR");
		if (base == NULL || base[0] == '\0')
			base = "/tmp";
	}
	n = snprintf(path, sizeof(path), "%s/dpdk/%s/config", base, prefix_of(a));
	/* A path we cannot build: let the EAL decide. */
	if (n < 0 || (size_t)n >= sizeof(path))
		return true;
	return rte_eal_primary_proc_alive(path) != 0;
}

static int
eal_start(const struct cli_args *a)
{
	char prefix[80], lcores[512];
	char *argv[] = {
		(char *)CLI_PROG,
		(char *)"--proc-type=secondary",
		prefix,
		(char *)"--no-pci",
		lcores,
		(char *)"--no-telemetry",
		(char *)"--log-level=lib.eal:error",
		/* The CLI prints its own one-line error; the library's would repeat it. */
		(char *)(a->verbose ? "--log-level=zcsign:debug" : "--log-level=zcsign:critical"),
		NULL,
	};
	int argc = (int)RTE_DIM(argv) - 1;

	if (!primary_alive(a))
		return no_engine(a);
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", prefix_of(a));
	if (lcores_arg(lcores, sizeof(lcores)) != 0)
		snprintf(lcores, sizeof(lcores), "-l0");
	/* Before rte_eal_init: the EAL's console log would go to stdout, into the JSON. */
	rte_openlog_stream(stderr);
	if (rte_eal_init(argc, argv) < 0)
		return cli_fail(CLI_EXIT_RUNTIME,
			"cannot attach to zcsignd (file prefix %s): it runs, but this process "
			"cannot join it as a DPDK secondary: %s (see the EAL lines above)",
			prefix_of(a), rte_strerror(rte_errno));
	return 0;
}

/* ---- one request ---- */

static int
submit_refused(const struct cli_args *a, int rc, unsigned int shard)
{
	switch (rc) {
	case -EBUSY:
		return cli_fail(CLI_EXIT_RUNTIME,
			"account %" PRIu64 ": zcsignd refused the request: shard %u's ring is "
			"full (backpressure); retry",
			a->account, shard);
	case -ENOBUFS:
		return cli_fail(CLI_EXIT_RUNTIME,
			"account %" PRIu64 ": zcsignd refused the request: its request pool is "
			"empty (too much in flight); retry",
			a->account);
	case -ESHUTDOWN:
		return cli_fail(CLI_EXIT_RUNTIME,
			"account %" PRIu64 ": zcsignd (file prefix %s) is stopping", a->account,
			prefix_of(a));
	default:
		return cli_fail(CLI_EXIT_RUNTIME, "account %" PRIu64 ": zcsignd refused: %s",
			a->account, strerror(-rc));
	}
}

/*
 * Wait for the completion of the request with cookie, copied into out (the
 * object goes back to the pool). A completion nobody waits for cannot reach
 * this slot (one request at a time, and zcs_poll drops a previous owner's),
 * but one would be released, not mistaken for ours.
 */
static int
await_completion(struct zcs_client *c, const struct cli_args *a, uint64_t cookie,
	unsigned int shard, struct zcs_request *out)
{
	uint64_t start = rte_rdtsc();
	uint64_t spin = zcs_ns_to_tsc((uint64_t)POLL_SPIN_US * 1000);
	uint64_t limit = zcs_ns_to_tsc((uint64_t)COMPLETION_TIMEOUT_MS * 1000000);
	struct zcs_request *r;

	for (;;) {
		if (zcs_poll(c, &r, 1) == 1) {
			bool mine = r->cookie == cookie;

			if (mine)
				*out = *r;
			zcs_release(c, &r, 1);
			if (mine)
				return 0;
			continue;
		}
		if (rte_rdtsc() - start > limit)
			return cli_fail(CLI_EXIT_RUNTIME,
				"account %" PRIu64 ": no completion from zcsignd (file prefix "
				"%s) within %d ms: is shard %u's worker stuck? (see zcsignd's log)",
				a->account, prefix_of(a), COMPLETION_TIMEOUT_MS, shard);
		if (rte_rdtsc() - start > spin)
			rte_delay_us_sleep(POLL_SLEEP_US);
		else
			rte_pause();
	}
}

static int
completion_status(const struct cli_args *a, const struct zcs_request *r)
{
	if (r->status == ZCS_OK)
		return 0;
	return cli_fail(CLI_EXIT_RUNTIME, "account %" PRIu64 " (shard %u): %s (%s)", a->account,
		r->shard, zcs_strerror(r->status), zcs_status_name(r->status));
}

static int
request_pubkey(
	struct zcs_client *c, const struct cli_args *a, unsigned int shard, struct zcs_request *out)
{
	int rc = zcs_submit_pubkey(c, a->account, PUBKEY_COOKIE);

	if (rc != 0)
		return submit_refused(a, rc, shard);
	rc = await_completion(c, a, PUBKEY_COOKIE, shard, out);
	return rc != 0 ? rc : completion_status(a, out);
}

static uint64_t
latency_ns(const struct zcs_request *r)
{
	return zcs_tsc_to_ns(r->done_tsc - r->submit_tsc);
}

static int
cmd_sign(struct zcs_client *c, const struct cli_args *a, unsigned int shard)
{
	const struct zcs_sign_args args = {
		.account = a->account,
		.cookie = SIGN_COOKIE,
		.algo = a->algo,
		.hash = a->hash,
	};
	struct zcs_request sig, pk;
	int rc;

	rc = zcs_submit(c, &args);
	if (rc != 0)
		return submit_refused(a, rc, shard);
	rc = await_completion(c, a, SIGN_COOKIE, shard, &sig);
	if (rc == 0)
		rc = completion_status(a, &sig);
	/* The key that verifies this signature, so the output is self-contained. */
	if (rc == 0)
		rc = request_pubkey(c, a, shard, &pk);
	if (rc != 0)
		return rc;
	return cli_print_sign(
		a, sig.sig, sig.recid, pk.sig, sig.shard, sig.signer_ns, latency_ns(&sig));
}

static int
cmd_pubkey(struct zcs_client *c, const struct cli_args *a, unsigned int shard)
{
	struct zcs_request pk;
	int rc;

	rc = request_pubkey(c, a, shard, &pk);
	if (rc != 0)
		return rc;
	/* The completion carries the compressed key; its x coordinate is the x-only key. */
	return cli_print_pubkey(a, pk.sig, pk.sig + 1, pk.shard, latency_ns(&pk));
}

static int
attach_failed(const struct cli_args *a)
{
	switch (rte_errno) {
	case ENOENT:
		return cli_fail(CLI_EXIT_RUNTIME,
			"DPDK process group %s has no zcsignd engine: its primary is another "
			"program, or zcsignd has not started its engine yet",
			prefix_of(a));
	case ENOSPC:
		return cli_fail(CLI_EXIT_RUNTIME,
			"zcsignd (file prefix %s): every client slot is taken (raise "
			"client_slots in its [engine] config)",
			prefix_of(a));
	case EPROTO:
		return cli_fail(CLI_EXIT_RUNTIME,
			"zcsignd (file prefix %s) was built with another zcsign layout: use the "
			"zcsign-cli of the same build",
			prefix_of(a));
	default:
		return cli_fail(CLI_EXIT_RUNTIME, "zcsignd (file prefix %s): cannot attach: %s",
			prefix_of(a), rte_strerror(rte_errno));
	}
}

static int
run_request(const struct cli_args *a)
{
	struct zcs_client *c = zcs_attach(CLI_PROG);
	unsigned int shard;
	int rc;

	if (c == NULL)
		return attach_failed(a);
	shard = zcs_shard_of(a->account, zcs_shard_count(c));
	rc = a->cmd_id == CMD_SIGN ? cmd_sign(c, a, shard) : cmd_pubkey(c, a, shard);
	zcs_detach(c);
	return rc;
}

/* ---- status ---- */

/* "key":"<hex>", or "key":null when there is none (never connected, not configured). */
static void
print_measurement(const char *key, const uint8_t m[ZCS_MEASUREMENT_LEN], bool present)
{
	char hex[2 * ZCS_MEASUREMENT_LEN + 1];

	if (!present) {
		printf("\"%s\":null", key);
		return;
	}
	zcs_hex_encode(m, ZCS_MEASUREMENT_LEN, hex);
	printf("\"%s\":\"%s\"", key, hex);
}

/* ,"refused_reason": why the shard is refused (JSON-escaped), or null. */
static void
print_reason(const char *r)
{
	if (r[0] == '\0') {
		printf(",\"refused_reason\":null");
		return;
	}
	printf(",\"refused_reason\":\"");
	for (; *r != '\0'; r++)
		if (*r == '"' || *r == '\\')
			printf("\\%c", *r);
		else if ((unsigned char)*r < 0x20 || (unsigned char)*r > 0x7e)
			putchar('?');
		else
			putchar(*r);
	putchar('"');
}

static void
print_shard(const struct zcs_shard_info *si)
{
	const char *nonce = zcs_nonce_mode_name(si->signer_nonce_mode);
	unsigned int s, listed = 0;

	printf("{\"shard\":%u,\"state\":\"%s\",\"endpoint\":\"%s\",\"lcore\":%" PRIu32
	       ",\"in_flight\":%" PRIu64 ",\"queued\":%u,\"dequeued\":%" PRIu64 ",\"sent\":%" PRIu64
	       ",\"signed\":%" PRIu64 ",\"expired\":%" PRIu64 ",\"failed\":%" PRIu64
	       ",\"by_status\":{",
		si->shard, zcs_shard_conn_name(si->state), si->endpoint, si->lcore, si->inflight,
		si->ring_count, si->dequeued, si->sent, si->signed_ok, si->expired, si->failed);
	for (s = 0; s < ZCS_STATUS_MAX; s++)
		if (si->by_status[s] != 0)
			printf("%s\"%s\":%" PRIu64, listed++ ? "," : "", zcs_status_name((int)s),
				si->by_status[s]);
	printf("},\"connects\":%" PRIu64 ",\"disconnects\":%" PRIu64 ",\"signer_keys\":%" PRIu32
	       ",\"signer_key_source\":\"%s\",",
		si->connects, si->disconnects, si->signer_keys,
		si->signer_key_source != 0 ? zcs_key_source_name(si->signer_key_source)
					   : "unknown");
	/* null while the mode has no name: 0 until a signer's first HELLO reply. */
	if (nonce != NULL)
		printf("\"nonce_mode\":\"%s\",", nonce);
	else
		printf("\"nonce_mode\":null,");
	print_measurement("measurement", si->signer_measurement, si->has_signer_measurement);
	putchar(',');
	print_measurement(
		"expected_measurement", si->expected_measurement, si->has_expected_measurement);
	print_reason(si->refused_reason);
	putchar('}');
}

static void
print_clients(const struct zcs_engine_shared *sh, unsigned int slots)
{
	struct zcs_client_info ci;
	unsigned int i, listed = 0;

	printf("\"clients\":[");
	for (i = 0; i < slots; i++) {
		if (zcs_client_info(sh, i, &ci) != 0)
			continue; /* a free slot */
		printf("%s{\"slot\":%u,\"name\":\"%s\",\"pid\":%" PRId32 ",\"submitted\":%" PRIu64
		       ",\"refused\":%" PRIu64 ",\"completed\":%" PRIu64 ",\"stale\":%" PRIu64 "}",
			listed++ ? "," : "", ci.slot, ci.name, ci.pid, ci.submitted, ci.refused,
			ci.completed, ci.stale);
	}
	printf("]");
}

static int
cmd_status(const struct cli_args *a)
{
	const struct zcs_engine_shared *sh = zcs_shards_lookup();
	struct zcs_engine_info ei;
	struct zcs_shard_info si;
	unsigned int i;

	if (sh == NULL)
		return attach_failed(a);
	zcs_engine_info(sh, &ei);
	printf("{\"file_prefix\":\"%s\",\"engine\":{\"shards\":%u,\"client_slots\":%u,"
	       "\"client_slots_used\":%u,\"stopping\":%s,\"uptime_s\":%.3f,\"ring_size\":%" PRIu32
	       ",\"undeliverable\":%" PRIu64 "},",
		prefix_of(a), ei.shard_count, ei.client_slots, ei.client_slots_used,
		ei.stopping ? "true" : "false",
		ei.tsc_hz != 0 ? (double)ei.uptime_tsc / ei.tsc_hz : 0.0, ei.ring_size,
		ei.undeliverable);
	print_clients(sh, ei.client_slots);
	printf(",\"shards\":[");
	for (i = 0; zcs_shard_info(sh, i, &si) == 0; i++) {
		if (i > 0)
			putchar(',');
		print_shard(&si);
	}
	printf("]}\n");
	return cli_flush_stdout();
}

/* ---- entry ---- */

int
cli_engine_run(const struct cli_args *a)
{
	int rc;

	rc = eal_start(a);
	if (rc != 0)
		return rc;
	rc = a->cmd_id == CMD_STATUS ? cmd_status(a) : run_request(a);
	rte_eal_cleanup();
	return rc;
}
