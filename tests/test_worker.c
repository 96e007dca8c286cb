/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * engine/worker.c (through engine.c): an in-process EAL, two real signers
 * (enclave/serve.c) in threads on unix sockets, the engine on worker lcores 1
 * and 2 in backoff poll mode, and a libzcsign client in the test thread.
 *
 * What it proves: every signature verifies with libsecp256k1 (three
 * algorithms); requests of an account complete in submission order, expired
 * ones included; a past deadline completes EXPIRED unsigned; an unknown
 * account gets UNKNOWN_ACCOUNT and the connection goes on; PUBKEY returns the
 * key; a dropped signer connection fails what was in flight and what comes
 * next with SIGNER_DOWN while the other shard signs on, and the shard recovers
 * by itself; a signer with another measurement is refused (MEASUREMENT), so is
 * the signer of another shard (WRONG_SHARD); stop
 * drains (and fails with SHUTDOWN at the drain deadline), and the counters
 * reconcile. STATS: the shard state shows the pools and counters of a signer
 * in precomputed mode (capacity, depth <= capacity, signed_ok equal to the
 * requests signed, misses once a tiny pool is drained, refills once its refill
 * thread runs) while the request counters stay exact; a STATS_REPLY with a
 * wrong seq, or one nobody asked for, drops the connection; a signer that
 * does not know STATS is not asked again; stats_interval_ms = 0 sends none.
 * Attestation: a host that recorded a genuine document and replays it to the
 * next handshake is refused on the nonce (the fake signer, with a dev CA).
 * Counts are exact; waits have deadlines but no timing is asserted.
 *
 * The signer threads run their own loop over zcs_serve_poll() (backoff idle)
 * rather than zcs_serve_run(), so that a test can pause a signer with its
 * connection open (requests stay in flight) and make it drop the connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <zcsign/client.h>
#include <zcsign/engine.h>
#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "attest.h"
#include "engine_inproc.h"
#include "hex.h"
#include "keystore.h"
#include "lcores.h"
#include "presig.h"
#include "serve.h"
#include "shards.h"
#include "sign.h"

#define MAX_REQ 2048
#define WAIT_MS 15000 /* deadline of any wait: a wedged engine fails, never hangs */
#define STATS_MS 20 /* stats_interval_ms of the STATS tests: many replies per test */

struct sent {
	uint64_t account;
	uint8_t hash[32];
	unsigned int algo;
	int shard; /* signer index */
	int key; /* key index, -1 for an unknown account */
	uint8_t op;
};

static struct {
	struct inproc p; /* EAL, signers, their keys and sockets */
	secp256k1_context *vctx;
	/* per test */
	struct zcs_engine *e;
	struct zcs_engine_shared *sh;
	struct zcs_client *c;
	struct sent sent[MAX_REQ];
	unsigned int nsent;
	uint64_t last_cookie[INPROC_SHARDS][INPROC_NACC + 1];
	struct zcs_presig *presig; /* shard 1's signer runs precomputed while set */
} g;

/* ---- a scripted signer, to break the STATS conversation on purpose ---- */

/* What the fake does with STATS; it answers HELLO as shard 1 and PUBKEY unknown_account. */
enum fake_mode {
	FAKE_GOOD, /* STATS_REPLY with the request's seq */
	FAKE_BAD_SEQ, /* STATS_REPLY with seq + 1 */
	FAKE_UNSOLICITED, /* a STATS_REPLY right after HELLO_REPLY, asked or not */
	FAKE_OLD, /* ERROR bad_type and close, like a signer built before STATS */
	FAKE_REPLAY, /* ATTEST: a fresh document on connection 1, that same one replayed after */
};

static struct {
	struct zcs_addr addr;
	char text[100];
	int lfd;
	pthread_t thread;
	enum fake_mode mode;
	atomic_int quit;
	atomic_uint conns; /* connections accepted */
	atomic_uint stats_seen; /* STATS frames received */
	atomic_int drop; /* set: close the connection, as a host restarting the signer would */
	/* FAKE_REPLAY: a dev CA, the fake's PCR0, the document of the first handshake */
	EVP_PKEY *root_key, *leaf_key;
	X509 *root, *leaf;
	char root_pem[200];
	uint8_t pcr0[ZCS_MEASUREMENT_LEN];
	uint8_t *doc;
	size_t doc_len;
	atomic_uint docs_signed, docs_replayed;
	atomic_int honest; /* set: every ATTEST gets a document made for its nonce */
} fake = {.lfd = -1};

static void
fake_send(int fd, const void *frame, size_t len)
{
	/* The engine may close first (that is what some modes test): ignore errors. */
	if (send(fd, frame, len, MSG_NOSIGNAL) != (ssize_t)len)
		return;
}

static void
fake_stats_reply(int fd, uint64_t seq)
{
	struct zcs_wire_stats_reply r, in;

	memset(&in, 0, sizeof(in));
	in.nonce_mode = ZCS_NONCE_RFC6979;
	in.key_source = ZCS_KEYS_DEV;
	in.key_count = INPROC_NACC;
	zcs_wire_stats_reply(&r, seq, &in);
	fake_send(fd, &r, sizeof(r));
}

/* A document for nonce signed by the fake's dev leaf, into fake.doc: 0 or -1. */
static int
fake_sign_doc(const uint8_t nonce[32])
{
	static const char ud[] = "zcsign shard 1/2";
	struct zcs_attest_fields f;
	uint8_t *leaf_der = NULL, *root_der = NULL;
	int leaf_len = i2d_X509(fake.leaf, &leaf_der), root_len = i2d_X509(fake.root, &root_der);
	char err[256];
	int rc = -1;

	memset(&f, 0, sizeof(f));
	f.module_id = "fake-replay";
	f.timestamp_ms = (uint64_t)time(NULL) * 1000u;
	f.pcr_mask = 1;
	f.pcr_len[0] = ZCS_MEASUREMENT_LEN;
	memcpy(f.pcr[0], fake.pcr0, ZCS_MEASUREMENT_LEN);
	f.certificate = (struct zcs_attest_bytes){leaf_der, (size_t)leaf_len};
	f.cabundle_count = 1;
	f.cabundle[0] = (struct zcs_attest_bytes){root_der, (size_t)root_len};
	f.user_data = (struct zcs_attest_bytes){(const uint8_t *)ud, sizeof(ud) - 1};
	f.nonce = (struct zcs_attest_bytes){nonce, 32};
	if (leaf_len > 0 && root_len > 0 &&
		zcs_attest_sign(&fake.doc, &fake.doc_len, err, sizeof(err), &f, fake.leaf_key) == 0)
		rc = 0;
	OPENSSL_free(leaf_der);
	OPENSSL_free(root_der);
	return rc;
}

/*
 * FAKE_REPLAY's answer to ATTEST: the first one gets a document made for its
 * nonce (and kept); every later one gets that same document again, as a host
 * that recorded a genuine signer's answer would send it.
 */
