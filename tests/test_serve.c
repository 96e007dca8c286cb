/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * enclave/serve.c: the signer's connection loop, run in a thread on a unix
 * socket in a temp dir (backoff idle), driven by a client in the test thread.
 * What the engine and zcsign-cli rely on: the handshake and its checks, every
 * reply in order with the request's seq, every signature verifying, non-fatal
 * statuses keeping the connection, fatal ones closing it with ERROR while the
 * signer lives on, one client at a time, and a clean stop. Nonce modes: the
 * HELLO_REPLY and STATS_REPLY carry the real one; precomputed signs from the
 * pools and falls back when they run dry (STATS counts it); verify-after-sign
 * withholds a signature that does not verify.
 */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/shard.h>
#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "hex.h"
#include "clock.h"
#include "keystore.h"
#include "presig.h"
#include "secp_util.h"
#include "serve.h"
#include "sign.h"

/* The handshake deadline of the servers under test: far beyond a loaded box's pauses. */
#define HANDSHAKE_MS 60000
#define NKEYS 6
#define SHARD_ID 1
#define SHARD_COUNT 4

struct fixture {
	char dir[64];
	char keyfile[128];
	char logfile[128];
	struct zcs_addr addr;
	secp256k1_context *ctx; /* the signer's */
	secp256k1_context *vctx; /* the client's, for verify */
	struct zcs_keystore ks;
	int lfd;
	struct zcs_server *srv;
	struct zcs_serve_stats stats; /* copied after the loop stopped */
	atomic_int stop;
	pthread_t thread;
	bool running;
	int saved_stderr;
	uint64_t accounts[NKEYS];
	uint64_t unknown_account; /* of this shard, not in the key file */
	secp256k1_pubkey pubs[NKEYS];
	uint8_t compressed[NKEYS][33];
	uint8_t xonly[NKEYS][32];
	uint8_t measurement[ZCS_MEASUREMENT_LEN];
};

/* ---- fixture ---- */

static void
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* A key file of shard 1/4, written the way zcsign-keygen does (mode 0600). */
static void
write_keys(struct fixture *f)
{
	uint8_t seckey[32];
	char line[128], hex[65];
	uint64_t a = 1000;
	int fd, i;

	fd = open(f->keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	snprintf(line, sizeof(line),
		"# test_serve keys\nzcsign-keys v1 shard=%d shards=%d keys=%d\n", SHARD_ID,
		SHARD_COUNT, NKEYS);
	write_all(fd, line, strlen(line));
	for (i = 0; i <= NKEYS; i++) {
		while (zcs_shard_of(a, SHARD_COUNT) != SHARD_ID)
			a++;
		if (i == NKEYS) {
			f->unknown_account = a;
			break;
		}
		f->accounts[i] = a++;
		do
			secp_random(seckey, sizeof(seckey));
		while (!secp256k1_ec_seckey_verify(f->vctx, seckey));
		{
			secp256k1_keypair kp;
			secp256k1_xonly_pubkey xpub;
			size_t len = 33;

			assert_true(secp256k1_ec_pubkey_create(f->vctx, &f->pubs[i], seckey));
			assert_true(secp256k1_ec_pubkey_serialize(f->vctx, f->compressed[i], &len,
				&f->pubs[i], SECP256K1_EC_COMPRESSED));
			assert_true(secp256k1_keypair_create(f->vctx, &kp, seckey));
			assert_true(secp256k1_keypair_xonly_pub(f->vctx, &xpub, NULL, &kp));
			assert_true(secp256k1_xonly_pubkey_serialize(f->vctx, f->xonly[i], &xpub));
			explicit_bzero(&kp, sizeof(kp));
		}
		zcs_hex_encode(seckey, 32, hex);
		snprintf(line, sizeof(line), "%" PRIu64 " %s\n", f->accounts[i], hex);
		write_all(fd, line, strlen(line));
	}
	explicit_bzero(seckey, sizeof(seckey));
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(line, sizeof(line));
	close(fd);
}

static void *
serve_thread(void *arg)
{
	struct fixture *f = arg;

	zcs_serve_run(f->srv);
	return NULL;
}

static int
setup_idle(void **state, int idle)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct zcs_serve_conf conf;
	char err[256], text[160];

	assert_non_null(f);
	f->saved_stderr = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/zcs-serve-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->keyfile, sizeof(f->keyfile), "%s/keys", f->dir);
	snprintf(f->logfile, sizeof(f->logfile), "%s/log", f->dir);
	snprintf(text, sizeof(text), "unix:%s/s.sock", f->dir);
	assert_int_equal(zcs_addr_parse(text, true, &f->addr, err, sizeof(err)), 0);

	f->ctx = zcs_sign_ctx_create();
	assert_non_null(f->ctx);
	f->vctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	assert_non_null(f->vctx);
	write_keys(f);
	if (zcs_keystore_load(&f->ks, f->ctx, f->keyfile, err, sizeof(err)) != 0)
		fail_msg("key store: %s", err);
	assert_int_equal(zcs_measure_self(f->measurement), 0);

	f->lfd = zcs_addr_listen(&f->addr, err, sizeof(err));
	if (f->lfd < 0)
		fail_msg("listen: %s", err);
	memset(&conf, 0, sizeof(conf));
	conf.ctx = f->ctx;
	conf.ks = &f->ks;
	memcpy(conf.measurement, f->measurement, sizeof(conf.measurement));
	conf.listen_fd = f->lfd;
	conf.idle = idle;
	conf.stop = &f->stop;
	conf.handshake_timeout_ms = HANDSHAKE_MS;
	f->srv = zcs_serve_create(&conf);
	assert_non_null(f->srv);
	assert_int_equal(pthread_create(&f->thread, NULL, serve_thread, f), 0);
	f->running = true;
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_idle(state, ZCS_POLL_BACKOFF);
}

/* The loop that hands its core over with sched_yield() when idle. */
static int
setup_yield(void **state)
{
	return setup_idle(state, ZCS_POLL_YIELD);
}

/* Stop the loop and wait for it, at most 5 s. Returns 0 or the join error. */
static int
stop_server(struct fixture *f)
{
	struct timespec ts;
	int rc;

	if (!f->running)
		return 0;
	atomic_store(&f->stop, 1);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	rc = pthread_timedjoin_np(f->thread, NULL, &ts);
	if (rc == 0) {
		f->running = false;
		f->stats = f->srv->stats;
	}
	return rc;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->saved_stderr >= 0) {
		dup2(f->saved_stderr, STDERR_FILENO);
		close(f->saved_stderr);
	}
	assert_int_equal(stop_server(f), 0);
	zcs_serve_destroy(f->srv);
	close(f->lfd);
	unlink(f->addr.path);
	zcs_keystore_wipe(&f->ks);
	zcs_sign_ctx_destroy(f->ctx);
	secp256k1_context_destroy(f->vctx);
	unlink(f->keyfile);
	unlink(f->logfile);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- stderr capture, to check the log lines operators rely on ---- */

