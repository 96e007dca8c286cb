/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-enclave: the signer of one shard. Holds the shard's keys, listens on
 * one endpoint, serves one client (the engine's worker) at a time; takes key
 * bundles on a second endpoint, the control address (provision.h).
 *
 *   zcsign-enclave --listen unix:PATH|vsock:PORT --shard I/N [--control ADDR]
 *                  [--attest dev:PREFIX|nitro] [--idle spin|backoff|yield]
 *                  [--nonce precomputed|rfc6979|hedged] [--presig-ecdsa N] ...
 *   zcsign-enclave --listen ... --insecure-dev-keys FILE     (dev boxes only)
 *
 * It starts sealed: no keys, every SIGN answered "sealed", until a
 * provisioner (zcsign-cli provision) has verified its attestation and sent a
 * key bundle sealed to it. --insecure-dev-keys loads a plaintext key file
 * instead, and says so in its log, its attestation user_data and HELLO.
 *
 * Exit status: 0 after SIGINT/SIGTERM, 1 on a setup failure (self-test, keys,
 * address, socket, presignature pools), 2 on a usage error.
 */
#define _GNU_SOURCE /* CPU_SETSIZE */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "hex.h"
#include "keystore.h"
#include "num.h"
#include "presig.h"
#include "attest_source.h"
#include "peer.h"
#include "provision.h"
#include "serve.h"
#include "sign.h"

#define PROG "zcsign-enclave"

static atomic_int stop_flag;

struct options {
	const char *listen;
	const char *control; /* --control; NULL: derived from --listen (zcs_addr_control) */
	const char *keys; /* --insecure-dev-keys */
	bool shard_given;
	uint16_t shard_id, shard_count;
	int idle;
	uint32_t idle_spin_us; /* backoff: spin this long before sleeping */
	unsigned int nonce;
	bool verify;
	struct zcs_presig_conf presig;
	struct zcs_peer_policy peers; /* --allow-uid, --allow-cid; empty: the default */
	uint32_t handshake_timeout_ms;
	bool any_shard;
	const char *attest; /* --attest dev:PREFIX|nitro, or NULL */
};

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop_flag, 1, memory_order_relaxed);
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG
		" --listen unix:PATH|vsock:PORT --shard I/N [--control ADDR] [--attest SRC]\n"
		"       [--insecure-dev-keys FILE] [--idle spin|backoff|yield]\n"
		"       [--idle-spin-us N] [--nonce precomputed|rfc6979|hedged] [--presig-ecdsa N] "
		"[--presig-schnorr "
		"N]\n"
		"       [--presig-low PCT] [--presig-high PCT] [--refill-cpu CPU] [--verify]\n"
		"  --listen ADDR        endpoint to serve: unix:PATH (dev) or vsock:PORT "
		"(enclave)\n"
		"  --shard I/N          the shard this signer serves; it starts sealed (no keys)\n"
		"                       until provisioned (zcsign-cli provision)\n"
		"  --control ADDR       provisioning endpoint (default: unix:PATH.ctl, or vsock\n"
		"                       port + 1)\n"
		"  --insecure-dev-keys FILE  load a plaintext key file (zcsign-keygen\n"
		"                       --insecure-plaintext; mode 0600) instead of starting\n"
		"                       sealed: dev boxes only, labelled so everywhere\n"
		"  --idle MODE          spin: busy-poll, lowest latency (default);\n"
		"                       backoff: sleep in poll() after --idle-spin-us idle (shared "
		"cores);\n"
		"                       yield: busy-poll, sched_yield() when idle (a core shared\n"
		"                       with a polling client that yields too: no wake-ups)\n"
		"  --idle-spin-us N     backoff: spin N us idle before sleeping (default 50; 0 on "
		"a\n"
		"                       core shared with the client)\n"
		"  --nonce MODE         precomputed (default): random nonces, k*G done ahead by a\n"
		"                       refill thread, RFC 6979 when a pool is empty;\n"
		"                       rfc6979: deterministic (BIP-340 with zero aux);\n"
		"                       hedged: RFC 6979 / BIP-340 with 32 fresh random bytes\n"
		"  --presig-ecdsa N     ECDSA presignature pool capacity (default %u, 0: none)\n"
		"  --presig-schnorr N   BIP-340 presignature pool capacity (default %u, 0: none)\n"
		"  --presig-low PCT     refill a pool below PCT %% of capacity (default %u)\n"
		"  --presig-high PCT    ... up to PCT %% (default %u)\n"
		"  --refill-cpu CPU     pin the refill thread (SCHED_IDLE, else nice 19) to CPU\n"
		"  --verify             verify every signature before replying (~25 us each)\n"
		"  --allow-uid UID      unix: serve peers of this uid (repeatable; default: this\n"
		"                       process's uid only; the socket is created mode 0600)\n"
		"  --allow-cid CID      vsock: serve peers of this CID (repeatable; default: 3, "
		"the\n"
		"                       parent instance)\n"
		"  --handshake-timeout-ms N  close a connection without HELLO after N ms\n"
		"                       (default 1000)\n"
		"  --allow-any-shard    serve a HELLO that names no shard (default: a client must\n"
		"                       name this signer's shard)\n"
		"  --attest SRC         answer ATTEST with a Nitro-format document: nitro (the\n"
		"                       NSM, inside an enclave) or dev:PREFIX (a zcsign-attest-ca\n"
		"                       leaf: PREFIX.key, .pem, .bundle.pem; dev PCRs)\n"
		"  --help               this text\n",
		ZCS_PRESIG_DEFAULT_CAPACITY, ZCS_PRESIG_DEFAULT_CAPACITY,
		ZCS_PRESIG_DEFAULT_LOW_PCT, ZCS_PRESIG_DEFAULT_HIGH_PCT);
}

