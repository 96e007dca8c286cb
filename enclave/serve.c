/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The signer's connection loop: see serve.h for the contract. Read top to
 * bottom: helpers, frame handlers, the per-connection step, accept, the loop.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "attest_source.h"
#include "clock.h"
#include "keystore.h"
#include "presig.h"
#include "serve.h"
#include "sign.h"

#define LOG_PREFIX "zcsign-enclave: "

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static const char *
frame_name(unsigned int type)
{
	static const char *const names[] = {
		[ZCS_FT_HELLO] = "HELLO",
		[ZCS_FT_HELLO_REPLY] = "HELLO_REPLY",
		[ZCS_FT_SIGN] = "SIGN",
		[ZCS_FT_SIGN_REPLY] = "SIGN_REPLY",
		[ZCS_FT_PUBKEY] = "PUBKEY",
		[ZCS_FT_PUBKEY_REPLY] = "PUBKEY_REPLY",
		[ZCS_FT_ERROR] = "ERROR",
		[ZCS_FT_STATS] = "STATS",
		[ZCS_FT_STATS_REPLY] = "STATS_REPLY",
		[ZCS_FT_ATTEST] = "ATTEST",
		[ZCS_FT_ATTEST_REPLY] = "ATTEST_REPLY",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
		return names[type];
	return "unknown";
}

/* Sequence number of a decoded frame, for the ERROR that answers it (0 if none). */
static uint64_t
frame_seq(const union zcs_wire_frame *f)
{
	switch (f->hdr.type) {
	case ZCS_FT_SIGN:
		return f->sign.seq;
	case ZCS_FT_SIGN_REPLY:
		return f->sign_reply.seq;
	case ZCS_FT_PUBKEY:
		return f->pubkey.seq;
	case ZCS_FT_PUBKEY_REPLY:
		return f->pubkey_reply.seq;
	case ZCS_FT_ERROR:
		return f->error.seq;
	case ZCS_FT_STATS:
		return f->stats.seq;
	case ZCS_FT_STATS_REPLY:
		return f->stats_reply.seq;
	default:
		return 0;
	}
}

/*
 * Bytes that can still be appended to tx once it is compacted. Compaction
 * moves by a multiple of 8 so frames appended after it stay aligned for the
 * in-place encoders.
 */
static inline size_t
tx_room(const struct zcs_server *srv)
{
	return ZCS_SERVE_TX_BUF - srv->tx_len + (srv->tx_off & ~(size_t)7);
}

/* Space for one frame at the end of tx; the caller checked tx_room(). */
static inline void *
tx_slot(struct zcs_server *srv, size_t size)
{
	void *p;

	if (unlikely(ZCS_SERVE_TX_BUF - srv->tx_len < size)) {
		size_t shift = srv->tx_off & ~(size_t)7;

		memmove(srv->tx, srv->tx + shift, srv->tx_len - shift);
		srv->tx_off -= shift;
		srv->tx_len -= shift;
	}
	p = srv->tx + srv->tx_len;
	srv->tx_len += size;
	return p;
}

/*
 * Queue ERROR and mark the connection for closing: the step that queued it
 * flushes once and closes, whatever the client does.
 */
static void
fail_conn(struct zcs_server *srv, uint64_t seq, int status)
{
	zcs_wire_error(tx_slot(srv, sizeof(struct zcs_wire_error)), seq, (uint16_t)status);
	srv->closing = true;
	srv->stats.conns_dropped++;
}

static void
unexpected_frame(struct zcs_server *srv, const union zcs_wire_frame *f)
{
	fprintf(stderr, LOG_PREFIX "closing connection: unexpected %s frame %s\n",
		frame_name(f->hdr.type), srv->hello_done ? "after the handshake" : "before HELLO");
	fail_conn(srv, frame_seq(f), ZCS_ERR_UNEXPECTED);
}

static void
handle_hello(struct zcs_server *srv, const struct zcs_wire_hello *h, int st)
{
	const struct zcs_keystore *ks = srv->ks;

	if (st != 0) {
		fprintf(stderr, LOG_PREFIX "closing connection: bad HELLO: %s\n", zcs_strerror(st));
		fail_conn(srv, 0, st);
		return;
	}
	/* ZCS_SHARD_ANY (no shard named) only when configured: a client names its shard. */
	if ((h->shard_id == ZCS_SHARD_ANY && !srv->conf.any_shard) ||
		(h->shard_id != ZCS_SHARD_ANY &&
			(h->shard_id != ks->shard_id || h->shard_count != ks->shard_count))) {
		fprintf(stderr,
			LOG_PREFIX "closing connection: wrong shard: client asked for shard "
				   "%u/%u, this signer holds shard %u/%u\n",
			h->shard_id, h->shard_count, ks->shard_id, ks->shard_count);
		fail_conn(srv, 0, ZCS_ERR_WRONG_SHARD);
		return;
	}
	zcs_wire_hello_reply(tx_slot(srv, sizeof(struct zcs_wire_hello_reply)), ks->shard_id,
		ks->shard_count, ks->count, (uint8_t)srv->conf.nonce, ks->source,
		srv->conf.measurement);
	srv->hello_done = true;
}

/* Why an account has no key: the signer holds none yet, or none for it. */
static int
no_key_status(const struct zcs_server *srv)
{
	return srv->ks->source == ZCS_KEYS_SEALED ? ZCS_ERR_SEALED : ZCS_ERR_UNKNOWN_ACCOUNT;
}

/* Sign under the configured nonce mode. */
static inline int
sign_one(struct zcs_server *srv, uint8_t sig[64], uint8_t *recid, const struct zcs_key *key,
	const struct zcs_wire_sign *req)
{
	if (likely(srv->conf.nonce == ZCS_NONCE_PRECOMPUTED))
		return zcs_presig_sign(
			srv->conf.ctx, srv->conf.presig, sig, recid, key, req->algo, req->hash);
	return zcs_sign(srv->conf.ctx, sig, recid, key, req->algo, srv->conf.nonce, req->hash);
}

/* --verify: a signature libsecp256k1 refuses is never sent (a fault, or a bug). */
static int
verify_one(struct zcs_server *srv, const struct zcs_key *key, const struct zcs_wire_sign *req,
	const uint8_t sig[64], uint8_t recid)
{
	if (likely(zcs_sign_verify_var(srv->conf.ctx, key, req->algo, req->hash, sig, recid)))
		return ZCS_OK;
	srv->stats.verify_failed++;
	fprintf(stderr,
		LOG_PREFIX "verify-after-sign failed: account %llu, algo %s, seq %llu "
			   "(signature withheld)\n",
		(unsigned long long)req->account, zcs_algo_name(req->algo),
		(unsigned long long)req->seq);
	return ZCS_ERR_SIGN_FAILED;
}

static void
handle_sign(struct zcs_server *srv, const struct zcs_wire_sign *req, int st)
{
	struct zcs_wire_sign_reply *rep = tx_slot(srv, sizeof(*rep));
	const struct zcs_key *key = NULL;
	uint8_t recid = 0;
	uint8_t sig[64];

	if (likely(st == 0)) {
		key = zcs_keystore_find(srv->ks, req->account);
		if (likely(key != NULL))
			st = sign_one(srv, sig, &recid, key, req);
		else
			st = no_key_status(srv);
		if (unlikely(srv->conf.verify) && st == ZCS_OK)
			st = verify_one(srv, key, req, sig, recid);
	}
	if (likely(st == ZCS_OK)) {
		srv->stats.signed_ok++;
		zcs_wire_sign_reply(rep, req->seq, ZCS_OK, recid, zcs_mono_ns() - srv->rx_ns, sig);
	} else {
		srv->stats.sign_errors++;
		zcs_wire_sign_reply(
			rep, req->seq, (uint16_t)st, 0, zcs_mono_ns() - srv->rx_ns, NULL);
	}
}

static void
handle_pubkey(struct zcs_server *srv, const struct zcs_wire_pubkey *req, int st)
{
	struct zcs_wire_pubkey_reply *rep = tx_slot(srv, sizeof(*rep));
	const struct zcs_key *key = NULL;

	if (st == 0) {
		key = zcs_keystore_find(srv->ks, req->account);
		if (key == NULL)
			st = no_key_status(srv);
	}
	if (st == 0) {
		srv->stats.pubkeys++;
		zcs_wire_pubkey_reply(rep, req->seq, ZCS_OK, key->pub_compressed, key->pub_xonly);
	} else {
		srv->stats.sign_errors++;
		zcs_wire_pubkey_reply(rep, req->seq, (uint16_t)st, NULL, NULL);
	}
}

/* Counters of the nonce mode and the pools (zero without pools), and signatures made. */
static void
handle_stats(struct zcs_server *srv, const struct zcs_wire_stats *req)
{
	struct zcs_wire_stats_reply r;
	struct zcs_presig_stats ps;
	unsigned int k;

	memset(&r, 0, sizeof(r));
	r.nonce_mode = (uint8_t)srv->conf.nonce;
	r.key_source = srv->ks->source;
	r.key_count = srv->ks->count;
	if (srv->conf.nonce == ZCS_NONCE_PRECOMPUTED) {
		zcs_presig_stats(srv->conf.presig, &ps);
		r.ecdsa_depth = ps.depth[ZCS_PRESIG_ECDSA];
		r.ecdsa_capacity = ps.capacity[ZCS_PRESIG_ECDSA];
		r.schnorr_depth = ps.depth[ZCS_PRESIG_SCHNORR];
		r.schnorr_capacity = ps.capacity[ZCS_PRESIG_SCHNORR];
		for (k = 0; k < ZCS_PRESIG_KINDS; k++) {
			r.refilled += ps.refilled[k];
			r.misses += ps.misses[k];
			r.discards += ps.discards[k];
		}
	}
	r.signed_ok = srv->stats.signed_ok;
	zcs_wire_stats_reply(tx_slot(srv, sizeof(struct zcs_wire_stats_reply)), req->seq, &r);
	srv->stats.stats_replies++;
}

/* One ATTEST_REPLY frame with a status and no document. */
static void
attest_refused(struct zcs_server *srv, uint64_t seq, uint16_t status)
{
	zcs_wire_attest_reply(
		tx_slot(srv, sizeof(struct zcs_wire_attest_reply)), seq, status, 0, 0, NULL, 0);
}

/*
 * A document carrying the client's nonce, in ATTEST_REPLY chunks queued in one
 * go (cold path: once per connection). Without a source, one ATTEST_REPLY
 * ZCS_ERR_NO_ATTESTATION; when tx cannot take the whole document, BUSY (the
 * client asks again once it has read its replies).
 */
static void
handle_attest(struct zcs_server *srv, const struct zcs_wire_attest *req)
{
	static uint8_t doc[ZCS_WIRE_ATTEST_MAX];
	size_t len = 0, bytes;
	char err[256];

	if (srv->conf.attest == NULL) {
		attest_refused(srv, req->seq, ZCS_ERR_NO_ATTESTATION);
		return;
	}
	if (zcs_attest_source_document(srv->conf.attest, doc, sizeof(doc), &len, req->nonce,
		    zcs_key_source_name(srv->ks->source), NULL, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, LOG_PREFIX "no attestation document: %s\n", err);
		attest_refused(srv, req->seq, ZCS_ERR_INTERNAL);
		return;
	}
	bytes = ZCS_WIRE_ATTEST_FRAMES(len) * sizeof(struct zcs_wire_attest_reply);
	if (tx_room(srv) < bytes) {
		attest_refused(srv, req->seq, ZCS_ERR_BUSY);
		return;
	}
	zcs_wire_attest_doc(tx_slot(srv, bytes), req->seq, doc, len);
	srv->stats.attestations++;
}

/* st: 0 or the non-fatal decode status of f. */
static void
handle_frame(struct zcs_server *srv, const union zcs_wire_frame *f, int st)
{
	if (unlikely(!srv->hello_done)) {
		if (f->hdr.type == ZCS_FT_HELLO)
			handle_hello(srv, &f->hello, st);
		else
			unexpected_frame(srv, f);
		return;
	}
	switch (f->hdr.type) {
	case ZCS_FT_SIGN:
		handle_sign(srv, &f->sign, st);
		break;
	case ZCS_FT_PUBKEY:
		handle_pubkey(srv, &f->pubkey, st);
		break;
	case ZCS_FT_STATS:
		/* A STATS frame has no body to be wrong: st is 0. */
		handle_stats(srv, &f->stats);
		break;
	case ZCS_FT_ATTEST:
		handle_attest(srv, &f->attest);
		break;
	default:
		/* A second HELLO, or a frame only the signer sends. */
		unexpected_frame(srv, f);
		break;
	}
}

/* The header bytes go in the log line: they tell a wrong peer from a bug. */
static void
log_malformed(const uint8_t hdr[8], int st)
{
	fprintf(stderr,
		LOG_PREFIX "closing connection: malformed frame: %s (header "
			   "%02x%02x%02x%02x %02x %02x %02x%02x)\n",
		zcs_strerror(st), hdr[0], hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6], hdr[7]);
}