static void
capture_begin(struct fixture *f)
{
	int fd = open(f->logfile, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(f->saved_stderr >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
}

/* Stop capturing, echo what was captured, and return it (NUL-terminated). */
static void
capture_end(struct fixture *f, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	assert_true(dup2(f->saved_stderr, STDERR_FILENO) >= 0);
	close(f->saved_stderr);
	f->saved_stderr = -1;
	fd = open(f->logfile, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	fputs(buf, stderr);
}

/* ---- client side ---- */

static int
client_connect(struct fixture *f)
{
	struct timeval tv = {.tv_sec = 10};
	char err[256];
	int fd;

	fd = zcs_addr_connect(&f->addr, false, err, sizeof(err));
	if (fd < 0)
		fail_msg("connect: %s", err);
	/* A hung signer fails the test instead of hanging it. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

static void
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0)
			fail_msg("send: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

/* Read exactly len bytes. Returns 0, or -1 at end of stream (or reset). */
static int
recv_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail_msg("recv: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one frame, decode it, and require a valid one. */
static void
recv_frame(int fd, union zcs_wire_frame *f)
{
	uint8_t buf[ZCS_WIRE_MAX_FRAME];
	uint16_t len;
	size_t used = 0;

	if (recv_exact(fd, buf, sizeof(struct zcs_wire_hdr)) != 0)
		fail_msg("connection closed while a frame was expected");
	memcpy(&len, buf + 6, sizeof(len));
	len = le16toh(len);
	assert_in_range(len, sizeof(struct zcs_wire_hdr), sizeof(buf));
	assert_int_equal(recv_exact(fd, buf + sizeof(struct zcs_wire_hdr),
				 len - sizeof(struct zcs_wire_hdr)),
		0);
	assert_int_equal(zcs_wire_decode(buf, len, f, &used), 0);
	assert_int_equal(used, len);
}

/* The signer closed the connection: end of stream (or reset), nothing more. */
static void
expect_closed(int fd)
{
	uint8_t b;

	assert_int_equal(recv_exact(fd, &b, 1), -1);
}

static void
expect_error_and_close(int fd, int status, uint64_t seq)
{
	union zcs_wire_frame f;

	recv_frame(fd, &f);
	assert_int_equal(f.hdr.type, ZCS_FT_ERROR);
	assert_int_equal(f.error.status, status);
	assert_int_equal(f.error.seq, seq);
	expect_closed(fd);
	close(fd);
}

static void
send_hello(int fd, uint16_t shard_id, uint16_t shard_count)
{
	struct zcs_wire_hello h;

	zcs_wire_hello(&h, shard_id, shard_count);
	send_all(fd, &h, sizeof(h));
}

/* Connect and complete the handshake as the engine's worker for shard 1/4. */
static int
client_open(struct fixture *f)
{
	union zcs_wire_frame r;
	int fd = client_connect(f);

	send_hello(fd, SHARD_ID, SHARD_COUNT);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	return fd;
}

/* Check a SIGN_REPLY against the request with libsecp256k1's verify. */
static void
verify_reply(struct fixture *f, const struct zcs_wire_sign_reply *r, uint64_t seq, int key,
	unsigned int algo, const uint8_t hash[32])
{
	assert_int_equal(r->hdr.type, ZCS_FT_SIGN_REPLY);
	assert_int_equal(r->seq, seq);
	assert_int_equal(r->status, ZCS_OK);
	assert_true(r->service_ns > 0 && r->service_ns < UINT64_C(10000000000));
	if (algo == ZCS_ALGO_SCHNORR) {
		secp256k1_xonly_pubkey x;

		assert_int_equal(r->recid, 0);
		assert_true(secp256k1_xonly_pubkey_parse(f->vctx, &x, f->xonly[key]));
		assert_true(secp256k1_schnorrsig_verify(f->vctx, r->sig, hash, 32, &x));
	} else if (algo == ZCS_ALGO_ECDSA) {
		secp256k1_ecdsa_signature s;

		assert_int_equal(r->recid, 0);
		assert_true(secp256k1_ecdsa_signature_parse_compact(f->vctx, &s, r->sig));
		assert_true(secp256k1_ecdsa_verify(f->vctx, &s, hash, &f->pubs[key]));
	} else {
		secp256k1_ecdsa_recoverable_signature rs;
		secp256k1_pubkey got;
		uint8_t comp[33];
		size_t len = sizeof(comp);

		assert_true(secp256k1_ecdsa_recoverable_signature_parse_compact(
			f->vctx, &rs, r->sig, r->recid));
		assert_true(secp256k1_ecdsa_recover(f->vctx, &got, &rs, hash));
		assert_true(secp256k1_ec_pubkey_serialize(
			f->vctx, comp, &len, &got, SECP256K1_EC_COMPRESSED));
		assert_memory_equal(comp, f->compressed[key], 33);
	}
}

/* Sign one random hash and check the reply. */
static void
sign_one(struct fixture *f, int fd, uint64_t seq, int key, unsigned int algo)
{
	struct zcs_wire_sign req;
	union zcs_wire_frame r;
	uint8_t hash[32];

	secp_random(hash, sizeof(hash));
	zcs_wire_sign(&req, seq, f->accounts[key], (uint8_t)algo, hash);
	send_all(fd, &req, sizeof(req));
	recv_frame(fd, &r);
	verify_reply(f, &r.sign_reply, seq, key, algo, hash);
}

static void
expect_sign_status(int fd, uint64_t seq, int status)
{
	static const uint8_t zero[64];
	union zcs_wire_frame r;

	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_SIGN_REPLY);
	assert_int_equal(r.sign_reply.seq, seq);
	assert_int_equal(r.sign_reply.status, status);
	assert_int_equal(r.sign_reply.recid, 0);
	assert_memory_equal(r.sign_reply.sig, zero, 64);
}

/*
 * A fatal frame: sent on a fresh connection (handshaken first when
 * after_hello), answered with ERROR(status) for seq, then closed.
 */
static void
expect_fatal(
	struct fixture *f, bool after_hello, const void *buf, size_t len, int status, uint64_t seq)
{
	int fd = after_hello ? client_open(f) : client_connect(f);

	send_all(fd, buf, len);
	expect_error_and_close(fd, status, seq);
}

/* The signer outlived what came before: a new client is served and its signature verifies. */
static void
assert_still_serves(struct fixture *f, uint64_t seq, int key, unsigned int algo)
{
	int fd = client_open(f);

	sign_one(f, fd, seq, key, algo);
	close(fd);
}

/*
 * A server driven step by step from this thread: no listener, no loop
 * thread, spin idle, the fixture's keys, stopped by *stop.
 */
static void
driven_conf(struct fixture *f, struct zcs_serve_conf *conf, atomic_int *stop)
{
	memset(conf, 0, sizeof(*conf));
	conf->ctx = f->ctx;
	conf->ks = &f->ks;
	conf->listen_fd = -1;
	conf->idle = ZCS_POLL_SPIN;
	conf->stop = stop;
	conf->handshake_timeout_ms = HANDSHAKE_MS;
}

/* A socketpair whose one end srv serves (send buffer sndbuf bytes, 0: default); the other. */
static int
driven_pair(struct zcs_server *srv, int sndbuf)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (sndbuf > 0)
		assert_int_equal(
			setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(zcs_serve_conn_open(srv, sv[0]), 0);
	return sv[1];
}

/* ---- tests ---- */

static void
test_hello(void **state)
{
	struct fixture *f = *state;
	union zcs_wire_frame r;
	int fd;

	fd = client_connect(f);
	send_hello(fd, SHARD_ID, SHARD_COUNT);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	assert_int_equal(r.hello_reply.shard_id, SHARD_ID);
	assert_int_equal(r.hello_reply.shard_count, SHARD_COUNT);
	assert_int_equal(r.hello_reply.key_count, NKEYS);
	assert_int_equal(r.hello_reply.nonce_mode, ZCS_NONCE_RFC6979);
	assert_memory_equal(r.hello_reply.measurement, f->measurement, ZCS_MEASUREMENT_LEN);
	sign_one(f, fd, 1, 0, ZCS_ALGO_ECDSA);
	close(fd);

	/* ZCS_SHARD_ANY names no shard: refused unless the signer allows it (any_shard). */
	fd = client_connect(f);
	send_hello(fd, ZCS_SHARD_ANY, 0);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_ERROR);
	assert_int_equal(r.error.status, ZCS_ERR_WRONG_SHARD);
	close(fd);
}

/* Many requests in one write: all answered, in order, each verifying. */
static void
test_sign_batch(void **state)
{
	enum { N = 300 };
	struct fixture *f = *state;
	struct zcs_wire_sign *reqs = calloc(N, sizeof(*reqs));
	uint8_t(*hashes)[32] = calloc(N, 32);
	unsigned int i;
	int fd;

	assert_non_null(reqs);
	assert_non_null(hashes);
	fd = client_open(f);
	for (i = 0; i < N; i++) {
		secp_random(hashes[i], 32);
		zcs_wire_sign(&reqs[i], 1000 + i, f->accounts[i % NKEYS],
			(uint8_t)(ZCS_ALGO_ECDSA + i % 3), hashes[i]);
	}
	send_all(fd, reqs, N * sizeof(*reqs));
	for (i = 0; i < N; i++) {
		union zcs_wire_frame r;

		recv_frame(fd, &r);
		verify_reply(f, &r.sign_reply, 1000 + i, (int)(i % NKEYS), ZCS_ALGO_ECDSA + i % 3,
			hashes[i]);
	}
	close(fd);
	free(reqs);
	free(hashes);
}

/* The same batch, every signature verified, from a loop in yield idle mode. */
static void
test_sign_batch_yield(void **state)
{
	test_sign_batch(state);
}

static void
test_pubkey(void **state)
{
	static const uint8_t zero[33];
	struct fixture *f = *state;
	struct zcs_wire_pubkey req;
	union zcs_wire_frame r;
	int fd, i;

	fd = client_open(f);
	for (i = 0; i < NKEYS; i++) {
		zcs_wire_pubkey(&req, 50 + (uint64_t)i, f->accounts[i]);
		send_all(fd, &req, sizeof(req));
		recv_frame(fd, &r);
		assert_int_equal(r.hdr.type, ZCS_FT_PUBKEY_REPLY);
		assert_int_equal(r.pubkey_reply.seq, 50 + (uint64_t)i);
		assert_int_equal(r.pubkey_reply.status, ZCS_OK);
		assert_memory_equal(r.pubkey_reply.compressed, f->compressed[i], 33);
		assert_memory_equal(r.pubkey_reply.xonly, f->xonly[i], 32);
	}
	zcs_wire_pubkey(&req, 99, f->unknown_account);
	send_all(fd, &req, sizeof(req));
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_PUBKEY_REPLY);
	assert_int_equal(r.pubkey_reply.seq, 99);
	assert_int_equal(r.pubkey_reply.status, ZCS_ERR_UNKNOWN_ACCOUNT);
	assert_memory_equal(r.pubkey_reply.compressed, zero, 33);
	assert_memory_equal(r.pubkey_reply.xonly, zero, 32);
	close(fd);
}

static void
test_unknown_account(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_sign req;
	uint8_t hash[32];
	int fd;

	secp_random(hash, sizeof(hash));
	fd = client_open(f);
	zcs_wire_sign(&req, 7, f->unknown_account, ZCS_ALGO_ECDSA, hash);
	send_all(fd, &req, sizeof(req));
	expect_sign_status(fd, 7, ZCS_ERR_UNKNOWN_ACCOUNT);
	/* An account of another shard is just as unknown here. */
	zcs_wire_sign(&req, 8, 3, ZCS_ALGO_SCHNORR, hash);
	send_all(fd, &req, sizeof(req));
	expect_sign_status(fd, 8, ZCS_ERR_UNKNOWN_ACCOUNT);
	sign_one(f, fd, 9, 2, ZCS_ALGO_ECDSA_RECOVERABLE);
	close(fd);
}

/* A bad body is answered with its status; the connection goes on. */
static void
test_bad_body_not_fatal(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_sign req[3];
	uint8_t hash[32];
	int fd;

	secp_random(hash, sizeof(hash));
	fd = client_open(f);
	zcs_wire_sign(&req[0], 11, f->accounts[0], 9, hash);
	zcs_wire_sign(&req[1], 12, f->accounts[0], 0, hash);
	zcs_wire_sign(&req[2], 13, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	req[2].reserved[3] = 1;
	send_all(fd, req, sizeof(req));
	expect_sign_status(fd, 11, ZCS_ERR_BAD_ALGO);
	expect_sign_status(fd, 12, ZCS_ERR_BAD_ALGO);
	expect_sign_status(fd, 13, ZCS_ERR_BAD_RESERVED);
	sign_one(f, fd, 14, 0, ZCS_ALGO_ECDSA);
	close(fd);
}

static void
test_sign_before_hello(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_sign req;
	struct zcs_wire_pubkey pk;
	uint8_t hash[32] = {1};

	zcs_wire_sign(&req, 42, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	expect_fatal(f, false, &req, sizeof(req), ZCS_ERR_UNEXPECTED, 42);
	zcs_wire_pubkey(&pk, 43, f->accounts[0]);
	expect_fatal(f, false, &pk, sizeof(pk), ZCS_ERR_UNEXPECTED, 43);
	assert_still_serves(f, 44, 0, ZCS_ALGO_ECDSA);
}

/* A second HELLO, or a frame only the signer sends: ERROR(UNEXPECTED) and close. */
static void
test_unexpected_after_hello(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_hello h;
	struct zcs_wire_sign_reply sr;
	struct zcs_wire_error e;

	zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
	expect_fatal(f, true, &h, sizeof(h), ZCS_ERR_UNEXPECTED, 0);
	zcs_wire_sign_reply(&sr, 77, ZCS_OK, 0, 5, NULL);
	expect_fatal(f, true, &sr, sizeof(sr), ZCS_ERR_UNEXPECTED, 77);
	zcs_wire_error(&e, 78, ZCS_ERR_SHUTDOWN);
	expect_fatal(f, true, &e, sizeof(e), ZCS_ERR_UNEXPECTED, 78);
	assert_still_serves(f, 79, 3, ZCS_ALGO_SCHNORR);
}

static void
test_wrong_shard(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_hello h;
	char log[4096];

	capture_begin(f);
	zcs_wire_hello(&h, 0, SHARD_COUNT);
	expect_fatal(f, false, &h, sizeof(h), ZCS_ERR_WRONG_SHARD, 0);
	capture_end(f, log, sizeof(log));
	assert_non_null(strstr(log, "wrong shard"));
	assert_non_null(strstr(log, "shard 0/4"));
	assert_non_null(strstr(log, "shard 1/4"));

	zcs_wire_hello(&h, SHARD_ID, 2);
	expect_fatal(f, false, &h, sizeof(h), ZCS_ERR_WRONG_SHARD, 0);

	/* A HELLO with a bad body cannot start a connection either. */
	zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
	h.reserved = 1;
	expect_fatal(f, false, &h, sizeof(h), ZCS_ERR_BAD_RESERVED, 0);

	assert_still_serves(f, 1, 4, ZCS_ALGO_ECDSA);
}

static void
test_second_connection_busy(void **state)
{
	struct fixture *f = *state;
	char log[4096];
	int a, b;

	a = client_open(f);
	sign_one(f, a, 1, 0, ZCS_ALGO_ECDSA);
	capture_begin(f);
	b = client_connect(f);
	expect_error_and_close(b, ZCS_ERR_BUSY, 0);
	capture_end(f, log, sizeof(log));
	assert_non_null(strstr(log, "refused a second connection: shard 1 already serves one"));
	/* Also when the newcomer says HELLO first (if it is quick enough to). */
	b = client_connect(f);
	{
		struct zcs_wire_hello h;

		zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
		if (send(b, &h, sizeof(h), MSG_NOSIGNAL) < 0)
			assert_true(errno == EPIPE || errno == ECONNRESET);
	}
	expect_error_and_close(b, ZCS_ERR_BUSY, 0);
	/* The first connection never noticed. */
	sign_one(f, a, 2, 1, ZCS_ALGO_ECDSA_RECOVERABLE);
	sign_one(f, a, 3, 2, ZCS_ALGO_SCHNORR);
	close(a);
	/* Once it is gone the next client is served. */
	assert_still_serves(f, 4, 3, ZCS_ALGO_ECDSA);
}

static void
test_garbage_fatal(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_sign s;
	uint8_t hash[32] = {0};
	uint8_t junk[200];

	zcs_wire_sign(&s, 1, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	s.hdr.magic ^= htole32(1);
	expect_fatal(f, false, &s, sizeof(s), ZCS_ERR_BAD_MAGIC, 0);
	expect_fatal(f, true, &s, sizeof(s), ZCS_ERR_BAD_MAGIC, 0);

	zcs_wire_sign(&s, 1, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	s.hdr.version = ZCS_WIRE_VERSION + 1;
	expect_fatal(f, true, &s, sizeof(s), ZCS_ERR_BAD_VERSION, 0);

	zcs_wire_sign(&s, 1, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	s.hdr.type = 99;
	expect_fatal(f, true, &s, sizeof(s), ZCS_ERR_BAD_TYPE, 0);
	s.hdr.type = 0;
	expect_fatal(f, false, &s, sizeof(s), ZCS_ERR_BAD_TYPE, 0);

	zcs_wire_sign(&s, 1, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	s.hdr.length = htole16(sizeof(s) + 8);
	expect_fatal(f, true, &s, sizeof(s), ZCS_ERR_BAD_LENGTH, 0);
	s.hdr.length = htole16(0);
	expect_fatal(f, false, &s, sizeof(s), ZCS_ERR_BAD_LENGTH, 0);

	/* Random bytes: the magic cannot match once the first byte differs. */
	secp_random(junk, sizeof(junk));
	junk[0] = (uint8_t) ~(ZCS_WIRE_MAGIC & 0xff);
	expect_fatal(f, false, junk, sizeof(junk), ZCS_ERR_BAD_MAGIC, 0);
	expect_fatal(f, true, junk, sizeof(junk), ZCS_ERR_BAD_MAGIC, 0);

	/* The signer outlived all of it. */
	assert_still_serves(f, 5, 5, ZCS_ALGO_ECDSA);
}

/* Valid frames after a bad one in the same write are never answered. */
static void
test_garbage_mid_batch(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_sign s[3];
	union zcs_wire_frame r;
	uint8_t hash[32];
	int fd;

	secp_random(hash, sizeof(hash));
	fd = client_open(f);
	zcs_wire_sign(&s[0], 1, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	zcs_wire_sign(&s[1], 2, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	s[1].hdr.magic = 0;
	zcs_wire_sign(&s[2], 3, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	send_all(fd, s, sizeof(s));
	recv_frame(fd, &r);
	verify_reply(f, &r.sign_reply, 1, 0, ZCS_ALGO_ECDSA, hash);
	expect_error_and_close(fd, ZCS_ERR_BAD_MAGIC, 0);
}

static void
send_bytewise(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		send_all(fd, p + i, 1);
		/* Give the loop time to read each byte on its own. */
		usleep(200);
	}
}

static void
test_split_frames(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_hello h;
	struct zcs_wire_sign s;
	struct zcs_wire_pubkey p;
	union zcs_wire_frame r;
	uint8_t hash[32];
	uint8_t two[sizeof(struct zcs_wire_sign) + sizeof(struct zcs_wire_pubkey)];
	int fd;

	fd = client_connect(f);
	zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
	send_bytewise(fd, &h, sizeof(h));
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);

	secp_random(hash, sizeof(hash));
	zcs_wire_sign(&s, 21, f->accounts[1], ZCS_ALGO_SCHNORR, hash);
	send_bytewise(fd, &s, sizeof(s));
	recv_frame(fd, &r);
	verify_reply(f, &r.sign_reply, 21, 1, ZCS_ALGO_SCHNORR, hash);

	zcs_wire_pubkey(&p, 22, f->accounts[2]);
	send_bytewise(fd, &p, sizeof(p));
	recv_frame(fd, &r);
	assert_int_equal(r.pubkey_reply.seq, 22);
	assert_memory_equal(r.pubkey_reply.compressed, f->compressed[2], 33);

	/* Two frames cut in the middle of the first and of the second. */
	zcs_wire_sign(&s, 23, f->accounts[3], ZCS_ALGO_ECDSA, hash);
	zcs_wire_pubkey(&p, 24, f->accounts[3]);
	memcpy(two, &s, sizeof(s));
	memcpy(two + sizeof(s), &p, sizeof(p));
	send_all(fd, two, 40);
	usleep(2000);
	send_all(fd, two + 40, 40);
	usleep(2000);
	send_all(fd, two + 80, sizeof(two) - 80);
	recv_frame(fd, &r);
	verify_reply(f, &r.sign_reply, 23, 3, ZCS_ALGO_ECDSA, hash);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_PUBKEY_REPLY);
	assert_int_equal(r.pubkey_reply.seq, 24);
	close(fd);
}

static void
test_client_gone(void **state)
{
	enum { N = 200 };
	struct fixture *f = *state;
	struct zcs_wire_sign s[N];
	uint8_t hash[32];
	int fd, i;

	secp_random(hash, sizeof(hash));
	/* Close in the middle of a frame. */
	fd = client_open(f);
	zcs_wire_sign(&s[0], 1, f->accounts[0], ZCS_ALGO_ECDSA, hash);
	send_all(fd, s, 30);
	usleep(5000);
	close(fd);
	/* Close in the middle of the header, before HELLO. */
	fd = client_connect(f);
	send_all(fd, s, 3);
	close(fd);
	/* Close with replies still to come (the signer's send fails). */
	fd = client_open(f);
	for (i = 0; i < N; i++)
		zcs_wire_sign(&s[i], (uint64_t)i, f->accounts[i % NKEYS], ZCS_ALGO_ECDSA, hash);
	send_all(fd, s, sizeof(s));
	close(fd);
	/* Reset: unread data in the client's socket at close. */
	fd = client_open(f);
	send_all(fd, s, sizeof(s));
	usleep(20000);
	close(fd);

	assert_still_serves(f, 1, 0, ZCS_ALGO_ECDSA);
}

/*
 * A client that writes much more than it reads: the signer's send buffer and
 * the socket fill up, the loop stops reading, and once the client reads
 * again every reply arrives, in order, none lost or duplicated. Mostly PUBKEY
 * requests (24 bytes in, 96 out, no signing) so the signer outruns the client
 * at once; every 50th is a SIGN, verified.
 */
static void
test_backpressure(void **state)
{
	enum { N = 40000, SIGN_EVERY = 50 };
	struct fixture *f = *state;
	size_t total = 0, sent = 0, got = 0;
	size_t rtotal = (size_t)N * sizeof(struct zcs_wire_sign_reply);
	uint8_t *reqs = malloc((size_t)N * sizeof(struct zcs_wire_sign));
	uint8_t *rbuf = malloc(rtotal);
	uint8_t(*hashes)[32] = calloc(N / SIGN_EVERY, 32);
	unsigned int i;
	int fd, fl;

	assert_non_null(reqs);
	assert_non_null(rbuf);
	assert_non_null(hashes);
	for (i = 0; i < N; i++) {
		if (i % SIGN_EVERY == 0) {
			secp_random(hashes[i / SIGN_EVERY], 32);
			zcs_wire_sign((struct zcs_wire_sign *)(reqs + total), i,
				f->accounts[i % NKEYS], ZCS_ALGO_ECDSA, hashes[i / SIGN_EVERY]);
			total += sizeof(struct zcs_wire_sign);
		} else {
			zcs_wire_pubkey((struct zcs_wire_pubkey *)(reqs + total), i,
				f->accounts[i % NKEYS]);
			total += sizeof(struct zcs_wire_pubkey);
		}
	}
	fd = client_open(f);
	fl = fcntl(fd, F_GETFL);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	/* Write without reading until the socket refuses more. */
	for (;;) {
		ssize_t n = send(fd, reqs + sent, total - sent, MSG_NOSIGNAL);

		if (n < 0) {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
			break;
		}
		sent += (size_t)n;
		if (sent == total)
			break;
	}
	assert_true(sent < total); /* the signer did push back */
	usleep(100000);
	while (got < rtotal) {
		struct pollfd p = {.fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0)};
		ssize_t n;

		assert_true(poll(&p, 1, 10000) > 0);
		if (sent < total && (p.revents & POLLOUT)) {
			n = send(fd, reqs + sent, total - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		if (p.revents & POLLIN) {
			n = recv(fd, rbuf + got, rtotal - got, 0);
			assert_true(n > 0);
			got += (size_t)n;
		}
	}
	for (i = 0; i < N; i++) {
		union zcs_wire_frame r;
		size_t used;

		assert_int_equal(zcs_wire_decode(rbuf + (size_t)i * sizeof(r.sign_reply),
					 sizeof(r.sign_reply), &r, &used),
			0);
		if (i % SIGN_EVERY == 0) {
			verify_reply(f, &r.sign_reply, i, (int)(i % NKEYS), ZCS_ALGO_ECDSA,
				hashes[i / SIGN_EVERY]);
			continue;
		}
		assert_int_equal(r.hdr.type, ZCS_FT_PUBKEY_REPLY);
		assert_int_equal(r.pubkey_reply.seq, i);
		assert_int_equal(r.pubkey_reply.status, ZCS_OK);
		assert_memory_equal(r.pubkey_reply.compressed, f->compressed[i % NKEYS], 33);
	}
	close(fd);
	assert_int_equal(stop_server(f), 0);
	assert_true(f->stats.send_short > 0);
	assert_int_equal(f->stats.signed_ok, N / SIGN_EVERY);
	assert_int_equal(f->stats.pubkeys, N - N / SIGN_EVERY);
	free(reqs);
	free(rbuf);
	free(hashes);
}

static void
test_stop_flag(void **state)
{
	struct fixture *f = *state;
	int fd;

	fd = client_open(f);
	sign_one(f, fd, 1, 0, ZCS_ALGO_ECDSA);
	/* Stops with a client connected, closing it. */
	assert_int_equal(stop_server(f), 0);
	expect_closed(fd);
	close(fd);
	assert_int_equal(f->stats.conns_accepted, 1);
	assert_int_equal(f->stats.signed_ok, 1);
}

/* The per-connection API on a socketpair, without a listener or a thread. */
static void
test_conn_api(void **state)
{
	struct fixture *f = *state;
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	struct zcs_wire_hello h;
	union zcs_wire_frame r;
	atomic_int stop = 0;
	int fd, i;

	assert_int_equal(stop_server(f), 0);
	driven_conf(f, &conf, &stop);
	srv = zcs_serve_create(&conf);
	assert_non_null(srv);
	assert_false(zcs_serve_conn_active(srv));
	assert_int_equal(zcs_serve_conn_poll(srv), ZCS_SERVE_IDLE);
	fd = driven_pair(srv, 0);
	assert_true(zcs_serve_conn_active(srv));
	assert_int_equal(zcs_serve_conn_open(srv, fd), -EBUSY);
	assert_int_equal(zcs_serve_conn_poll(srv), ZCS_SERVE_IDLE);

	zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
	send_all(fd, &h, sizeof(h));
	assert_int_equal(zcs_serve_conn_poll(srv), ZCS_SERVE_BUSY);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	assert_int_equal(r.hello_reply.key_count, NKEYS);

	/* Peer close: the step reports it and the server is free again. */
	close(fd);
	for (i = 0; i < 3 && zcs_serve_conn_active(srv); i++)
		zcs_serve_conn_poll(srv);
	assert_false(zcs_serve_conn_active(srv));
	assert_int_equal(zcs_serve_accept(srv), 0);
	zcs_serve_destroy(srv);

	/* Creation checks its configuration. */
	conf.idle = (enum zcs_poll_mode)ZCS_POLL_MODES; /* no such mode */
	errno = 0;
	assert_null(zcs_serve_create(&conf));
	assert_int_equal(errno, EINVAL);
	assert_null(zcs_serve_create(NULL));
	zcs_serve_destroy(NULL);
}

/* Drive one connection step by step until want bytes of replies came back. */
static void
pump_replies(struct zcs_server *srv, int fd, uint8_t *buf, size_t want)
{
	size_t got = 0;
	int spins = 0;

	while (got < want) {
		ssize_t n;

		assert_true(zcs_serve_conn_poll(srv) >= 0);
		n = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else
			assert_true(n < 0 && errno == EAGAIN);
		assert_true(++spins < 10000000);
	}
}

/*
 * The send buffer filling up mid-batch, made certain with a tiny socket
 * buffer on the signer's side: the batch is cut short (rx_stalled), sends are
 * partial, and still every request gets exactly one reply, in order.
 */
static void
test_conn_stall(void **state)
{
	enum { N1 = 600, N2 = 1100 };
	struct fixture *f = *state;
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	struct zcs_wire_hello h;
	struct zcs_wire_sign *reqs = calloc(N1 + N2, sizeof(*reqs));
	size_t rlen = sizeof(struct zcs_wire_hello_reply) +
		(N1 + N2) * sizeof(struct zcs_wire_sign_reply);
	uint8_t *rbuf = malloc(rlen);
	uint8_t(*hashes)[32] = calloc(N1 + N2, 32);
	atomic_int stop = 0;
	size_t off, used;
	unsigned int i;
	int fd;

	assert_non_null(reqs);
	assert_non_null(rbuf);
	assert_non_null(hashes);
	assert_int_equal(stop_server(f), 0);
	driven_conf(f, &conf, &stop);
	srv = zcs_serve_create(&conf);
	assert_non_null(srv);
	fd = driven_pair(srv, 8192);
	for (i = 0; i < N1 + N2; i++) {
		secp_random(hashes[i], 32);
		zcs_wire_sign(&reqs[i], i, f->accounts[i % NKEYS], ZCS_ALGO_ECDSA, hashes[i]);
	}
	/* First batch: replies to it stay pending (below the high-water mark). */
	zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
	send_all(fd, &h, sizeof(h));
	send_all(fd, reqs, N1 * sizeof(*reqs));
	assert_int_equal(zcs_serve_conn_poll(srv), ZCS_SERVE_BUSY);
	assert_true(srv->tx_len - srv->tx_off > 0);
	assert_true(srv->tx_len - srv->tx_off <= ZCS_SERVE_TX_HIGH_WATER);
	/* Second batch: a full receive buffer whose replies cannot all fit. */
	send_all(fd, reqs + N1, N2 * sizeof(*reqs));
	assert_int_equal(zcs_serve_conn_poll(srv), ZCS_SERVE_BUSY);
	assert_true(srv->rx_stalled);
	assert_true(srv->stats.rx_stalls > 0);
	assert_true(srv->stats.send_short > 0);

	pump_replies(srv, fd, rbuf, rlen);
	off = sizeof(struct zcs_wire_hello_reply);
	for (i = 0; i < N1 + N2; i++) {
		union zcs_wire_frame r;

		assert_int_equal(zcs_wire_decode(rbuf + off, rlen - off, &r, &used), 0);
		verify_reply(f, &r.sign_reply, i, (int)(i % NKEYS), ZCS_ALGO_ECDSA, hashes[i]);
		off += used;
	}
	assert_int_equal(srv->stats.signed_ok, N1 + N2);
	assert_int_equal(srv->tx_len, 0);
	assert_false(srv->rx_stalled);
	close(fd);
	zcs_serve_destroy(srv);
	free(reqs);
	free(rbuf);
	free(hashes);
}

/* STATS on the default (rfc6979) signer: no pools, signatures counted; in order with SIGNs. */
static void
test_stats_rfc6979(void **state)
{
	struct fixture *f = *state;
	struct zcs_wire_stats_reply in, bad;
	struct zcs_wire_stats q;
	union zcs_wire_frame r;
	int fd;

	fd = client_open(f);
	sign_one(f, fd, 1, 0, ZCS_ALGO_ECDSA);
	sign_one(f, fd, 2, 1, ZCS_ALGO_SCHNORR);
	zcs_wire_stats(&q, 3);
	send_all(fd, &q, sizeof(q));
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_STATS_REPLY);
	assert_int_equal(r.stats_reply.seq, 3);
	assert_int_equal(r.stats_reply.nonce_mode, ZCS_NONCE_RFC6979);
	assert_int_equal(r.stats_reply.ecdsa_capacity, 0);
	assert_int_equal(r.stats_reply.schnorr_capacity, 0);
	assert_int_equal(r.stats_reply.misses, 0);
	assert_int_equal(r.stats_reply.signed_ok, 2);
	assert_int_equal(r.stats_reply.key_source, ZCS_KEYS_DEV);
	assert_int_equal(r.stats_reply.key_count, f->ks.count);
	close(fd);

	/* Before HELLO, STATS is out of place like any request. */
	zcs_wire_stats(&q, 9);
	expect_fatal(f, false, &q, sizeof(q), ZCS_ERR_UNEXPECTED, 9);

	/* A STATS_REPLY sent to the signer: ERROR(UNEXPECTED) and close. */
	memset(&in, 0, sizeof(in));
	in.nonce_mode = ZCS_NONCE_RFC6979;
	in.key_source = ZCS_KEYS_DEV;
	zcs_wire_stats_reply(&bad, 11, &in);
	expect_fatal(f, true, &bad, sizeof(bad), ZCS_ERR_UNEXPECTED, 11);
}

/* A server on one end of a socketpair, driven step by step from this thread. */
struct mode_srv {
	struct zcs_server *srv;
	atomic_int stop;
	int fd; /* the client's end */
};

static void
mode_srv_open(struct fixture *f, struct mode_srv *m, unsigned int nonce, struct zcs_presig *ps,
	bool verify, const struct zcs_keystore *ks)
{
	struct zcs_serve_conf conf;

	assert_int_equal(stop_server(f), 0);
	atomic_init(&m->stop, 0);
	driven_conf(f, &conf, &m->stop);
	conf.ks = ks;
	conf.nonce = nonce;
	conf.presig = ps;
	conf.verify = verify;
	m->srv = zcs_serve_create(&conf);
	assert_non_null(m->srv);
	m->fd = driven_pair(m->srv, 0);
}

static void
mode_srv_close(struct mode_srv *m)
{
	close(m->fd);
	zcs_serve_destroy(m->srv);
}

/* Send a frame and drive the server until the reply of want bytes is back; decode it. */
static void
mode_srv_call(struct mode_srv *m, const void *req, size_t len, size_t want, union zcs_wire_frame *r)
{
	uint8_t buf[ZCS_WIRE_MAX_FRAME];
	size_t used;

	send_all(m->fd, req, len);
	pump_replies(m->srv, m->fd, buf, want);
	assert_int_equal(zcs_wire_decode(buf, want, r, &used), 0);
	assert_int_equal(used, want);
}

static void
mode_srv_hello(struct mode_srv *m, unsigned int nonce)
{
	struct zcs_wire_hello h;
	union zcs_wire_frame r;

	zcs_wire_hello(&h, SHARD_ID, SHARD_COUNT);
	mode_srv_call(m, &h, sizeof(h), sizeof(struct zcs_wire_hello_reply), &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	assert_int_equal(r.hello_reply.nonce_mode, nonce);
}

static void
mode_srv_stats(struct mode_srv *m, uint64_t seq, union zcs_wire_frame *r)
{
	struct zcs_wire_stats q;

	zcs_wire_stats(&q, seq);
	mode_srv_call(m, &q, sizeof(q), sizeof(struct zcs_wire_stats_reply), r);
	assert_int_equal(r->hdr.type, ZCS_FT_STATS_REPLY);
	assert_int_equal(r->stats_reply.seq, seq);
}

/*
 * One SIGN of hash (NULL: a random one) through the driven server; returns
 * the reply's status (verified when OK).
 */
static int
mode_srv_sign(struct fixture *f, struct mode_srv *m, uint64_t seq, int key, unsigned int algo,
	const uint8_t *hash_in, uint8_t sig_out[64])
{
	struct zcs_wire_sign req;
	union zcs_wire_frame r;
	uint8_t hash[32];

	if (hash_in != NULL)
		memcpy(hash, hash_in, sizeof(hash));
	else
		secp_random(hash, sizeof(hash));
	zcs_wire_sign(&req, seq, f->accounts[key], (uint8_t)algo, hash);
	mode_srv_call(m, &req, sizeof(req), sizeof(struct zcs_wire_sign_reply), &r);
	assert_int_equal(r.hdr.type, ZCS_FT_SIGN_REPLY);
	assert_int_equal(r.sign_reply.seq, seq);
	if (r.sign_reply.status == ZCS_OK)
		verify_reply(f, &r.sign_reply, seq, key, algo, hash);
	if (sig_out != NULL)
		memcpy(sig_out, r.sign_reply.sig, 64);
	return r.sign_reply.status;
}

/*
 * Precomputed (with --verify): HELLO_REPLY says so, STATS shows the pools
 * draining, every signature verifies, and once a pool is empty the request
 * is still signed (RFC 6979) and counted as a miss.
 */
static void
test_precomputed_mode(void **state)
{
	struct fixture *f = *state;
	struct zcs_presig_conf pc;
	struct zcs_presig *ps;
	struct mode_srv m;
	union zcs_wire_frame r;
	uint64_t seq = 1;
	unsigned int i;

	zcs_presig_conf_default(&pc);
	pc.capacity[ZCS_PRESIG_ECDSA] = 8;
	pc.capacity[ZCS_PRESIG_SCHNORR] = 4;
	ps = zcs_presig_create(&pc);
	assert_non_null(ps);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_ECDSA, 8), 8);
	assert_int_equal(zcs_presig_refill(ps, ZCS_PRESIG_SCHNORR, 4), 4);
	mode_srv_open(f, &m, ZCS_NONCE_PRECOMPUTED, ps, true, &f->ks);
	mode_srv_hello(&m, ZCS_NONCE_PRECOMPUTED);
	mode_srv_stats(&m, seq++, &r);
	assert_int_equal(r.stats_reply.nonce_mode, ZCS_NONCE_PRECOMPUTED);
	assert_int_equal(r.stats_reply.ecdsa_depth, 8);
	assert_int_equal(r.stats_reply.ecdsa_capacity, 8);
	assert_int_equal(r.stats_reply.schnorr_depth, 4);
	assert_int_equal(r.stats_reply.schnorr_capacity, 4);
	assert_int_equal(r.stats_reply.refilled, 12);
	assert_int_equal(r.stats_reply.signed_ok, 0);

	/* 10 ECDSA (both kinds) and 5 BIP-340: 2 and 1 past the pools. */
	for (i = 0; i < 10; i++)
		assert_int_equal(mode_srv_sign(f, &m, seq++, (int)(i % NKEYS),
					 ZCS_ALGO_ECDSA + (i & 1), NULL, NULL),
			ZCS_OK);
	for (i = 0; i < 5; i++)
		assert_int_equal(
			mode_srv_sign(f, &m, seq++, (int)(i % NKEYS), ZCS_ALGO_SCHNORR, NULL, NULL),
			ZCS_OK);
	mode_srv_stats(&m, seq++, &r);
	assert_int_equal(r.stats_reply.ecdsa_depth, 0);
	assert_int_equal(r.stats_reply.schnorr_depth, 0);
	assert_int_equal(r.stats_reply.misses, 3);
	assert_int_equal(r.stats_reply.discards, 0);
	assert_int_equal(r.stats_reply.signed_ok, 15);
	assert_int_equal(m.srv->stats.verify_failed, 0);
	assert_int_equal(m.srv->stats.stats_replies, 2);
	mode_srv_close(&m);
	zcs_presig_destroy(ps);
}

/* Hedged: reported as such, no pools, two signatures of one hash differ. */
static void
test_hedged_mode(void **state)
{
	struct fixture *f = *state;
	struct mode_srv m;
	union zcs_wire_frame r;
	uint8_t hash[32], sig1[64], sig2[64];

	mode_srv_open(f, &m, ZCS_NONCE_HEDGED, NULL, false, &f->ks);
	mode_srv_hello(&m, ZCS_NONCE_HEDGED);
	secp_random(hash, sizeof(hash));
	assert_int_equal(mode_srv_sign(f, &m, 1, 0, ZCS_ALGO_ECDSA, hash, sig1), ZCS_OK);
	assert_int_equal(mode_srv_sign(f, &m, 2, 0, ZCS_ALGO_ECDSA, hash, sig2), ZCS_OK);
	assert_memory_not_equal(sig1, sig2, 64);
	mode_srv_stats(&m, 3, &r);
	assert_int_equal(r.stats_reply.nonce_mode, ZCS_NONCE_HEDGED);
	assert_int_equal(r.stats_reply.ecdsa_capacity + r.stats_reply.schnorr_capacity, 0);
	assert_int_equal(r.stats_reply.signed_ok, 2);
	mode_srv_close(&m);
}

/*
 * --verify: a key whose public half does not match its secret (a corrupted
 * store, standing in for a fault) signs fine but fails the check: the reply
 * is ZCS_ERR_SIGN_FAILED with no signature, counted; without --verify the
 * bad signature would have gone out.
 */
static void
test_verify_after_sign(void **state)
{
	struct fixture *f = *state;
	struct zcs_keystore bad;
	struct mode_srv m;
	union zcs_wire_frame r;
	unsigned int algo;
	uint8_t sig[64];
	uint64_t seq = 1;

	bad = f->ks;
	bad.keys = malloc(f->ks.count * sizeof(*bad.keys));
	assert_non_null(bad.keys);
	memcpy(bad.keys, f->ks.keys, f->ks.count * sizeof(*bad.keys));
	/* Key 0 keeps its secret but shows key 1's public keys. */
	memcpy(bad.keys[0].pub_compressed, f->ks.keys[1].pub_compressed, 33);
	memcpy(bad.keys[0].pub_xonly, f->ks.keys[1].pub_xonly, 32);
	mode_srv_open(f, &m, ZCS_NONCE_RFC6979, NULL, true, &bad);
	mode_srv_hello(&m, ZCS_NONCE_RFC6979);
	capture_begin(f);
	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		static const uint8_t zero[64];

		assert_int_equal(
			mode_srv_sign(f, &m, seq++, 0, algo, NULL, sig), ZCS_ERR_SIGN_FAILED);
		assert_memory_equal(sig, zero, 64);
		/* The other keys are intact and still sign. */
		assert_int_equal(mode_srv_sign(f, &m, seq++, 2, algo, NULL, NULL), ZCS_OK);
	}
	{
		char log[4096];

		capture_end(f, log, sizeof(log));
		assert_non_null(strstr(log, "verify-after-sign failed"));
	}
	assert_int_equal(m.srv->stats.verify_failed, 3);
	assert_int_equal(m.srv->stats.signed_ok, 3);
	mode_srv_stats(&m, seq++, &r);
	assert_int_equal(r.stats_reply.signed_ok, 3);
	mode_srv_close(&m);
	explicit_bzero(bad.keys, f->ks.count * sizeof(*bad.keys));
	free(bad.keys);
}

/* Creation refuses a nonce mode it cannot serve. */
static void
test_create_nonce_checks(void **state)
{
	struct fixture *f = *state;
	struct zcs_serve_conf conf;
	atomic_int stop = 0;

	driven_conf(f, &conf, &stop);
	conf.nonce = ZCS_NONCE_PRECOMPUTED; /* without pools */
	errno = 0;
	assert_null(zcs_serve_create(&conf));
	assert_int_equal(errno, EINVAL);
	conf.nonce = 9;
	assert_null(zcs_serve_create(&conf));
	conf.nonce = ZCS_NONCE_HEDGED;
	zcs_serve_destroy(zcs_serve_create(&conf));
}

static void
test_idle_names(void **state)
{
	(void)state;
	assert_int_equal(zcs_poll_mode_parse("spin"), ZCS_POLL_SPIN);
	assert_int_equal(zcs_poll_mode_parse("backoff"), ZCS_POLL_BACKOFF);
	assert_int_equal(zcs_poll_mode_parse("yield"), ZCS_POLL_YIELD);
	assert_string_equal(zcs_poll_mode_name(ZCS_POLL_YIELD), "yield");
	assert_int_equal(zcs_poll_mode_parse("Spin"), -1);
	assert_int_equal(zcs_poll_mode_parse(""), -1);
	assert_int_equal(zcs_poll_mode_parse(NULL), -1);
	assert_string_equal(zcs_poll_mode_name(ZCS_POLL_BACKOFF), "backoff");
	assert_null(zcs_poll_mode_name(-1));
	assert_null(zcs_poll_mode_name(ZCS_POLL_MODES));
}

/* ---- serving only its engine ---- */

/* A connection that does not complete HELLO in time loses the slot. */
static void
test_handshake_deadline(void **state)
{
	struct fixture *f = *state;
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	atomic_int stop = 0;
	uint64_t end = zcs_mono_ns() + 10000000000ull;
	int fd;

	driven_conf(f, &conf, &stop);
	conf.handshake_timeout_ms = 50;
	srv = zcs_serve_create(&conf);
	assert_non_null(srv);
	fd = driven_pair(srv, 0);
	while (zcs_serve_conn_active(srv)) {
		zcs_serve_poll(srv);
		assert_true(zcs_mono_ns() < end);
		usleep(1000);
	}
	assert_int_equal(srv->stats.handshake_timeouts, 1);
	close(fd);
	/* A client that says HELLO in time keeps its connection. */
	fd = driven_pair(srv, 0);
	send_hello(fd, SHARD_ID, SHARD_COUNT);
	assert_int_equal(zcs_serve_poll(srv), ZCS_SERVE_BUSY);
	usleep(100000);
	zcs_serve_poll(srv);
	assert_true(zcs_serve_conn_active(srv));
	assert_int_equal(srv->stats.handshake_timeouts, 1);
	close(fd);
	zcs_serve_destroy(srv);
}

/* ZCS_SHARD_ANY is served when the signer allows it (zcsign-enclave --allow-any-shard). */
static void
test_any_shard_allowed(void **state)
{
	struct fixture *f = *state;
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	atomic_int stop = 0;
	union zcs_wire_frame r;
	int fd;

	driven_conf(f, &conf, &stop);
	conf.any_shard = true;
	srv = zcs_serve_create(&conf);
	assert_non_null(srv);
	fd = driven_pair(srv, 0);
	send_hello(fd, ZCS_SHARD_ANY, 0);
	assert_int_equal(zcs_serve_poll(srv), ZCS_SERVE_BUSY);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	assert_int_equal(r.hello_reply.shard_id, SHARD_ID);
	close(fd);
	zcs_serve_destroy(srv);
}

/*
 * A peer outside the policy is closed at accept, counted, and never answered;
 * with its uid allowed the same peer is served. The socket is 0600.
 */
static void
test_peer_policy(void **state)
{
	struct fixture *f = *state;
	struct zcs_serve_conf conf;
	struct zcs_server *srv;
	struct stat st;
	atomic_int stop = 0;
	union zcs_wire_frame r;
	char buf[16];
	int fd;

	assert_int_equal(stat(f->addr.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The fixture's own server must not take our connections: stop it first. */
	assert_int_equal(stop_server(f), 0);
	driven_conf(f, &conf, &stop);
	conf.listen_fd = f->lfd;
	conf.peers.nuids = 1;
	conf.peers.uids[0] = getuid() + 1; /* not us */
	srv = zcs_serve_create(&conf);
	assert_non_null(srv);
	fd = client_connect(f);
	while (zcs_serve_accept(srv) == 0)
		usleep(1000);
	assert_int_equal(srv->stats.peers_refused, 1);
	assert_false(zcs_serve_conn_active(srv));
	assert_true(recv(fd, buf, sizeof(buf), 0) <= 0); /* closed, nothing said */
	close(fd);
	zcs_serve_destroy(srv);
	/* Our uid allowed (the default): served. */
	conf.peers.uids[0] = getuid();
	srv = zcs_serve_create(&conf);
	assert_non_null(srv);
	fd = client_connect(f);
	while (zcs_serve_accept(srv) == 0)
		usleep(1000);
	assert_true(zcs_serve_conn_active(srv));
	send_hello(fd, SHARD_ID, SHARD_COUNT);
	while (zcs_serve_poll(srv) != ZCS_SERVE_BUSY)
		usleep(1000);
	recv_frame(fd, &r);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	assert_int_equal(srv->stats.peers_refused, 0);
	close(fd);
	zcs_serve_destroy(srv);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hello),
		T(test_sign_batch),
		cmocka_unit_test_setup_teardown(test_sign_batch_yield, setup_yield, teardown),
		T(test_pubkey),
		T(test_unknown_account),
		T(test_bad_body_not_fatal),
		T(test_sign_before_hello),
		T(test_unexpected_after_hello),
		T(test_wrong_shard),
		T(test_second_connection_busy),
		T(test_garbage_fatal),
		T(test_garbage_mid_batch),
		T(test_split_frames),
		T(test_client_gone),
		T(test_backpressure),
		T(test_stop_flag),
		T(test_conn_api),
		T(test_conn_stall),
		T(test_stats_rfc6979),
		T(test_precomputed_mode),
		T(test_hedged_mode),
		T(test_verify_after_sign),
		T(test_create_nonce_checks),
		T(test_handshake_deadline),
		T(test_any_shard_allowed),
		T(test_peer_policy),
		cmocka_unit_test(test_idle_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