/* A decimal in [0, max] for option name. Returns 0, or -1 after a usage error. */
static int
parse_uint(const char *name, const char *text, uint64_t max, uint64_t *out)
{
	if (zcs_parse_u64(text, max, out) == 0)
		return 0;
	fprintf(stderr, PROG ": --%s '%s': expected an integer from 0 to %" PRIu64 "\n", name, text,
		max);
	return -1;
}

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* The numeric options: the backoff spin, the presignature pools', the peer checks'. */
static int
parse_number(int c, const char *arg, struct options *o)
{
	uint64_t v;

	switch (c) {
	case 'I':
		if (parse_uint("idle-spin-us", arg, 1000000, &v) < 0)
			return -1;
		o->idle_spin_us = (uint32_t)v;
		return 0;
	case 'E':
		if (parse_uint("presig-ecdsa", arg, ZCS_PRESIG_MAX_CAPACITY, &v) < 0)
			return -1;
		o->presig.capacity[ZCS_PRESIG_ECDSA] = (uint32_t)v;
		return 0;
	case 'S':
		if (parse_uint("presig-schnorr", arg, ZCS_PRESIG_MAX_CAPACITY, &v) < 0)
			return -1;
		o->presig.capacity[ZCS_PRESIG_SCHNORR] = (uint32_t)v;
		return 0;
	case 'L':
		if (parse_uint("presig-low", arg, 99, &v) < 0)
			return -1;
		o->presig.low_pct = (uint32_t)v;
		return 0;
	case 'H':
		if (parse_uint("presig-high", arg, 100, &v) < 0)
			return -1;
		o->presig.high_pct = (uint32_t)v;
		return 0;
	case 'U':
		if (parse_uint("allow-uid", arg, UINT32_MAX - 1, &v) < 0)
			return -1;
		if (o->peers.nuids == ZCS_PEER_ALLOW_MAX)
			return usage_error("--allow-uid: at most %d", ZCS_PEER_ALLOW_MAX);
		o->peers.uids[o->peers.nuids++] = (uid_t)v;
		return 0;
	case 'D':
		if (parse_uint("allow-cid", arg, UINT32_MAX - 1, &v) < 0)
			return -1;
		if (o->peers.ncids == ZCS_PEER_ALLOW_MAX)
			return usage_error("--allow-cid: at most %d", ZCS_PEER_ALLOW_MAX);
		o->peers.cids[o->peers.ncids++] = (uint32_t)v;
		return 0;
	case 'T':
		if (parse_uint("handshake-timeout-ms", arg, 600000, &v) < 0)
			return -1;
		if (v == 0)
			return usage_error("--handshake-timeout-ms: must be at least 1");
		o->handshake_timeout_ms = (uint32_t)v;
		return 0;
	default: /* 'C' */
		if (parse_uint("refill-cpu", arg, CPU_SETSIZE - 1, &v) < 0)
			return -1;
		o->presig.refill_cpu = (int)v;
		return 0;
	}
}

