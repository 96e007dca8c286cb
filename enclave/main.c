/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-enclave: the signer of one shard. Holds the shard's keys, listens on
 * one endpoint, serves one client (the engine's worker) at a time.
 *
 *   zcsign-enclave --listen unix:PATH|vsock:PORT --keys FILE [--idle spin|backoff]
 *
 * Exit status: 0 after SIGINT/SIGTERM, 1 on a setup failure (keys, address,
 * socket), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <zcsign/wire.h>

#include "addr.h"
#include "hex.h"
#include "keystore.h"
#include "serve.h"
#include "sign.h"

#define PROG "zcsign-enclave"

static atomic_int stop_flag;

struct options {
	const char *listen;
	const char *keys;
	int idle;
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
		"usage: " PROG " --listen unix:PATH|vsock:PORT --keys FILE [--idle spin|backoff]\n"
		"  --listen ADDR   endpoint to serve: unix:PATH (dev) or vsock:PORT (enclave)\n"
		"  --keys FILE     this shard's key file (mode 0600, from zcsign-keygen)\n"
		"  --idle MODE     spin: busy-poll, lowest latency (default);\n"
		"                  backoff: sleep in poll() after ~50 us idle (shared cores)\n"
		"  --help          this text\n");
}

/* Returns 0, 1 for --help, or -1 after printing a one-line usage error. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"keys", required_argument, NULL, 'k'},
		{"idle", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->idle = ZCS_IDLE_SPIN;
	opterr = 0; /* our own messages: one line, naming the option */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'k':
			o->keys = optarg;
			break;
		case 'i':
			o->idle = zcs_idle_parse(optarg);
			if (o->idle == 0) {
				fprintf(stderr, PROG ": --idle '%s': expected spin or backoff\n",
					optarg);
				return -1;
			}
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
	if (o->listen == NULL || o->keys == NULL) {
		fprintf(stderr, PROG ": missing %s (see --help)\n",
			o->listen == NULL ? "--listen ADDR" : "--keys FILE");
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
print_ready(const struct zcs_keystore *ks, const struct zcs_addr *addr, int idle,
	const uint8_t measurement[ZCS_MEASUREMENT_LEN])
{
	char name[160];
	char hex[2 * ZCS_MEASUREMENT_LEN + 1];

	zcs_hex_encode(measurement, ZCS_MEASUREMENT_LEN, hex);
	hex[16] = '\0';
	fprintf(stderr,
		PROG ": shard %u/%u, %u keys, listening on %s, idle %s, measurement %s...\n",
		ks->shard_id, ks->shard_count, ks->count, zcs_addr_format(addr, name, sizeof(name)),
		zcs_idle_name(idle), hex);
}

/* Everything after the key store is loaded; returns the exit status. */
static int
serve(const secp256k1_context *ctx, const struct zcs_keystore *ks, const struct zcs_addr *addr,
	int idle)
{
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	char err[256];
	int rc, lfd;

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
		return 1;
	}
	conf.ctx = ctx;
	conf.ks = ks;
	conf.listen_fd = lfd;
	conf.idle = idle;
	conf.stop = &stop_flag;
	srv = zcs_serve_create(&conf);
	if (srv == NULL) {
		fprintf(stderr, PROG ": cannot create the server: %s\n", strerror(errno));
		rc = 1;
	} else {
		print_ready(ks, addr, idle, conf.measurement);
		zcs_serve_run(srv);
		zcs_serve_destroy(srv);
		fprintf(stderr, PROG ": stopping\n");
		rc = 0;
	}
	close(lfd);
	if (addr->kind == ZCS_ADDR_UNIX)
		unlink(addr->path);
	return rc;
}

int
main(int argc, char **argv)
{
	struct zcs_keystore ks;
	struct options o;
	struct zcs_addr addr;
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
	ctx = zcs_sign_ctx_create();
	if (ctx == NULL) {
		fprintf(stderr, PROG ": cannot create the signing context: %s\n", strerror(errno));
		return 1;
	}
	memset(&ks, 0, sizeof(ks));
	if (zcs_keystore_load(&ks, ctx, o.keys, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		zcs_sign_ctx_destroy(ctx);
		return 1;
	}
	rc = serve(ctx, &ks, &addr, o.idle);
	zcs_keystore_wipe(&ks);
	zcs_sign_ctx_destroy(ctx);
	return rc;
}