static void
fake_attest(int fd, const struct zcs_wire_attest *a)
{
	static struct zcs_wire_attest_reply frames[ZCS_WIRE_ATTEST_FRAMES(ZCS_WIRE_ATTEST_MAX)];
	struct zcs_wire_attest_reply r;

	if (fake.doc == NULL || atomic_load(&fake.honest)) {
		free(fake.doc);
		fake.doc = NULL;
		if (fake_sign_doc(a->nonce) != 0) {
			zcs_wire_attest_reply(&r, a->seq, ZCS_ERR_NO_ATTESTATION, 0, 0, NULL, 0);
			fake_send(fd, &r, sizeof(r));
			return;
		}
		atomic_fetch_add(&fake.docs_signed, 1);
	} else {
		atomic_fetch_add(&fake.docs_replayed, 1);
	}
	fake_send(fd, frames, zcs_wire_attest_doc(frames, a->seq, fake.doc, fake.doc_len));
}

/* Answer frames in rx; returns bytes consumed, or -1 to close. */
static ssize_t
fake_frames(int fd, const uint8_t *rx, size_t len)
{
	union zcs_wire_frame f;
	size_t off = 0, used;
	int rc;

	while ((rc = zcs_wire_decode(rx + off, len - off, &f, &used)) != ZCS_WIRE_NEED_MORE) {
		if (rc != 0)
			return -1;
		off += used;
		if (f.hdr.type == ZCS_FT_HELLO) {
			struct zcs_wire_hello_reply h;

			zcs_wire_hello_reply(&h, 1, INPROC_SHARDS, INPROC_NACC, ZCS_NONCE_RFC6979,
				ZCS_KEYS_DEV, g.p.measurement);
			fake_send(fd, &h, sizeof(h));
			if (fake.mode == FAKE_UNSOLICITED)
				fake_stats_reply(fd, 1);
		} else if (f.hdr.type == ZCS_FT_PUBKEY) {
			struct zcs_wire_pubkey_reply r;

			zcs_wire_pubkey_reply(
				&r, f.pubkey.seq, ZCS_ERR_UNKNOWN_ACCOUNT, NULL, NULL);
			fake_send(fd, &r, sizeof(r));
		} else if (f.hdr.type == ZCS_FT_STATS) {
			struct zcs_wire_error e;

			atomic_fetch_add(&fake.stats_seen, 1);
			if (fake.mode == FAKE_OLD) {
				zcs_wire_error(&e, 0, ZCS_ERR_BAD_TYPE);
				fake_send(fd, &e, sizeof(e));
				return -1;
			}
			fake_stats_reply(fd, f.stats.seq + (fake.mode == FAKE_BAD_SEQ));
		} else if (f.hdr.type == ZCS_FT_ATTEST && fake.mode == FAKE_REPLAY) {
			fake_attest(fd, &f.attest);
		} else {
			return -1;
		}
	}
	return (ssize_t)off;
}