/*
 * Decode and answer every whole frame in rx. Stops early when tx cannot take
 * another reply (rx_stalled: the rest waits for the client to read) or when
 * the connection must close.
 */
static void
process_rx(struct zcs_server *srv)
{
	union zcs_wire_frame f;
	size_t off = srv->rx_off;
	size_t used = 0;
	int st;

	srv->rx_stalled = false;
	while (!srv->closing) {
		if (unlikely(tx_room(srv) < ZCS_WIRE_MAX_FRAME)) {
			srv->rx_stalled = true;
			srv->stats.rx_stalls++;
			break;
		}
		st = zcs_wire_decode(srv->rx + off, srv->rx_len - off, &f, &used);
		if (st == ZCS_WIRE_NEED_MORE)
			break;
		if (unlikely(zcs_wire_status_fatal(st))) {
			/* No frame boundary any more: nothing after this can be trusted. */
			log_malformed(srv->rx + off, st);
			fail_conn(srv, 0, st);
			break;
		}
		off += used;
		handle_frame(srv, &f, st);
	}
	if (srv->rx_stalled) {
		srv->rx_off = off;
		return;
	}
	/* At most a partial frame is left: keep it at the start for the next recv. */
	srv->rx_len -= off;
	if (srv->rx_len > 0 && off > 0)
		memmove(srv->rx, srv->rx + off, srv->rx_len);
	srv->rx_off = 0;
}