/* Returns 0, 1 for --help, or -1 after printing a one-line usage error. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"keys", required_argument, NULL, 'K'},
		{"insecure-dev-keys", required_argument, NULL, 'k'},
		{"shard", required_argument, NULL, 's'},
		{"control", required_argument, NULL, 'c'},
		{"idle", required_argument, NULL, 'i'},
		{"idle-spin-us", required_argument, NULL, 'I'},
		{"nonce", required_argument, NULL, 'n'},
		{"presig-ecdsa", required_argument, NULL, 'E'},
		{"presig-schnorr", required_argument, NULL, 'S'},
		{"presig-low", required_argument, NULL, 'L'},
		{"presig-high", required_argument, NULL, 'H'},
		{"refill-cpu", required_argument, NULL, 'C'},
		{"verify", no_argument, NULL, 'v'},
		{"allow-uid", required_argument, NULL, 'U'},
		{"allow-cid", required_argument, NULL, 'D'},
		{"handshake-timeout-ms", required_argument, NULL, 'T'},
		{"allow-any-shard", no_argument, NULL, 'A'},
		{"attest", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->idle = ZCS_POLL_SPIN;
	o->idle_spin_us = ZCS_SERVE_BACKOFF_SPIN_NS / 1000;
	o->nonce = ZCS_NONCE_PRECOMPUTED;
	zcs_presig_conf_default(&o->presig);
	opterr = 0; /* our own messages: one line, naming the option */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'k':
			o->keys = optarg;
			break;
		case 'K':
			fprintf(stderr,
				PROG ": --keys is gone: a signer starts sealed and is "
				     "provisioned (zcsign-cli provision); a plaintext key "
				     "file is --insecure-dev-keys FILE (dev boxes only)\n");
			return -1;
		case 's':
			if (zcs_parse_shard(optarg, &o->shard_id, &o->shard_count) != 0) {
				fprintf(stderr,
					PROG ": --shard '%s': expected I/N with I < N <= %d\n",
					optarg, ZCS_MAX_SHARDS);
				return -1;
			}
			o->shard_given = true;
			break;
		case 'c':
			o->control = optarg;
			break;
		case 'i':
			o->idle = zcs_poll_mode_parse(optarg);
			if (o->idle < 0) {
				fprintf(stderr,
					PROG ": --idle '%s': expected spin, backoff or yield\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			o->nonce = zcs_nonce_mode_parse(optarg);
			if (o->nonce == 0) {
				fprintf(stderr,
					PROG ": --nonce '%s': expected precomputed, rfc6979 or "
					     "hedged\n",
					optarg);
				return -1;
			}
			break;
		case 'I':
		case 'E':
		case 'S':
		case 'L':
		case 'H':
		case 'C':
		case 'U':
		case 'D':
		case 'T':
			if (parse_number(c, optarg, o) < 0)
				return -1;
			break;
		case 'v':
			o->verify = true;
			break;
		case 'A':
			o->any_shard = true;
			break;
		case 'a':
			o->attest = optarg;
			break;
		case 'h':
			return 1;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs a value (see --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (o->listen == NULL || (o->keys == NULL && !o->shard_given)) {
		fprintf(stderr, PROG ": missing %s (see --help)\n",
			o->listen == NULL ? "--listen ADDR" : "--shard I/N");
		return -1;
	}
	if (o->presig.low_pct >= o->presig.high_pct) {
		fprintf(stderr, PROG ": --presig-low (%u) must be below --presig-high (%u)\n",
			o->presig.low_pct, o->presig.high_pct);
		return -1;
	}
	return 0;
}

/* No SA_RESTART: a signal must cut a poll() short so the loop sees the flag. */
static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -errno;
	/* A client that vanishes must cost an EPIPE, never the signer. */
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static void
print_ready(const struct zcs_keystore *ks, const struct zcs_addr *addr, const struct zcs_addr *ctl,
	const struct options *o, const struct zcs_presig *presig,
	const uint8_t measurement[ZCS_MEASUREMENT_LEN])
{
	char name[160], ctl_name[160], pools[160] = "";
	char hex[2 * ZCS_MEASUREMENT_LEN + 1];

	zcs_hex_encode(measurement, ZCS_MEASUREMENT_LEN, hex);
	hex[16] = '\0';
	if (presig != NULL) {
		char cpu[32] = "any cpu";

		if (o->presig.refill_cpu >= 0)
			snprintf(cpu, sizeof(cpu), "cpu %d", o->presig.refill_cpu);
		snprintf(pools, sizeof(pools),
			" (pools: ecdsa %u, schnorr %u, refill %u..%u %%, %s, %s)",
			o->presig.capacity[ZCS_PRESIG_ECDSA],
			o->presig.capacity[ZCS_PRESIG_SCHNORR], o->presig.low_pct,
			o->presig.high_pct, zcs_presig_priority(presig), cpu);
	}
	if (ks->source == ZCS_KEYS_DEV)
		fprintf(stderr,
			PROG ": INSECURE: %u keys loaded from the plaintext file %s "
			     "(--insecure-dev-keys): any root on this host can read them\n",
			ks->count, o->keys);
	fprintf(stderr,
		PROG
		": shard %u/%u, %s, %u keys, listening on %s, control %s, idle %s, nonce %s%s, "
		"verify %s, measurement %s...\n",
		ks->shard_id, ks->shard_count, zcs_key_source_name(ks->source), ks->count,
		zcs_addr_format(addr, name, sizeof(name)),
		zcs_addr_format(ctl, ctl_name, sizeof(ctl_name)), zcs_poll_mode_name(o->idle),
		zcs_nonce_mode_name(o->nonce), pools, o->verify ? "on" : "off", hex);
}

/* The control address: --control, or derived from --listen. 0, or -1 after a message. */
static int
control_addr(const struct options *o, const struct zcs_addr *addr, struct zcs_addr *ctl)
{
	char err[256];
	int rc;

	if (o->control != NULL) {
		if (zcs_addr_parse(o->control, true, ctl, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, PROG ": --control %s\n", err);
		return -1;
	}
	rc = zcs_addr_control(addr, ctl);
	if (rc == 0)
		return 0;
	fprintf(stderr, PROG ": no control address follows --listen %s (%s): give --control\n",
		o->listen, strerror(-rc));
	return -1;
}

static void
unlisten(int fd, const struct zcs_addr *a)
{
	if (fd < 0)
		return;
	close(fd);
	if (a->kind == ZCS_ADDR_UNIX)
		unlink(a->path);
}

/*
 * Everything after the key store is loaded (ks: malloc'ed, handed to the
 * provisioner, which wipes it at the end); returns the exit status.
 */
static int
serve(const secp256k1_context *ctx, struct zcs_keystore *ks, const struct zcs_addr *addr,
	const struct zcs_addr *ctl, const struct options *o, struct zcs_presig *presig)
{
	struct zcs_provision_conf pconf;
	struct zcs_provisioner *prov = NULL;
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	uint64_t accepted = 0, refused = 0;
	char err[256];
	int rc, lfd, cfd;

	memset(&conf, 0, sizeof(conf));
	rc = zcs_measure_self(conf.measurement);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot measure /proc/self/exe: %s\n", strerror(-rc));
		return 1;
	}
	rc = install_signals();
	if (rc < 0) {
		fprintf(stderr, PROG ": sigaction: %s\n", strerror(-rc));
		return 1;
	}
	lfd = zcs_addr_listen(addr, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		zcs_keystore_wipe(ks);
		free(ks);
		return 1;
	}
	cfd = zcs_addr_listen(ctl, err, sizeof(err));
	if (cfd < 0) {
		fprintf(stderr, PROG ": control: %s\n", err);
		unlisten(lfd, addr);
		zcs_keystore_wipe(ks);
		free(ks);
		return 1;
	}
	conf.ctx = ctx;
	conf.ks = ks;
	conf.nonce = o->nonce;
	conf.presig = presig;
	conf.verify = o->verify;
	conf.listen_fd = lfd;
	conf.idle = (enum zcs_poll_mode)o->idle;
	conf.backoff_spin_ns = o->idle_spin_us * 1000u;
	conf.stop = &stop_flag;
	conf.listen_kind = addr->kind;
	conf.peers = o->peers; /* empty: zcs_serve_create() takes the default */
	conf.handshake_timeout_ms = o->handshake_timeout_ms;
	conf.any_shard = o->any_shard;
	if (o->attest != NULL) {
		conf.attest = zcs_attest_source_open(
			o->attest, ks->shard_id, ks->shard_count, err, sizeof(err));
		if (conf.attest == NULL) {
			fprintf(stderr, PROG ": %s\n", err);
			unlisten(lfd, addr);
			unlisten(cfd, ctl);
			zcs_keystore_wipe(ks);
			free(ks);
			return 1;
		}
		fprintf(stderr, PROG ": attestation: %s documents (%s)\n",
			zcs_attest_source_kind(conf.attest), o->attest);
	}
	srv = zcs_serve_create(&conf);
	if (srv != NULL) {
		memset(&pconf, 0, sizeof(pconf));
		pconf.ctx = ctx;
		pconf.srv = srv;
		pconf.keys = ks;
		pconf.attest = conf.attest;
		pconf.listen_fd = cfd;
		pconf.listen_kind = ctl->kind;
		pconf.peers = o->peers;
		pconf.stop = &stop_flag;
		pconf.cpu = o->presig.refill_cpu;
		prov = zcs_provision_start(&pconf);
	}
	if (srv == NULL || prov == NULL) {
		fprintf(stderr, PROG ": cannot create the %s: %s\n",
			srv == NULL ? "server" : "control thread", strerror(errno));
		zcs_serve_destroy(srv);
		zcs_keystore_wipe(ks);
		free(ks);
		rc = 1;
	} else {
		print_ready(ks, addr, ctl, o, presig, conf.measurement);
		zcs_serve_run(srv);
		/* The loop has returned: the control thread sees the flag within 100 ms. */
		atomic_store(&stop_flag, 1);
		zcs_provision_counts(prov, &accepted, &refused);
		zcs_provision_stop(prov);
		/* What the signer saw, for the operator: refused peers above all. */
		fprintf(stderr,
			PROG ": stopping: connections %" PRIu64 ", refused busy %" PRIu64
			     ", refused peers %" PRIu64 ", handshake timeouts %" PRIu64
			     ", attestations %" PRIu64 ", bundles %" PRIu64 " (refused %" PRIu64
			     "), signed %" PRIu64 ", errors %" PRIu64 "\n",
			srv->stats.conns_accepted, srv->stats.conns_refused,
			srv->stats.peers_refused, srv->stats.handshake_timeouts,
			srv->stats.attestations, accepted, refused, srv->stats.signed_ok,
			srv->stats.sign_errors);
		zcs_serve_destroy(srv);
		rc = 0;
	}
	zcs_attest_source_close(conf.attest);
	unlisten(lfd, addr);
	unlisten(cfd, ctl);
	return rc;
}

/* Precomputed mode: the pools and their refill thread. NULL after a logged error. */
static struct zcs_presig *
start_presig(const struct options *o)
{
	struct zcs_presig *ps;
	int rc;

	ps = zcs_presig_create(&o->presig);
	if (ps == NULL) {
		fprintf(stderr, PROG ": cannot create the presignature pools: %s%s\n",
			strerror(errno),
			errno == EAGAIN || errno == EPERM || errno == ENOMEM
				? " (locked memory: see ulimit -l, or lower "
				  "--presig-ecdsa/-schnorr)"
				: "");
		return NULL;
	}
	rc = zcs_presig_start(ps);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot start the refill thread%s: %s\n",
			o->presig.refill_cpu >= 0 ? " on --refill-cpu" : "", strerror(-rc));
		zcs_presig_destroy(ps);
		return NULL;
	}
	return ps;
}