static void *
fake_thread(void *arg)
{
	uint8_t rx[4096];
	size_t len = 0;
	ssize_t n;
	int fd = -1;

	(void)arg;
	while (!atomic_load(&fake.quit)) {
		if (fd < 0) {
			fd = accept4(fake.lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				usleep(1000);
				continue;
			}
			atomic_fetch_add(&fake.conns, 1);
			len = 0;
		}
		if (atomic_exchange(&fake.drop, 0)) {
			close(fd);
			fd = -1;
			continue;
		}
		n = recv(fd, rx + len, sizeof(rx) - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			usleep(200);
			continue;
		}
		if (n > 0) {
			len += (size_t)n;
			n = fake_frames(fd, rx, len);
		}
		if (n <= 0) {
			close(fd);
			fd = -1;
			continue;
		}
		len -= (size_t)n;
		memmove(rx, rx + n, len);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void
fake_start(enum fake_mode mode)
{
	char err[256];

	snprintf(fake.text, sizeof(fake.text), "unix:%s/fake.sock", g.p.dir);
	assert_int_equal(zcs_addr_parse(fake.text, true, &fake.addr, err, sizeof(err)), 0);
	fake.lfd = zcs_addr_listen(&fake.addr, err, sizeof(err));
	if (fake.lfd < 0)
		fail_msg("listen: %s", err);
	fake.mode = mode;
	atomic_store(&fake.quit, 0);
	atomic_store(&fake.conns, 0);
	atomic_store(&fake.stats_seen, 0);
	assert_int_equal(pthread_create(&fake.thread, NULL, fake_thread, NULL), 0);
}

static void
fake_stop(void)
{
	if (fake.lfd < 0)
		return;
	atomic_store(&fake.quit, 1);
	pthread_join(fake.thread, NULL);
	close(fake.lfd);
	unlink(fake.addr.path);
	fake.lfd = -1;
	free(fake.doc);
	fake.doc = NULL;
	X509_free(fake.leaf);
	X509_free(fake.root);
	EVP_PKEY_free(fake.leaf_key);
	EVP_PKEY_free(fake.root_key);
	fake.leaf = fake.root = NULL;
	fake.leaf_key = fake.root_key = NULL;
}

/* ---- EAL and group fixture ---- */

static int
group_setup(void **state)
{
	(void)state;
	g.vctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	assert_non_null(g.vctx);
	if (inproc_setup(&g.p, "test_worker", false, -1) != 0) {
		inproc_teardown(&g.p);
		fail_msg("in-process EAL and signers could not start");
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	inproc_teardown(&g.p);
	secp256k1_context_destroy(g.vctx);
	return 0;
}

/* ---- engine per test ---- */

static void
base_conf(struct zcs_engine_conf *conf)
{
	inproc_conf(&g.p, conf);
}

static uint32_t
shard_state(unsigned int shard)
{
	return __atomic_load_n(&g.sh->shards[shard].state, __ATOMIC_ACQUIRE);
}

static uint64_t
load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
wait_state(unsigned int shard, uint32_t want)
{
	uint64_t end = inproc_now_ms() + WAIT_MS;

	while (shard_state(shard) != want) {
		if (inproc_now_ms() > end)
			fail_msg("shard %u: state %u, waited for %u", shard, shard_state(shard),
				want);
		usleep(1000);
	}
}

static void
wait_inflight(unsigned int shard, uint64_t want)
{
	uint64_t end = inproc_now_ms() + WAIT_MS;

	while (load64(&g.sh->shards[shard].inflight) != want) {
		if (inproc_now_ms() > end)
			fail_msg("shard %u: %" PRIu64 " in flight, waited for %" PRIu64, shard,
				load64(&g.sh->shards[shard].inflight), want);
		usleep(1000);
	}
}

static void
engine_up(struct zcs_engine_conf *conf, bool wait_up)
{
	unsigned int i;

	memset(g.sent, 0, sizeof(g.sent));
	g.nsent = 0;
	memset(g.last_cookie, 0, sizeof(g.last_cookie));
	g.e = zcs_engine_start(conf);
	assert_non_null(g.e);
	g.sh = zcs_shards_lookup();
	assert_non_null(g.sh);
	g.c = zcs_attach("test_worker");
	assert_non_null(g.c);
	assert_int_equal(zcs_shard_count(g.c), INPROC_SHARDS);
	/* Shards without an lcore take the worker lcores in order. */
	for (i = 0; i < INPROC_SHARDS; i++)
		assert_int_equal(g.sh->shards[i].lcore, i + 1);
	if (wait_up)
		for (i = 0; i < INPROC_SHARDS; i++)
			wait_state(i, ZCS_SHARD_UP);
}

static int
test_teardown(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < INPROC_SHARDS; i++) {
		atomic_store(&g.p.sig[i].paused, 0);
		atomic_store(&g.p.sig[i].drop, 0);
	}
	if (g.e != NULL) {
		zcs_engine_stop(g.e);
		zcs_detach(g.c);
		zcs_engine_destroy(g.e);
	}
	g.e = NULL;
	g.c = NULL;
	g.sh = NULL;
	return 0;
}

/* After the STATS tests: the fake signer gone, shard 1's signer back to RFC 6979. */
static int
stats_teardown(void **state)
{
	test_teardown(state);
	fake_stop();
	if (g.presig != NULL) {
		inproc_signer_set_mode(&g.p, &g.p.sig[1], 0, NULL);
		zcs_presig_destroy(g.presig);
		g.presig = NULL;
	}
	return 0;
}

/* ---- requests ---- */

/* Submit one request for key k of shard s (k == -1: the shard's unknown account). */
static uint64_t
submit(int s, int k, uint8_t op, unsigned int algo, uint64_t deadline_tsc)
{
	struct sent *x;
	uint64_t cookie;
	int rc;

	assert_true(g.nsent < MAX_REQ);
	cookie = g.nsent++;
	x = &g.sent[cookie];
	x->shard = s;
	x->key = k;
	x->account = k < 0 ? g.p.sig[s].unknown : g.p.sig[s].accounts[k];
	x->algo = algo;
	x->op = op;
	assert_int_equal(getrandom(x->hash, sizeof(x->hash), 0), (ssize_t)sizeof(x->hash));
	if (op == ZCS_OP_PUBKEY) {
		rc = zcs_submit_pubkey(g.c, x->account, cookie);
	} else {
		struct zcs_sign_args a = {
			.account = x->account,
			.cookie = cookie,
			.deadline_tsc = deadline_tsc,
			.algo = algo,
			.hash = x->hash,
		};

		rc = zcs_submit(g.c, &a);
	}
	assert_int_equal(rc, 0);
	return cookie;
}

static void
verify_sig(const struct sent *x, const struct zcs_request *r)
{
	const uint8_t *pub33 = g.p.sig[x->shard].compressed[x->key];
	secp256k1_pubkey pub;

	assert_true(secp256k1_ec_pubkey_parse(g.vctx, &pub, pub33, 33));
	if (x->algo == ZCS_ALGO_ECDSA) {
		secp256k1_ecdsa_signature sig;

		assert_true(secp256k1_ecdsa_signature_parse_compact(g.vctx, &sig, r->sig));
		assert_true(secp256k1_ecdsa_verify(g.vctx, &sig, x->hash, &pub));
	} else if (x->algo == ZCS_ALGO_ECDSA_RECOVERABLE) {
		secp256k1_ecdsa_recoverable_signature rsig;
		secp256k1_ecdsa_signature sig;
		secp256k1_pubkey rec;
		uint8_t out[33];
		size_t len = sizeof(out);

		assert_true(secp256k1_ecdsa_signature_parse_compact(g.vctx, &sig, r->sig));
		assert_true(secp256k1_ecdsa_verify(g.vctx, &sig, x->hash, &pub));
		assert_true(secp256k1_ecdsa_recoverable_signature_parse_compact(
			g.vctx, &rsig, r->sig, r->recid));
		assert_true(secp256k1_ecdsa_recover(g.vctx, &rec, &rsig, x->hash));
		assert_true(secp256k1_ec_pubkey_serialize(
			g.vctx, out, &len, &rec, SECP256K1_EC_COMPRESSED));
		assert_memory_equal(out, pub33, 33);
	} else {
		secp256k1_xonly_pubkey xpub;

		assert_true(secp256k1_xonly_pubkey_parse(g.vctx, &xpub, pub33 + 1));
		assert_true(secp256k1_schnorrsig_verify(g.vctx, r->sig, x->hash, 32, &xpub));
	}
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * Collect n completions (each cookie once) and check each against want (the
 * status every one must have), or wants[cookie] when want < 0. OK signatures
 * are verified; failures carry no signature; an account's requests complete
 * in submission order.
 */
static void
collect(unsigned int n, int want, const int *wants)
{
	struct zcs_request *out[64];
	uint64_t end = inproc_now_ms() + WAIT_MS;
	unsigned int got = 0, k, i;

	while (got < n) {
		k = zcs_poll(g.c, out, RTE_MIN(64u, n - got));
		if (k == 0) {
			if (inproc_now_ms() > end)
				fail_msg("%u of %u completions after %d ms", got, n, WAIT_MS);
			usleep(200);
			continue;
		}
		for (i = 0; i < k; i++) {
			const struct zcs_request *r = out[i];
			const struct sent *x;
			int expect;
			uint64_t *last;

			assert_true(r->cookie < g.nsent);
			x = &g.sent[r->cookie];
			expect = want >= 0 ? want : wants[r->cookie];
			if (r->status != expect)
				fail_msg("cookie %" PRIu64 " (shard %d, key %d, op %u): status %s, "
					 "expected %s",
					r->cookie, x->shard, x->key, x->op,
					zcs_status_name(r->status), zcs_status_name(expect));
			assert_int_equal(r->account, x->account);
			assert_int_equal(r->op, x->op);
			last = &g.last_cookie[x->shard][x->key < 0 ? INPROC_NACC : x->key];
			/* cookie + 1 so that cookie 0 orders too */
			if (r->cookie + 1 <= *last)
				fail_msg("account %" PRIu64 ": cookie %" PRIu64
					 " completed after cookie %" PRIu64,
					x->account, r->cookie, *last - 1);
			*last = r->cookie + 1;
			if (r->status == ZCS_OK && x->op == ZCS_OP_SIGN)
				verify_sig(x, r);
			else if (r->status == ZCS_OK)
				assert_memory_equal(
					r->sig, g.p.sig[x->shard].compressed[x->key], 33);
			else
				assert_true(all_zero(r->sig, sizeof(r->sig)));
			/* Never sent: no frame left for the signer. */
			if (r->status == ZCS_ERR_EXPIRED || r->status == ZCS_ERR_MEASUREMENT)
				assert_int_equal(r->send_tsc, 0);
		}
		zcs_release(g.c, out, k);
		got += k;
	}
}

static void
expect_nothing_more(void)
{
	struct zcs_request *r;

	assert_int_equal(zcs_poll(g.c, &r, 1), 0);
}

/* submitted = signed + expired + failed, per shard dequeued = completed, nothing in flight. */
static void
check_reconciled(void)
{
	uint64_t done = 0, deq = 0;
	unsigned int i;

	for (i = 0; i < INPROC_SHARDS; i++) {
		const struct zcs_shard_state *st = &g.sh->shards[i];
		uint64_t sum = 0;
		unsigned int j;

		assert_int_equal(st->inflight, 0);
		assert_int_equal(st->dequeued, st->signed_ok + st->expired + st->failed);
		for (j = 0; j < ZCS_STATUS_MAX; j++)
			sum += st->by_status[j];
		assert_int_equal(sum, st->dequeued);
		assert_int_equal(st->by_status[ZCS_OK], st->signed_ok);
		assert_int_equal(st->by_status[ZCS_ERR_EXPIRED], st->expired);
		done += st->signed_ok + st->expired + st->failed;
		deq += st->dequeued;
	}
	assert_int_equal(g.sh->clients[zcs_client_slot(g.c)].submitted, g.nsent);
	assert_int_equal(done, g.nsent);
	assert_int_equal(deq, g.nsent);
}

static uint64_t
by_status(unsigned int shard, unsigned int st)
{
	return load64(&g.sh->shards[shard].by_status[st]);
}

/* ---- tests ---- */

static void
test_sign_verify_order(void **state)
{
	static const unsigned int algos[] = {
		ZCS_ALGO_ECDSA, ZCS_ALGO_ECDSA_RECOVERABLE, ZCS_ALGO_SCHNORR};
	struct zcs_engine_conf conf;
	unsigned int round, s, k, n = 0;

	(void)state;
	base_conf(&conf);
	engine_up(&conf, true);
	/* Interleaved accounts of both shards: 20 rounds x 2 shards x 4 keys x 3 algorithms. */
	for (round = 0; round < 20; round++)
		for (k = 0; k < INPROC_NACC; k++)
			for (s = 0; s < INPROC_SHARDS; s++) {
				submit((int)s, (int)k, ZCS_OP_SIGN, algos[(round + k) % 3], 0);
				n++;
			}
	collect(n, ZCS_OK, NULL);
	expect_nothing_more();
	for (s = 0; s < INPROC_SHARDS; s++) {
		assert_int_equal(load64(&g.sh->shards[s].signed_ok), n / INPROC_SHARDS);
		assert_int_equal(load64(&g.sh->shards[s].sent), n / INPROC_SHARDS);
		assert_int_equal(load64(&g.sh->shards[s].connects), 1);
		assert_int_equal(load64(&g.sh->shards[s].failed), 0);
		assert_int_equal(g.sh->shards[s].signer_keys, INPROC_NACC);
		assert_memory_equal(
			g.sh->shards[s].signer_measurement, g.p.measurement, ZCS_MEASUREMENT_LEN);
	}
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

static void
test_expired_unknown_pubkey(void **state)
{
	struct zcs_engine_conf conf;
	int wants[64];
	uint64_t c;
	unsigned int s;

	(void)state;
	base_conf(&conf);
	engine_up(&conf, true);
	for (s = 0; s < INPROC_SHARDS; s++) {
		/* One account: signed, expired, signed: completions stay in that order. */
		c = submit((int)s, 0, ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
		wants[c] = ZCS_OK;
		c = submit((int)s, 0, ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 1); /* long past */
		wants[c] = ZCS_ERR_EXPIRED;
		c = submit((int)s, 0, ZCS_OP_SIGN, ZCS_ALGO_SCHNORR,
			rte_rdtsc() + 30 * rte_get_tsc_hz()); /* far ahead */
		wants[c] = ZCS_OK;
		c = submit((int)s, 0, ZCS_OP_SIGN, ZCS_ALGO_ECDSA_RECOVERABLE, 1);
		wants[c] = ZCS_ERR_EXPIRED;
		/* The signer answers an unknown account and the connection goes on. */
		c = submit((int)s, -1, ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
		wants[c] = ZCS_ERR_UNKNOWN_ACCOUNT;
		c = submit((int)s, -1, ZCS_OP_PUBKEY, 0, 0);
		wants[c] = ZCS_ERR_UNKNOWN_ACCOUNT;
		c = submit((int)s, 1, ZCS_OP_PUBKEY, 0, 0);
		wants[c] = ZCS_OK;
		c = submit((int)s, 2, ZCS_OP_PUBKEY, 0, 0);
		wants[c] = ZCS_OK;
		c = submit((int)s, 2, ZCS_OP_SIGN, ZCS_ALGO_SCHNORR, 0);
		wants[c] = ZCS_OK;
	}
	collect(g.nsent, -1, wants);
	expect_nothing_more();
	for (s = 0; s < INPROC_SHARDS; s++) {
		assert_int_equal(by_status(s, ZCS_OK), 5);
		assert_int_equal(by_status(s, ZCS_ERR_EXPIRED), 2);
		assert_int_equal(by_status(s, ZCS_ERR_UNKNOWN_ACCOUNT), 2);
		/* Expired requests never reach the signer. */
		assert_int_equal(load64(&g.sh->shards[s].sent), 7);
		assert_int_equal(load64(&g.sh->shards[s].connects), 1);
		assert_int_equal(load64(&g.sh->shards[s].disconnects), 0);
	}
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

static void
test_signer_down_and_back(void **state)
{
	struct zcs_engine_conf conf;
	unsigned int i, before;
	struct inproc_signer *s1 = &g.p.sig[1];

	(void)state;
	base_conf(&conf);
	engine_up(&conf, true);

	/* Shard 1's signer stops reading: 20 requests stay in flight. */
	atomic_store(&s1->paused, 1);
	for (i = 0; i < 20; i++)
		submit(1, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
	wait_inflight(1, 20);
	/* Shard 0 is not affected. */
	for (i = 0; i < 10; i++)
		submit(0, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
	collect(10, ZCS_OK, NULL);

	/* The signer drops the connection: everything in flight fails. */
	atomic_store(&s1->drop, 1);
	collect(20, ZCS_ERR_SIGNER_DOWN, NULL);
	assert_int_equal(load64(&g.sh->shards[1].inflight), 0);

	/*
	 * While it does not answer (connections wait in its listen backlog), new
	 * requests fail at once, and shard 0 keeps signing.
	 */
	for (i = 0; i < 10; i++) {
		submit(1, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_SCHNORR, 0);
		submit(0, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_SCHNORR, 0);
	}
	{
		int wants[MAX_REQ];
		unsigned int c;

		for (c = 0; c < g.nsent; c++)
			wants[c] = g.sent[c].shard == 1 ? ZCS_ERR_SIGNER_DOWN : ZCS_OK;
		collect(20, -1, wants);
	}
	assert_int_not_equal(shard_state(1), ZCS_SHARD_UP);
	assert_int_equal(load64(&g.sh->shards[1].disconnects), 1);
	assert_int_equal(by_status(1, ZCS_ERR_SIGNER_DOWN), 30);
	assert_int_equal(by_status(0, ZCS_OK), 20);

	/* The signer answers again: the shard comes back by itself. */
	atomic_store(&s1->paused, 0);
	wait_state(1, ZCS_SHARD_UP);
	before = g.nsent;
	for (i = 0; i < 12; i++)
		submit(1, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_ECDSA_RECOVERABLE, 0);
	collect(g.nsent - before, ZCS_OK, NULL);
	expect_nothing_more();
	assert_true(load64(&g.sh->shards[1].connects) >= 2);
	assert_int_equal(load64(&g.sh->shards[0].connects), 1);
	assert_int_equal(load64(&g.sh->shards[0].disconnects), 0);
	assert_int_equal(by_status(1, ZCS_OK), 12);
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

static void
test_wrong_measurement(void **state)
{
	struct zcs_engine_conf conf;
	int wants[MAX_REQ];
	unsigned int i, c;

	(void)state;
	base_conf(&conf);
	conf.shard[1].has_measurement = 1;
	memcpy(conf.shard[1].measurement, g.p.measurement, ZCS_MEASUREMENT_LEN);
	conf.shard[1].measurement[7] ^= 0x40;
	engine_up(&conf, false);
	wait_state(0, ZCS_SHARD_UP);
	wait_state(1, ZCS_SHARD_REFUSED);
	/* What the signer presented is kept for the operator. */
	assert_memory_equal(
		g.sh->shards[1].signer_measurement, g.p.measurement, ZCS_MEASUREMENT_LEN);
	assert_int_equal(g.sh->shards[1].has_expected_measurement, 1);

	for (i = 0; i < 16; i++) {
		submit((int)(i % INPROC_SHARDS), (int)(i % INPROC_NACC), ZCS_OP_SIGN,
			ZCS_ALGO_ECDSA, 0);
		submit((int)(i % INPROC_SHARDS), (int)(i % INPROC_NACC), ZCS_OP_PUBKEY, 0, 0);
	}
	for (c = 0; c < g.nsent; c++)
		wants[c] = g.sent[c].shard == 1 ? ZCS_ERR_MEASUREMENT : ZCS_OK;
	collect(g.nsent, -1, wants);
	expect_nothing_more();
	assert_int_equal(by_status(1, ZCS_ERR_MEASUREMENT), 16);
	assert_int_equal(load64(&g.sh->shards[1].sent), 0);
	assert_int_equal(load64(&g.sh->shards[1].connects), 0);
	assert_int_equal(by_status(0, ZCS_OK), 16);
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

static void
test_wrong_shard(void **state)
{
	struct zcs_engine_conf conf;
	unsigned int i, s;

	(void)state;
	/* Each shard pointed at the other's signer: the signers refuse the HELLO. */
	base_conf(&conf);
	conf.shard[0].has_measurement = 0;
	snprintf(conf.shard[0].signer, sizeof(conf.shard[0].signer), "%s", g.p.sig[1].text);
	snprintf(conf.shard[1].signer, sizeof(conf.shard[1].signer), "%s", g.p.sig[0].text);
	engine_up(&conf, false);
	wait_state(0, ZCS_SHARD_REFUSED);
	wait_state(1, ZCS_SHARD_REFUSED);
	for (i = 0; i < 12; i++)
		submit((int)(i % INPROC_SHARDS), (int)(i % INPROC_NACC), ZCS_OP_SIGN,
			ZCS_ALGO_ECDSA, 0);
	collect(g.nsent, ZCS_ERR_WRONG_SHARD, NULL);
	expect_nothing_more();
	for (s = 0; s < INPROC_SHARDS; s++) {
		assert_int_equal(by_status(s, ZCS_ERR_WRONG_SHARD), 6);
		assert_int_equal(load64(&g.sh->shards[s].connects), 0);
		assert_int_equal(load64(&g.sh->shards[s].sent), 0);
	}
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

static void
test_drain(void **state)
{
	struct zcs_engine_conf conf;
	struct zcs_sign_args a;
	int wants[MAX_REQ];
	unsigned int i, c;
	uint8_t hash[32] = {1};

	(void)state;
	base_conf(&conf);
	engine_up(&conf, true);
	/* More than inflight_max per shard, so the drain has queued work too. */
	for (i = 0; i < 600; i++) {
		c = submit((int)(i % INPROC_SHARDS), (int)(i % INPROC_NACC), ZCS_OP_SIGN, 1 + i % 3,
			i % 25 == 7 ? 1 : 0);
		wants[c] = i % 25 == 7 ? ZCS_ERR_EXPIRED : ZCS_OK;
	}
	/* Stop at once: every accepted request still completes, signed. */
	assert_int_equal(zcs_engine_stop(g.e), 0);
	memset(&a, 0, sizeof(a));
	a.account = g.p.sig[0].accounts[0];
	a.algo = ZCS_ALGO_ECDSA;
	a.hash = hash;
	assert_int_equal(zcs_submit(g.c, &a), -ESHUTDOWN);
	collect(g.nsent, -1, wants);
	expect_nothing_more();
	check_reconciled();
	for (i = 0; i < INPROC_SHARDS; i++) {
		assert_int_equal(by_status(i, ZCS_ERR_EXPIRED), 12);
		assert_int_equal(by_status(i, ZCS_OK), 288);
		assert_int_equal(shard_state(i), ZCS_SHARD_DOWN);
	}
}

/* ---- the stop race: a client held between its stopping check and its enqueue ---- */

static sem_t stall_go;
static atomic_int stall_entered, stop_returned, submit_rc;

static void
stall_hook(void)
{
	atomic_store(&stall_entered, 1);
	while (sem_wait(&stall_go) != 0)
		;
}

static void *
stalled_submit(void *arg)
{
	struct zcs_sign_args *a = arg;

	atomic_store(&submit_rc, zcs_submit(g.c, a));
	return NULL;
}

static void *
stopper(void *arg)
{
	(void)arg;
	zcs_engine_stop(g.e);
	atomic_store(&stop_returned, 1);
	return NULL;
}

/*
 * zcs_submit() has passed its stopping check when zcs_engine_stop() begins:
 * the stop waits for its enqueue, and the request completes exactly once
 * (before the handshake the drain had finished and the request was stranded in
 * the ring, never completed).
 */
static void
test_stop_waits_for_submit(void **state)
{
	struct zcs_engine_conf conf;
	struct zcs_sign_args a;
	struct zcs_request *r;
	pthread_t sub, stop;
	uint8_t hash[32] = {7};
	uint64_t end;

	(void)state;
	base_conf(&conf);
	engine_up(&conf, true);
	assert_int_equal(sem_init(&stall_go, 0, 0), 0);
	atomic_store(&stall_entered, 0);
	atomic_store(&stop_returned, 0);
	atomic_store(&submit_rc, 1);
	memset(&a, 0, sizeof(a));
	a.account = g.p.sig[0].accounts[0];
	a.cookie = 4242;
	a.algo = ZCS_ALGO_ECDSA;
	a.hash = hash;
	zcs_client_test_stall = stall_hook;
	assert_int_equal(pthread_create(&sub, NULL, stalled_submit, &a), 0);
	end = inproc_now_ms() + WAIT_MS;
	while (!atomic_load(&stall_entered) && inproc_now_ms() < end)
		usleep(1000);
	assert_true(atomic_load(&stall_entered));
	assert_int_equal(pthread_create(&stop, NULL, stopper, NULL), 0);
	/* Well past the drain's grace: the stop must still be waiting for the client. */
	usleep(200 * 1000);
	assert_false(atomic_load(&stop_returned));
	zcs_client_test_stall = NULL;
	assert_int_equal(sem_post(&stall_go), 0);
	pthread_join(sub, NULL);
	pthread_join(stop, NULL);
	assert_int_equal(atomic_load(&submit_rc), 0);
	g.nsent++; /* for check_reconciled(): one request accepted */
	/* Its one completion: signed by the drain, not stranded in the ring. */
	end = inproc_now_ms() + WAIT_MS;
	while (zcs_poll(g.c, &r, 1) == 0) {
		if (inproc_now_ms() > end)
			fail_msg("the request accepted during the stop never completed");
		usleep(1000);
	}
	assert_true(r->cookie == 4242);
	assert_int_equal(r->status, ZCS_OK);
	zcs_release(g.c, &r, 1);
	expect_nothing_more();
	check_reconciled();
	sem_destroy(&stall_go);
}

static void
test_drain_deadline(void **state)
{
	struct zcs_engine_conf conf;
	int wants[MAX_REQ];
	unsigned int i, c;

	(void)state;
	base_conf(&conf);
	conf.drain_timeout_ms = 200;
	engine_up(&conf, true);
	atomic_store(&g.p.sig[1].paused, 1);
	for (i = 0; i < 10; i++) {
		c = submit(1, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
		wants[c] = ZCS_ERR_SHUTDOWN;
	}
	wait_inflight(1, 10);
	for (i = 0; i < 5; i++) {
		c = submit(0, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
		wants[c] = ZCS_OK;
	}
	/* Shard 1's signer never answers: the drain deadline fails its requests. */
	assert_int_equal(zcs_engine_stop(g.e), -ETIMEDOUT);
	collect(g.nsent, -1, wants);
	expect_nothing_more();
	check_reconciled();
	assert_int_equal(by_status(1, ZCS_ERR_SHUTDOWN), 10);
	assert_int_equal(by_status(0, ZCS_OK), 5);
}

static void
test_start_refusals(void **state)
{
	struct zcs_engine_conf conf;

	(void)state;
	/* Three shards, two worker lcores. */
	base_conf(&conf);
	conf.shards = 3;
	snprintf(conf.shard[2].signer, sizeof(conf.shard[2].signer), "unix:%s/none", g.p.dir);
	assert_null(zcs_engine_start(&conf));
	assert_int_equal(rte_errno, EINVAL);
	/* The main lcore only does control. */
	base_conf(&conf);
	conf.shard[0].lcore = rte_get_main_lcore();
	assert_null(zcs_engine_start(&conf));
	assert_int_equal(rte_errno, EINVAL);
	/* A bad configuration. */
	base_conf(&conf);
	conf.ring_size = 1000;
	assert_null(zcs_engine_start(&conf));
	assert_int_equal(rte_errno, EINVAL);
	/* Explicit lcores are honoured. */
	base_conf(&conf);
	conf.shard[0].lcore = 2;
	conf.shard[1].lcore = 1;
	g.e = zcs_engine_start(&conf);
	assert_non_null(g.e);
	g.sh = zcs_shards_lookup();
	assert_non_null(g.sh);
	assert_int_equal(g.sh->shards[0].lcore, 2);
	assert_int_equal(g.sh->shards[1].lcore, 1);
	/* One engine per EAL. */
	assert_null(zcs_engine_start(&conf));
	assert_int_equal(rte_errno, EEXIST);
	g.c = zcs_attach("test_worker");
	assert_non_null(g.c);
}

/* ---- STATS ---- */

/* A copy of shard's signer counters; rx_tsc 0 until a STATS_REPLY came. */
static struct zcs_signer_stats
signer_stats(unsigned int shard)
{
	struct zcs_signer_stats s;

	assert_int_equal(zcs_shard_signer_stats_read(&g.sh->shards[shard], &s), 0);
	return s;
}

/* What shard's signer has signed since it started (it outlives the tests' engines). */
static uint64_t
signer_signed(unsigned int shard)
{
	return __atomic_load_n(&g.p.sig[shard].srv->stats.signed_ok, __ATOMIC_RELAXED);
}

/* Wait until shard's signer has reported signed_ok == n (and the depths given, unless -1). */
static struct zcs_signer_stats
wait_signer_stats(unsigned int shard, uint64_t n, int64_t ecdsa_depth, int64_t schnorr_depth)
{
	uint64_t end = inproc_now_ms() + WAIT_MS;
	struct zcs_signer_stats s;

	for (;;) {
		s = signer_stats(shard);
		if (s.rx_tsc != 0 && s.signed_ok == n &&
			(ecdsa_depth < 0 || s.ecdsa_depth == ecdsa_depth) &&
			(schnorr_depth < 0 || s.schnorr_depth == schnorr_depth))
			return s;
		if (inproc_now_ms() > end)
			fail_msg("shard %u: signer stats (rx_tsc %" PRIu64 ") signed_ok %" PRIu64
				 ", depths %u %u; waited for %" PRIu64 ", %" PRId64 ", %" PRId64,
				shard, s.rx_tsc, s.signed_ok, s.ecdsa_depth, s.schnorr_depth, n,
				ecdsa_depth, schnorr_depth);
		usleep(1000);
	}
}

static void
test_stats_precomputed(void **state)
{
	struct zcs_engine_conf conf;
	struct zcs_presig_conf pc;
	struct zcs_signer_stats s;
	uint64_t sent_before, base0 = signer_signed(0);
	unsigned int i;

	(void)state;
	/*
	 * Shard 1's signer, restarted (its signed_ok counts from 0): precomputed,
	 * pools of 8 and 4 filled once, no refill thread yet.
	 */
	zcs_presig_conf_default(&pc);
	pc.capacity[ZCS_PRESIG_ECDSA] = 8;
	pc.capacity[ZCS_PRESIG_SCHNORR] = 4;
	g.presig = zcs_presig_create(&pc);
	assert_non_null(g.presig);
	assert_int_equal(zcs_presig_refill(g.presig, ZCS_PRESIG_ECDSA, 8), 8);
	assert_int_equal(zcs_presig_refill(g.presig, ZCS_PRESIG_SCHNORR, 4), 4);
	inproc_signer_set_mode(&g.p, &g.p.sig[1], ZCS_NONCE_PRECOMPUTED, g.presig);

	base_conf(&conf);
	conf.stats_interval_ms = STATS_MS;
	engine_up(&conf, true);
	/* The STATS after the handshake: full pools, nothing signed. */
	s = wait_signer_stats(1, 0, 8, 4);
	assert_int_equal(s.nonce_mode, ZCS_NONCE_PRECOMPUTED);
	assert_int_equal(s.ecdsa_capacity, 8);
	assert_int_equal(s.schnorr_capacity, 4);
	assert_int_equal(s.refilled, 12);
	assert_int_equal(s.misses, 0);

	/* 20 ECDSA (both kinds) and 10 BIP-340: 12 and 6 past the pools. */
	for (i = 0; i < 20; i++)
		submit(1, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_ECDSA + (i & 1), 0);
	for (i = 0; i < 10; i++)
		submit(1, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_SCHNORR, 0);
	for (i = 0; i < 7; i++)
		submit(0, (int)(i % INPROC_NACC), ZCS_OP_SIGN, ZCS_ALGO_SCHNORR, 0);
	collect(g.nsent, ZCS_OK, NULL);
	expect_nothing_more();
	s = wait_signer_stats(1, 30, -1, -1);
	assert_int_equal(s.nonce_mode, ZCS_NONCE_PRECOMPUTED);
	assert_int_equal(s.ecdsa_capacity, 8);
	assert_int_equal(s.schnorr_capacity, 4);
	assert_true(s.ecdsa_depth <= s.ecdsa_capacity);
	assert_true(s.schnorr_depth <= s.schnorr_capacity);
	assert_int_equal(s.ecdsa_depth, 0); /* nothing refills them */
	assert_int_equal(s.schnorr_depth, 0);
	assert_int_equal(s.misses, 18);
	assert_int_equal(s.refilled, 12);
	assert_int_equal(s.discards, 0);
	/* Shard 0's signer has no pools. */
	s = wait_signer_stats(0, base0 + 7, 0, 0);
	assert_int_equal(s.nonce_mode, ZCS_NONCE_RFC6979);
	assert_int_equal(s.ecdsa_capacity + s.schnorr_capacity, 0);
	assert_int_equal(s.refilled + s.misses + s.discards, 0);

	/* The refill thread fills the pools again; the next reports show it. */
	assert_int_equal(zcs_presig_start(g.presig), 0);
	s = wait_signer_stats(1, 30, 8, 4);
	assert_true(s.refilled >= 24);
	assert_int_equal(s.misses, 18);

	/* STATS rode along without disturbing the requests' accounting. */
	for (i = 0; i < INPROC_SHARDS; i++) {
		const struct zcs_shard_state *st = &g.sh->shards[i];

		assert_true(load64(&st->stats_requests) >= 2); /* after the handshake, and later */
		assert_int_equal(load64(&st->disconnects), 0);
		assert_int_equal(load64(&st->connects), 1);
		assert_int_equal(load64(&st->inflight), 0);
	}
	assert_int_equal(load64(&g.sh->shards[1].sent), 30);
	assert_int_equal(load64(&g.sh->shards[1].signed_ok), signer_stats(1).signed_ok);
	assert_int_equal(load64(&g.sh->shards[0].sent), 7);
	/* The signer answered every STATS it was sent (the last may be on its way). */
	sent_before = load64(&g.sh->shards[1].stats_requests);
	assert_true(__atomic_load_n(&g.p.sig[1].srv->stats.stats_replies, __ATOMIC_RELAXED) + 1 >=
		sent_before);
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

static void
test_stats_off(void **state)
{
	struct zcs_engine_conf conf;
	uint64_t replies[INPROC_SHARDS];
	unsigned int i;

	(void)state;
	for (i = 0; i < INPROC_SHARDS; i++)
		replies[i] =
			__atomic_load_n(&g.p.sig[i].srv->stats.stats_replies, __ATOMIC_RELAXED);
	base_conf(&conf);
	conf.stats_interval_ms = 0;
	engine_up(&conf, true);
	for (i = 0; i < 24; i++) {
		submit((int)(i % INPROC_SHARDS), (int)(i % INPROC_NACC), ZCS_OP_SIGN,
			ZCS_ALGO_ECDSA, 0);
		submit((int)(i % INPROC_SHARDS), (int)(i % INPROC_NACC), ZCS_OP_PUBKEY, 0, 0);
	}
	/*
	 * A STATS sent after the handshake would have been answered before these
	 * replies (one connection, in order): once they are in, none was sent.
	 */
	collect(g.nsent, ZCS_OK, NULL);
	for (i = 0; i < INPROC_SHARDS; i++) {
		assert_int_equal(load64(&g.sh->shards[i].stats_requests), 0);
		assert_int_equal(signer_stats(i).rx_tsc, 0);
		assert_int_equal(
			__atomic_load_n(&g.p.sig[i].srv->stats.stats_replies, __ATOMIC_RELAXED),
			replies[i]);
	}
	assert_int_equal(zcs_engine_stop(g.e), 0);
	check_reconciled();
}

/* Shard 1 talks to the fake signer (no measurement pinned: the fake sends the real one). */
static void
fake_engine_up(enum fake_mode mode, uint32_t stats_interval_ms)
{
	struct zcs_engine_conf conf;

	fake_start(mode);
	base_conf(&conf);
	conf.stats_interval_ms = stats_interval_ms;
	snprintf(conf.shard[1].signer, sizeof(conf.shard[1].signer), "%s", fake.text);
	engine_up(&conf, false);
	wait_state(0, ZCS_SHARD_UP);
}

static void
wait_disconnects(unsigned int shard, uint64_t n)
{
	uint64_t end = inproc_now_ms() + WAIT_MS;

	while (load64(&g.sh->shards[shard].disconnects) < n) {
		if (inproc_now_ms() > end)
			fail_msg("shard %u: %" PRIu64 " disconnects, waited for %" PRIu64, shard,
				load64(&g.sh->shards[shard].disconnects), n);
		usleep(1000);
	}
}

/*
 * A replayed attestation document is refused. The fake holds a dev CA leaf
 * and answers the first handshake's ATTEST with a document made for its
 * nonce: shard 1 goes UP (so the fake's documents verify: chain, signature,
 * PCR0, timestamp). The host then drops the connection and answers the
 * reconnect's ATTEST with that recorded, genuine document: the worker's fresh
 * nonce does not match, the shard is REFUSED naming the nonce, and its
 * requests complete attestation.
 */
static void
test_attest_replay_refused(void **state)
{
	int64_t now = (int64_t)time(NULL);
	struct zcs_engine_conf conf;
	FILE *f;

	(void)state;
	fake.root_key = zcs_attest_p384_new();
	fake.leaf_key = zcs_attest_p384_new();
	assert_non_null(fake.root_key);
	assert_non_null(fake.leaf_key);
	fake.root = zcs_attest_cert_new(
		fake.root_key, "replay root", now - 3600, now + 3600, NULL, NULL, true, -1);
	assert_non_null(fake.root);
	fake.leaf = zcs_attest_cert_new(fake.leaf_key, "replay leaf", now - 3600, now + 3600,
		fake.root, fake.root_key, false, -1);
	assert_non_null(fake.leaf);
	assert_true(snprintf(fake.root_pem, sizeof(fake.root_pem), "%s/replay-root.pem", g.p.dir) <
		(int)sizeof(fake.root_pem));
	f = fopen(fake.root_pem, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, fake.root), 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(getrandom(fake.pcr0, sizeof(fake.pcr0), 0), (ssize_t)sizeof(fake.pcr0));
	atomic_store(&fake.docs_signed, 0);
	atomic_store(&fake.docs_replayed, 0);
	atomic_store(&fake.drop, 0);
	atomic_store(&fake.honest, 0);

	fake_start(FAKE_REPLAY);
	base_conf(&conf);
	conf.stats_interval_ms = 0;
	snprintf(conf.shard[1].signer, sizeof(conf.shard[1].signer), "%s", fake.text);
	conf.shard[1].attest = ZCS_ENGINE_ATTEST_DEV;
	snprintf(conf.shard[1].attest_root, sizeof(conf.shard[1].attest_root), "%s", fake.root_pem);
	conf.shard[1].pcr_mask = 1;
	memcpy(conf.shard[1].pcr[0], fake.pcr0, sizeof(fake.pcr0));
	engine_up(&conf, false);
	wait_state(0, ZCS_SHARD_UP);
	wait_state(1, ZCS_SHARD_UP);
	assert_int_equal(atomic_load(&fake.docs_signed), 1);
	assert_int_equal(atomic_load(&fake.docs_replayed), 0);

	atomic_store(&fake.drop, 1);
	wait_state(1, ZCS_SHARD_REFUSED);
	assert_int_equal(atomic_load(&fake.docs_signed), 1);
	assert_true(atomic_load(&fake.docs_replayed) >= 1);
	assert_true(atomic_load(&fake.conns) >= 2);
	if (strstr(g.sh->shards[1].refused_reason, "the nonce is not the one asked for") == NULL)
		fail_msg("refused_reason '%s'", g.sh->shards[1].refused_reason);
	submit(1, 0, ZCS_OP_PUBKEY, 0, 0);
	collect(1, ZCS_ERR_ATTESTATION, NULL);
	/* Shard 0 signs on. */
	submit(0, 0, ZCS_OP_SIGN, ZCS_ALGO_ECDSA, 0);
	collect(1, ZCS_OK, NULL);
	/* The verdict is per connection: once the signer answers fresh documents, the shard is
	 * back. */
	atomic_store(&fake.honest, 1);
	wait_state(1, ZCS_SHARD_UP);
	assert_int_equal(atomic_load(&fake.docs_signed), 2);
	assert_string_equal(g.sh->shards[1].refused_reason, "");
}

/* The fake, answering STATS right: its replies are taken (the control for the next tests). */
static void
test_stats_fake_good(void **state)
{
	struct zcs_signer_stats s;

	(void)state;
	fake_engine_up(FAKE_GOOD, STATS_MS);
	wait_state(1, ZCS_SHARD_UP);
	s = wait_signer_stats(1, 0, 0, 0);
	assert_int_equal(s.nonce_mode, ZCS_NONCE_RFC6979);
	assert_int_equal(load64(&g.sh->shards[1].disconnects), 0);
	assert_int_equal(atomic_load(&fake.conns), 1);
}

/* A STATS_REPLY with another seq than the request's is bad_sequence: the connection drops. */
static void
test_stats_bad_seq(void **state)
{
	(void)state;
	fake_engine_up(FAKE_BAD_SEQ, STATS_MS);
	wait_disconnects(1, 2);
	assert_true(atomic_load(&fake.stats_seen) >= 2);
	assert_true(atomic_load(&fake.conns) >= 2);
	/* Never taken, not even once. */
	assert_int_equal(signer_stats(1).rx_tsc, 0);
	assert_int_equal(load64(&g.sh->shards[0].disconnects), 0);
}

/* A STATS_REPLY nobody asked for (STATS off) is bad_sequence too. */
static void
test_stats_unsolicited(void **state)
{
	(void)state;
	fake_engine_up(FAKE_UNSOLICITED, 0);
	wait_disconnects(1, 2);
	assert_int_equal(atomic_load(&fake.stats_seen), 0);
	assert_int_equal(signer_stats(1).rx_tsc, 0);
	assert_int_equal(load64(&g.sh->shards[1].stats_requests), 0);
}

/* A signer older than STATS closes on the first one; the worker then stops asking it. */
static void
test_stats_old_signer(void **state)
{
	uint64_t c;

	(void)state;
	fake_engine_up(FAKE_OLD, STATS_MS);
	wait_disconnects(1, 1);
	wait_state(1, ZCS_SHARD_UP);
	/* A request after the reconnect: a STATS sent before it would reach the fake first. */
	c = submit(1, 0, ZCS_OP_PUBKEY, 0, 0);
	collect(1, ZCS_ERR_UNKNOWN_ACCOUNT, NULL);
	assert_int_equal(c, 0);
	assert_int_equal(atomic_load(&fake.stats_seen), 1);
	assert_int_equal(load64(&g.sh->shards[1].stats_requests), 1);
	assert_int_equal(load64(&g.sh->shards[1].disconnects), 1);
	assert_int_equal(atomic_load(&fake.conns), 2);
	assert_int_equal(signer_stats(1).rx_tsc, 0);
	/* Shard 0's signer knows STATS: still asked. */
	wait_signer_stats(0, signer_signed(0), 0, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sign_verify_order, test_teardown),
		cmocka_unit_test_teardown(test_expired_unknown_pubkey, test_teardown),
		cmocka_unit_test_teardown(test_signer_down_and_back, test_teardown),
		cmocka_unit_test_teardown(test_wrong_measurement, test_teardown),
		cmocka_unit_test_teardown(test_wrong_shard, test_teardown),
		cmocka_unit_test_teardown(test_drain, test_teardown),
		cmocka_unit_test_teardown(test_drain_deadline, test_teardown),
		cmocka_unit_test_teardown(test_stop_waits_for_submit, test_teardown),
		cmocka_unit_test_teardown(test_start_refusals, test_teardown),
		cmocka_unit_test_teardown(test_stats_precomputed, stats_teardown),
		cmocka_unit_test_teardown(test_stats_off, test_teardown),
		cmocka_unit_test_teardown(test_stats_fake_good, stats_teardown),
		cmocka_unit_test_teardown(test_stats_bad_seq, stats_teardown),
		cmocka_unit_test_teardown(test_stats_unsolicited, stats_teardown),
		cmocka_unit_test_teardown(test_stats_old_signer, stats_teardown),
		cmocka_unit_test_teardown(test_attest_replay_refused, stats_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