/*
 * One send() of everything pending. Returns 1 on progress, 0 when the socket
 * is full or nothing is pending, -errno when the connection is gone.
 */
static int
flush_tx(struct zcs_server *srv)
{
	ssize_t n;

	if (srv->tx_len == srv->tx_off)
		return 0;
	n = send(srv->fd, srv->tx + srv->tx_off, srv->tx_len - srv->tx_off,
		MSG_NOSIGNAL | MSG_DONTWAIT);
	if (unlikely(n < 0)) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			srv->stats.send_short++;
			return 0;
		}
		return -errno;
	}
	if (unlikely((size_t)n < srv->tx_len - srv->tx_off))
		srv->stats.send_short++;
	srv->tx_off += (size_t)n;
	if (srv->tx_off == srv->tx_len)
		srv->tx_off = srv->tx_len = 0;
	return 1;
}

bool
zcs_serve_conn_active(const struct zcs_server *srv)
{
	return srv->fd >= 0;
}

void
zcs_serve_conn_close(struct zcs_server *srv, const char *why)
{
	uint8_t sink[4096];
	int i;

	if (srv->fd < 0)
		return;
	if (why != NULL)
		fprintf(stderr, LOG_PREFIX "connection closed: %s\n", why);
	/*
	 * Read away what the client already sent, a few buffers at most: closing
	 * with unread data makes the kernel reset the stream, which can hide the
	 * ERROR frame just sent from the client.
	 */
	for (i = 0; i < 4; i++)
		if (recv(srv->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
	close(srv->fd);
	srv->fd = -1;
	srv->hello_done = false;
	srv->closing = false;
	srv->rx_stalled = false;
	srv->rx_off = srv->rx_len = 0;
	srv->tx_off = srv->tx_len = 0;
}

static int
conn_lost(struct zcs_server *srv, int err)
{
	char why[128];

	if (err == 0)
		snprintf(why, sizeof(why), "client closed the connection");
	else
		snprintf(why, sizeof(why), "connection lost: %s", strerror(err));
	zcs_serve_conn_close(srv, why);
	return -1;
}

/* Read one batch and answer it. Returns 1 on progress, 0 when nothing came, -1 if closed. */
static int
recv_batch(struct zcs_server *srv)
{
	ssize_t n;
	int rc;

	n = recv(srv->fd, srv->rx + srv->rx_len, ZCS_SERVE_RX_BUF - srv->rx_len, MSG_DONTWAIT);
	if (n > 0) {
		srv->rx_ns = zcs_mono_ns();
		srv->rx_len += (size_t)n;
		process_rx(srv);
		rc = flush_tx(srv);
		return rc < 0 && !srv->closing ? conn_lost(srv, -rc) : 1;
	}
	if (n == 0)
		return conn_lost(srv, 0);
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	return conn_lost(srv, errno);
}

int
zcs_serve_conn_poll(struct zcs_server *srv)
{
	int busy = 0;
	int rc;

	if (unlikely(srv->fd < 0))
		return ZCS_SERVE_IDLE;
	if (unlikely(srv->tx_len != srv->tx_off)) {
		rc = flush_tx(srv);
		if (rc < 0)
			return conn_lost(srv, -rc);
		busy = rc;
	}
	if (likely(srv->tx_len - srv->tx_off <= ZCS_SERVE_TX_HIGH_WATER)) {
		if (unlikely(srv->rx_stalled)) {
			process_rx(srv);
			rc = flush_tx(srv);
			if (rc < 0 && !srv->closing)
				return conn_lost(srv, -rc);
			busy = 1;
		} else {
			rc = recv_batch(srv);
			if (rc < 0)
				return -1;
			busy |= rc;
		}
	}
	if (unlikely(srv->closing)) {
		/* The ERROR was sent with the batch (best effort: never block here). */
		zcs_serve_conn_close(srv, NULL);
		return -1;
	}
	return busy ? ZCS_SERVE_BUSY : ZCS_SERVE_IDLE;
}

int
zcs_serve_conn_open(struct zcs_server *srv, int fd)
{
	int fl;

	if (srv->fd >= 0)
		return -EBUSY;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	srv->fd = fd;
	srv->hello_done = false;
	srv->closing = false;
	srv->rx_stalled = false;
	srv->rx_off = srv->rx_len = 0;
	srv->tx_off = srv->tx_len = 0;
	srv->open_ns = zcs_mono_ns();
	srv->stats.conns_accepted++;
	return 0;
}

/* Close the connection when it has held the slot without a HELLO for too long. */
static void
check_handshake_deadline(struct zcs_server *srv)
{
	uint64_t limit = (uint64_t)srv->conf.handshake_timeout_ms * 1000000u;

	if (zcs_mono_ns() - srv->open_ns <= limit)
		return;
	fprintf(stderr, LOG_PREFIX "closing connection: no HELLO within %u ms\n",
		srv->conf.handshake_timeout_ms);
	srv->stats.handshake_timeouts++;
	zcs_serve_conn_close(srv, NULL);
}

/* The peer of a new connection, checked against the policy; false: refused (fd closed). */
static bool
peer_ok(struct zcs_server *srv, int fd)
{
	struct zcs_peer peer;
	char who[64];
	int rc = zcs_peer_get(&peer, fd, srv->conf.listen_kind);

	if (rc == 0 && zcs_peer_allowed(&srv->conf.peers, &peer))
		return true;
	if (rc == 0)
		zcs_peer_format(who, sizeof(who), &peer);
	else
		snprintf(who, sizeof(who), "a peer whose credentials are unreadable (%s)",
			strerror(-rc));
	fprintf(stderr, LOG_PREFIX "refused connection from %s: not an allowed peer\n", who);
	close(fd);
	srv->stats.peers_refused++;
	return false;
}

/* Answer a newcomer ERROR(BUSY) and close it: this signer serves one client. */
static void
refuse(struct zcs_server *srv, int fd)
{
	struct zcs_wire_error e;
	uint8_t sink[256];

	/* Log first: whoever sees the close can already read why. */
	fprintf(stderr, LOG_PREFIX "refused a second connection: shard %u already serves one\n",
		srv->ks->shard_id);
	zcs_wire_error(&e, 0, ZCS_ERR_BUSY);
	if (send(fd, &e, sizeof(e), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* The newcomer may be gone already; the log line says enough. */
	}
	/* Unread bytes at close would reset the stream and could hide the ERROR. */
	if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) < 0) {
		/* Nothing sent yet: the usual case. */
	}
	close(fd);
	srv->stats.conns_refused++;
}

/*
 * True when the served client has hung up. Checked only when a newcomer
 * arrives: a worker reconnecting after its old connection broke must not be
 * refused because the loop has not read the old one's end of stream yet.
 */
static bool
peer_hung_up(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

int
zcs_serve_accept(struct zcs_server *srv)
{
	int n = 0;
	int fd;

	if (srv->conf.listen_fd < 0)
		return 0;
	/* Bounded: a flood of newcomers must not starve the served client. */
	while (n < 8) {
		fd = accept4(srv->conf.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				errno != ECONNABORTED && errno != srv->accept_errno) {
				srv->accept_errno = errno;
				fprintf(stderr, LOG_PREFIX "accept: %s\n", strerror(errno));
			}
			break;
		}
		n++;
		if (!peer_ok(srv, fd))
			continue;
		if (srv->fd >= 0 && peer_hung_up(srv->fd))
			zcs_serve_conn_close(srv, "client hung up (noticed at a new connection)");
		if (srv->fd >= 0) {
			refuse(srv, fd);
			continue;
		}
		zcs_serve_conn_open(srv, fd);
		fprintf(stderr, LOG_PREFIX "client connected\n");
	}
	return n;
}

/*
 * A key store published by zcs_serve_swap_keys() is taken at the start of a
 * step; the acknowledgement tells the publisher the old one is no longer read.
 */
static inline void
take_keys(struct zcs_server *srv)
{
	const struct zcs_keystore *ks = atomic_load_explicit(&srv->ks_next, memory_order_acquire);

	if (unlikely(ks != srv->ks)) {
		srv->ks = ks;
		atomic_store_explicit(&srv->ks_seen, ks, memory_order_release);
	}
}

int
zcs_serve_swap_keys(struct zcs_server *srv, const struct zcs_keystore *ks, uint32_t timeout_ms)
{
	uint64_t deadline = zcs_mono_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec nap = {0, 50000};

	atomic_store_explicit(&srv->ks_next, ks, memory_order_release);
	while (atomic_load_explicit(&srv->ks_seen, memory_order_acquire) != ks) {
		if (zcs_mono_ns() > deadline)
			return -ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}

int
zcs_serve_poll(struct zcs_server *srv)
{
	int busy;

	srv->iter++;
	take_keys(srv);
	if (unlikely(srv->fd < 0))
		return zcs_serve_accept(srv) > 0 ? ZCS_SERVE_BUSY : ZCS_SERVE_IDLE;
	busy = zcs_serve_conn_poll(srv) != ZCS_SERVE_IDLE;
	if (unlikely(!srv->hello_done) && srv->fd >= 0 && !busy)
		check_handshake_deadline(srv);
	/* One accept() every N steps keeps newcomers answered without a syscall per spin. */
	if (unlikely((srv->iter & (ZCS_SERVE_ACCEPT_EVERY - 1)) == 0) && srv->fd >= 0)
		zcs_serve_accept(srv);
	return busy ? ZCS_SERVE_BUSY : ZCS_SERVE_IDLE;
}

/*
 * Backoff idling: after conf.backoff_spin_ns without work, sleep in poll()
 * on the connection (or the listener) and the listener, so the next request or
 * newcomer wakes the loop at once.
 */
static void
idle_backoff(struct zcs_server *srv)
{
	struct pollfd pfd[2];
	uint64_t now = zcs_mono_ns();
	nfds_t n = 0;

	if (srv->idle_since == 0) {
		srv->idle_since = now;
		return;
	}
	if (now - srv->idle_since < srv->conf.backoff_spin_ns)
		return;
	srv->idle_since = 0;
	if (srv->fd >= 0) {
		pfd[n].fd = srv->fd;
		pfd[n].events = POLLIN;
		if (srv->tx_len != srv->tx_off)
			pfd[n].events |= POLLOUT;
		pfd[n++].revents = 0;
	}
	/* A negative fd (no listener) is ignored by poll(). */
	pfd[n].fd = srv->conf.listen_fd;
	pfd[n].events = POLLIN;
	pfd[n++].revents = 0;
	if (poll(pfd, n, ZCS_SERVE_BACKOFF_POLL_MS) <= 0)
		return;
	/* A newcomer while serving: answer it now, not after N more steps. */
	if (srv->fd >= 0 && (pfd[1].revents & POLLIN))
		zcs_serve_accept(srv);
}

int
zcs_serve_run(struct zcs_server *srv)
{
	const atomic_int *stop = srv->conf.stop;

	while (likely(!atomic_load_explicit(stop, memory_order_relaxed))) {
		if (zcs_serve_poll(srv) == ZCS_SERVE_BUSY) {
			srv->idle_since = 0;
			continue;
		}
		if (srv->conf.idle == ZCS_POLL_BACKOFF)
			idle_backoff(srv);
		else if (srv->conf.idle == ZCS_POLL_YIELD)
			sched_yield();
	}
	zcs_serve_conn_close(srv, srv->fd >= 0 ? "signer stopping" : NULL);
	return 0;
}

struct zcs_server *
zcs_serve_create(const struct zcs_serve_conf *conf)
{
	struct zcs_server *srv;

	if (conf == NULL || conf->ctx == NULL || conf->ks == NULL || conf->stop == NULL ||
		zcs_poll_mode_name((int)conf->idle) == NULL ||
		(conf->nonce != 0 && zcs_nonce_mode_name(conf->nonce) == NULL) ||
		(conf->nonce == ZCS_NONCE_PRECOMPUTED && conf->presig == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	srv = aligned_alloc(64, sizeof(*srv));
	if (srv == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memset(srv, 0, sizeof(*srv));
	srv->conf = *conf;
	if (srv->conf.nonce == 0)
		srv->conf.nonce = ZCS_NONCE_RFC6979;
	if (srv->conf.listen_kind == 0)
		srv->conf.listen_kind = ZCS_ADDR_UNIX;
	if (srv->conf.peers.nuids == 0 && srv->conf.peers.ncids == 0)
		zcs_peer_policy_default(&srv->conf.peers);
	if (srv->conf.handshake_timeout_ms == 0)
		srv->conf.handshake_timeout_ms = 1000;
	srv->fd = -1;
	srv->ks = conf->ks;
	atomic_init(&srv->ks_next, conf->ks);
	atomic_init(&srv->ks_seen, conf->ks);
	return srv;
}

void
zcs_serve_destroy(struct zcs_server *srv)
{
	if (srv == NULL)
		return;
	zcs_serve_conn_close(srv, NULL);
	free(srv);
}