/* The store the signer starts with: sealed, or --insecure-dev-keys. NULL after a message. */
static struct zcs_keystore *
initial_keys(const secp256k1_context *ctx, const struct options *o)
{
	struct zcs_keystore *ks = calloc(1, sizeof(*ks));
	char err[256];

	if (ks == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return NULL;
	}
	if (o->keys == NULL) {
		zcs_keystore_sealed(ks, o->shard_id, o->shard_count);
		return ks;
	}
	if (zcs_keystore_load(ks, ctx, o->keys, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		free(ks);
		return NULL;
	}
	if (o->shard_given && (ks->shard_id != o->shard_id || ks->shard_count != o->shard_count)) {
		fprintf(stderr, PROG ": --shard %u/%u, but %s holds shard %u/%u\n", o->shard_id,
			o->shard_count, o->keys, ks->shard_id, ks->shard_count);
		zcs_keystore_wipe(ks);
		free(ks);
		return NULL;
	}
	return ks;
}

int
main(int argc, char **argv)
{
	struct zcs_keystore *ks;
	struct zcs_presig *presig = NULL;
	struct options o;
	struct zcs_addr addr, ctl;
	secp256k1_context *ctx;
	char err[256];
	int rc;

	/* Before anything touches a key: no core dump, no ptrace by other users. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		fprintf(stderr, PROG ": prctl(PR_SET_DUMPABLE): %s\n", strerror(errno));
		return 1;
	}
	memset(&o, 0, sizeof(o));
	rc = parse_args(argc, argv, &o);
	if (rc < 0)
		return 2;
	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	/* Checked before the keys are loaded, so a typo costs nothing. */
	if (zcs_addr_parse(o.listen, true, &addr, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": --listen %s\n", err);
		return 1;
	}
	if (control_addr(&o, &addr, &ctl) != 0)
		return 1;
	/* OpenSSL's private keys (the provisioning keys) in locked memory too. */
	if (zcs_secure_heap_init() != 0) {
		fprintf(stderr,
			PROG ": cannot set up OpenSSL's secure heap (locked memory: see "
			     "ulimit -l)\n");
		return 1;
	}
	ctx = zcs_sign_ctx_create();
	if (ctx == NULL) {
		fprintf(stderr, PROG ": cannot create the signing context: %s\n", strerror(errno));
		return 1;
	}
	/* A signer that cannot make a good signature must not make any. */
	if (zcs_selftest(ctx, o.nonce, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s: refusing to serve\n", err);
		zcs_sign_ctx_destroy(ctx);
		return 1;
	}
	ks = initial_keys(ctx, &o);
	if (ks == NULL) {
		zcs_sign_ctx_destroy(ctx);
		return 1;
	}
	if (o.nonce == ZCS_NONCE_PRECOMPUTED)
		presig = start_presig(&o);
	if (o.nonce == ZCS_NONCE_PRECOMPUTED && presig == NULL) {
		zcs_keystore_wipe(ks);
		free(ks);
		rc = 1;
	} else {
		rc = serve(ctx, ks, &addr, &ctl, &o, presig); /* wipes ks */
	}
	zcs_presig_destroy(presig);
	zcs_sign_ctx_destroy(ctx);
	return rc;
}
