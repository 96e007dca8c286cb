/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard worker: dequeue a burst from the shard ring, frame it into the
 * send buffer in place, one send(); one non-blocking recv(), match every reply
 * to the head of the in-flight FIFO, write the result into the request in
 * place and complete it. Everything else (connect, handshake, reconnect,
 * drain) is cold and kept out of the UP path.
 *
 * Order: one ring -> one FIFO -> one connection, and the signer answers in
 * order, so requests complete in dequeue order. A request that is not sent
 * (deadline passed, bad op) still takes its place in the FIFO as a marker
 * (seq 0, its status already in r->status) and completes when it reaches the
 * head: completing it at once would overtake earlier requests of the same
 * account still in flight.
 *
 * STATS (the signer's pool counters, every stats_interval_ms and after each
 * handshake) takes the same road: its frame goes out behind the burst of the
 * iteration it falls due in, in the same send(), and the worker's one STATS
 * marker entry takes its place in the FIFO with a seq from the same counter.
 * So STATS_REPLY is matched like any reply: it must answer the FIFO head, and
 * the head must be that marker; anything else is bad_sequence and the
 * connection is dropped. At most one STATS is in flight; the marker is no
 * client's request and never completes.
 *
 * Hot path (state UP): no allocation, no lock, no syscall but send() and
 * recv() (and a sleep when idle in backoff mode); time is the TSC.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include <zcsign/client.h>
#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "attest_check.h"
#include "hex.h"
#include "log.h"
#include "shards.h"
#include "telemetry_internal.h"
#include "worker.h"

/* Sequence number of a FIFO entry that was never sent. */
#define SEQ_UNSENT 0

/* Op of the STATS marker: no client request has it (up_dequeue() refuses unknown ops). */
#define OP_STATS 0xff

struct zcs_worker {
	/* Hot: read every iteration. */
	struct zcs_engine_shared *sh;
	struct zcs_shard_state *st;
	struct zcs_tel_worker *tel; /* histograms and loop accounting (single writer) */
	struct rte_ring *ring;
	const volatile int *stop;
	int fd;
	uint32_t conn; /* enum zcs_shard_conn, mirrored in st->state */
	uint16_t shard;
	uint16_t shard_count;
	uint16_t down_status; /* completion status of requests while not UP */
	enum zcs_poll_mode poll;
	uint32_t burst;
	uint32_t inflight_max;
	uint32_t fifo_mask;
	uint32_t fifo_head; /* oldest entry; free-running */
	uint32_t fifo_tail; /* next free slot; free-running */
	uint32_t unanswered; /* FIFO entries sent and not answered */
	uint64_t next_seq;
	struct zcs_request **fifo;
	uint8_t *tx; /* 64-byte aligned: frames are encoded in place */
	size_t tx_off; /* first unsent byte */
	size_t tx_len;
	uint8_t *rx;
	size_t rx_cap;
	size_t rx_len;
	uint64_t probe_at; /* next recv() while nothing is in flight */
	uint64_t probe_tsc;
	uint64_t idle_since; /* backoff mode: start of the idle spell, 0 when busy */
	uint64_t idle_spin_tsc;
	uint64_t stats_at; /* next STATS falls due; UINT64_MAX: none */
	uint32_t stats_pending; /* 1 while the STATS marker is in the FIFO */

	/* Cold: connection management and drain. */
	uint64_t hz;
	uint64_t reconnect_at;
	uint64_t backoff; /* next reconnect delay */
	uint64_t backoff_min;
	uint64_t backoff_max;
	uint64_t handshake_tsc;
	uint64_t deadline; /* of the connect + handshake in progress */
	uint64_t hs_start; /* TSC at the connect() of the handshake in progress */
	uint64_t drain_tsc;
	uint64_t grace_tsc;
	uint64_t stop_seen; /* TSC when the stop flag was first seen; 0 before */
	uint64_t shutdown_failed;
	uint64_t stats_tsc; /* STATS interval; 0: never (configured so, or the signer is too old) */
	uint32_t fail_streak; /* connection attempts failed in a row */
	bool ever_up;
	bool has_measurement;
	bool attesting; /* HANDSHAKE: HELLO_REPLY accepted, ATTEST_REPLY chunks due */
	struct zcs_attest_check *attest; /* attestation on: the check; NULL: off */
	struct zcs_wire_hello_reply hello; /* the HELLO_REPLY of the handshake in progress */
	unsigned int lcore;
	struct zcs_addr addr;
	char endpoint[ZCS_ENDPOINT_MAX];
	uint8_t measurement[ZCS_MEASUREMENT_LEN];
	struct zcs_request *burst_buf[ZCS_ENGINE_BURST_MAX];
	/* The FIFO entry of the STATS request in flight (op OP_STATS). */
	struct zcs_request stats_marker;
} __rte_cache_aligned;

/* Each lcore finds its worker here (written by the main lcore before launch). */
static struct zcs_worker *lcore_workers[RTE_MAX_LCORE];

static uint64_t
ms_to_tsc(const struct zcs_worker *w, uint64_t ms)
{
	return w->hz * ms / 1000;
}

static uint64_t
tsc_to_ms(const struct zcs_worker *w, uint64_t tsc)
{
	return tsc * 1000 / w->hz;
}

static void
set_state(struct zcs_worker *w, enum zcs_shard_conn s)
{
	w->conn = s;
	__atomic_store_n(&w->st->state, (uint32_t)s, __ATOMIC_RELEASE);
}

/* What a FIFO entry asked for, for log lines. */
static const char *
entry_name(const struct zcs_request *r)
{
	if (r->op == ZCS_OP_SIGN)
		return "SIGN";
	return r->op == ZCS_OP_PUBKEY ? "PUBKEY" : "STATS";
}

/* Cold paths, kept out of line so the UP loop stays small. */
static void conn_down(struct zcs_worker *w, uint64_t now, const char *fmt,
	...) __rte_noinline __rte_cold __rte_format_printf(3, 4);
static void refuse(struct zcs_worker *w, uint64_t now, uint16_t status, const char *fmt,
	...) __rte_noinline __rte_cold __rte_format_printf(4, 5);

/* ---- completions and the FIFO ---- */

static inline void
complete(struct zcs_worker *w, struct zcs_request *r, uint16_t status, uint64_t now)
{
	struct zcs_shard_state *st = w->st;

	if (likely(status == ZCS_OK)) {
		st->signed_ok++;
		zcs_tel_signed(w->tel, r->submit_tsc, now);
	} else if (status == ZCS_ERR_EXPIRED) {
		st->expired++;
	} else {
		st->failed++;
	}
	st->by_status[status]++;
	zcs_shards_complete(w->sh, r, status, now);
}

static inline uint32_t
fifo_count(const struct zcs_worker *w)
{
	return w->fifo_tail - w->fifo_head;
}

static inline void
fifo_push(struct zcs_worker *w, struct zcs_request *r)
{
	w->fifo[w->fifo_tail++ & w->fifo_mask] = r;
}

static inline struct zcs_request *
fifo_head(const struct zcs_worker *w)
{
	return w->fifo[w->fifo_head & w->fifo_mask];
}

/* Complete the unsent markers at the head: nothing earlier is pending any more. */
static inline void
fifo_settle(struct zcs_worker *w, uint64_t now)
{
	struct zcs_request *r;

	while (fifo_count(w) != 0) {
		r = fifo_head(w);
		if (likely(r->seq != SEQ_UNSENT))
			return;
		w->fifo_head++;
		complete(w, r, r->status, now);
	}
}

/*
 * Complete the whole FIFO in order: sent requests with status, markers with
 * their own; the STATS marker is dropped (no client waits on it). Returns the
 * number completed with status.
 */
static uint32_t
fifo_fail(struct zcs_worker *w, uint16_t status, uint64_t now)
{
	struct zcs_request *r;
	uint32_t n = 0;

	while (fifo_count(w) != 0) {
		r = fifo_head(w);
		w->fifo_head++;
		if (r == &w->stats_marker) {
			w->stats_pending = 0;
		} else if (r->seq == SEQ_UNSENT) {
			complete(w, r, r->status, now);
		} else {
			complete(w, r, status, now);
			n++;
		}
	}
	w->unanswered = 0;
	w->st->inflight = 0;
	return n;
}

/* ---- connection loss, refusal, reconnect timer ---- */

static void
close_conn(struct zcs_worker *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->tx_off = 0;
	w->tx_len = 0;
	w->rx_len = 0;
	w->attesting = false; /* the next connection starts at HELLO */
}

static void
schedule_reconnect(struct zcs_worker *w, uint64_t now)
{
	w->reconnect_at = now + w->backoff;
	w->backoff = RTE_MIN(w->backoff * 2, w->backoff_max);
	set_state(w, ZCS_SHARD_DOWN);
}

/*
 * Lose the connection (or the attempt to make one): fail what is in flight,
 * close, and retry after the backoff. A lost UP connection is always logged;
 * failed attempts are logged on the 1st, 2nd, 4th, 8th... in a row, so a dead
 * signer does not flood the log at reconnect_max_ms.
 */
static void
conn_down(struct zcs_worker *w, uint64_t now, const char *fmt, ...)
{
	bool was_up = w->conn == ZCS_SHARD_UP;
	uint32_t failed;
	char why[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	failed = fifo_fail(w, ZCS_ERR_SIGNER_DOWN, now);
	close_conn(w);
	/*
	 * DOWN before the counter: whoever sees the disconnect counted (telemetry,
	 * a test waiting for it) must not then read the lost connection's UP.
	 */
	set_state(w, ZCS_SHARD_DOWN);
	if (was_up) {
		w->st->disconnects++;
		w->fail_streak = 0;
		w->down_status = ZCS_ERR_SIGNER_DOWN;
		ZCS_LOG(WARNING,
			"shard %u: lost signer %s: %s; %" PRIu32
			" in flight failed (signer_down); reconnecting in %" PRIu64 " ms",
			w->shard, w->endpoint, why, failed, tsc_to_ms(w, w->backoff));
	} else {
		/* A refusal verdict stands until a handshake succeeds (see refuse()). */
		w->fail_streak++;
		if (rte_is_power_of_2(w->fail_streak))
			ZCS_LOG(WARNING,
				"shard %u: cannot reach signer %s: %s (attempt %" PRIu32
				"); retrying in %" PRIu64 " ms",
				w->shard, w->endpoint, why, w->fail_streak,
				tsc_to_ms(w, w->backoff));
		else
			ZCS_LOG(DEBUG, "shard %u: cannot reach signer %s: %s (attempt %" PRIu32 ")",
				w->shard, w->endpoint, why, w->fail_streak);
	}
	schedule_reconnect(w, now);
}

/*
 * The signer is not the one configured: close, and look again every
 * reconnect_max_ms (the signer may be replaced). Until a handshake succeeds,
 * requests fail with status, also while a retry is connecting or cannot reach
 * the signer: the shard needs an operator, and saying "signer down" half of
 * the time would hide why. Logged when the verdict changes, not at every retry.
 */
static void
refuse(struct zcs_worker *w, uint64_t now, uint16_t status, const char *fmt, ...)
{
	char why[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	close_conn(w);
	if (w->down_status != status)
		ZCS_LOG(ERR, "shard %u: %s; refusing the shard (requests fail with %s)", w->shard,
			why, zcs_status_name(status));
	else
		ZCS_LOG(DEBUG, "shard %u: %s; still refusing the shard", w->shard, why);
	w->down_status = status;
	w->fail_streak = 0;
	w->reconnect_at = now + w->backoff_max;
	/* Bounded copy: the reason is for status lines; the log has it whole. */
	snprintf(w->st->refused_reason, sizeof(w->st->refused_reason), "%.*s",
		(int)sizeof(w->st->refused_reason) - 1, why);
	set_state(w, ZCS_SHARD_REFUSED);
}

/* ---- socket I/O ---- */

/* Send what the tx buffer holds: 1 on progress, 0 on none, -1 when the connection is lost. */
static inline int
tx_flush(struct zcs_worker *w, uint64_t now)
{
	ssize_t n;

	n = send(w->fd, w->tx + w->tx_off, w->tx_len - w->tx_off, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (likely(n > 0)) {
		w->tx_off += (size_t)n;
		if (likely(w->tx_off == w->tx_len)) {
			w->tx_off = 0;
			w->tx_len = 0;
		}
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	conn_down(w, now, "send: %s", n == 0 ? "no progress" : strerror(errno));
	return -1;
}

/* One recv() into the rx buffer: bytes read, 0 for none, -1 when the connection is lost. */
static inline ssize_t
rx_fill(struct zcs_worker *w, uint64_t now)
{
	ssize_t n;

	n = recv(w->fd, w->rx + w->rx_len, w->rx_cap - w->rx_len, MSG_DONTWAIT);
	if (likely(n > 0)) {
		w->rx_len += (size_t)n;
		return n;
	}
	if (n == 0) {
		conn_down(w, now, "signer closed the connection");
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	conn_down(w, now, "recv: %s", strerror(errno));
	return -1;
}

static void
rx_consume(struct zcs_worker *w, size_t off)
{
	if (off == 0)
		return;
	w->rx_len -= off;
	if (w->rx_len != 0)
		memmove(w->rx, w->rx + off, w->rx_len);
}

/* ---- UP: requests out, replies in ---- */

static inline void
encode(struct zcs_worker *w, struct zcs_request *r, uint64_t now)
{
	void *f = w->tx + w->tx_len;

	r->seq = w->next_seq++;
	r->send_tsc = now;
	if (likely(r->op == ZCS_OP_SIGN)) {
		zcs_wire_sign(f, r->seq, r->account, r->algo, r->hash);
		w->tx_len += sizeof(struct zcs_wire_sign);
	} else {
		zcs_wire_pubkey(f, r->seq, r->account);
		w->tx_len += sizeof(struct zcs_wire_pubkey);
	}
}

/*
 * Dequeue as many as the FIFO has room for and frame them. Called only with
 * an empty tx buffer, so the frames fit (inflight_max * 64 bytes, and a STATS
 * frame after them) and start 8-byte aligned.
 */
static inline unsigned int
up_dequeue(struct zcs_worker *w, uint64_t now)
{
	/* The STATS marker has its own FIFO slot: it takes no request's room. */
	unsigned int room = w->inflight_max + w->stats_pending - fifo_count(w);
	unsigned int n, i, sent = 0;
	struct zcs_request *r;

	n = RTE_MIN(w->burst, room);
	if (unlikely(n == 0))
		return 0;
	n = rte_ring_dequeue_burst(w->ring, (void **)w->burst_buf, n, NULL);
	if (n == 0)
		return 0;
	/*
	 * The iteration's stamp predates the dequeue: a request enqueued since
	 * then with a deadline already passed would look alive against it.
	 */
	now = rte_rdtsc();
	for (i = 0; i < n; i++) {
		r = w->burst_buf[i];
		if (unlikely(r->deadline_tsc != 0 && r->deadline_tsc < now)) {
			r->seq = SEQ_UNSENT;
			r->send_tsc = 0;
			r->status = ZCS_ERR_EXPIRED;
		} else if (unlikely(r->op != ZCS_OP_SIGN && r->op != ZCS_OP_PUBKEY)) {
			r->seq = SEQ_UNSENT;
			r->send_tsc = 0;
			r->status = ZCS_ERR_BAD_REQUEST;
		} else {
			encode(w, r, now);
			sent++;
		}
		fifo_push(w, r);
	}
	w->unanswered += sent;
	w->st->dequeued += n;
	w->st->sent += sent;
	fifo_settle(w, now);
	return n;
}

/* A SIGN_REPLY or PUBKEY_REPLY: it must answer the oldest request in flight. */
static inline int
on_reply(struct zcs_worker *w, const union zcs_wire_frame *f, uint64_t now)
{
	unsigned int op = f->hdr.type == ZCS_FT_SIGN_REPLY ? ZCS_OP_SIGN : ZCS_OP_PUBKEY;
	uint64_t seq = op == ZCS_OP_SIGN ? f->sign_reply.seq : f->pubkey_reply.seq;
	struct zcs_request *r;
	uint16_t status;

	if (unlikely(w->unanswered == 0)) {
		conn_down(
			w, now, "reply seq %" PRIu64 " with nothing in flight (bad_sequence)", seq);
		return -1;
	}
	r = fifo_head(w);
	if (unlikely(r->seq != seq || r->op != op)) {
		conn_down(w, now,
			"%s seq %" PRIu64 " does not answer the oldest request in flight "
			"(%s seq %" PRIu64 ") (bad_sequence)",
			op == ZCS_OP_SIGN ? "SIGN_REPLY" : "PUBKEY_REPLY", seq, entry_name(r),
			r->seq);
		return -1;
	}
	w->fifo_head++;
	w->unanswered--;
	if (likely(op == ZCS_OP_SIGN)) {
		status = f->sign_reply.status;
		memcpy(r->sig, f->sign_reply.sig, sizeof(r->sig));
		r->recid = f->sign_reply.recid;
		r->signer_ns = f->sign_reply.service_ns;
	} else {
		status = f->pubkey_reply.status;
		memcpy(r->sig, f->pubkey_reply.compressed, sizeof(f->pubkey_reply.compressed));
		memset(r->sig + sizeof(f->pubkey_reply.compressed), 0,
			sizeof(r->sig) - sizeof(f->pubkey_reply.compressed));
		r->recid = 0;
		r->signer_ns = 0;
	}
	zcs_tel_reply(w->tel, r->send_tsc, now, r->signer_ns, op == ZCS_OP_SIGN);
	complete(w, r, status, now);
	fifo_settle(w, now);
	return 0;
}

/*
 * A STATS request fell due: frame it behind whatever tx holds (the burst of
 * this iteration: same send()) and put the marker behind the burst's entries.
 * Returns 1 when a frame was added.
 */
static int __rte_noinline __rte_cold
stats_request(struct zcs_worker *w, uint64_t now)
{
	struct zcs_request *m = &w->stats_marker;

	/* Draining: the answer would not be shown for long, and it would delay the end. */
	if (*w->stop) {
		w->stats_at = UINT64_MAX;
		return 0;
	}
	w->stats_at = now + w->stats_tsc;
	/* One at a time: a signer that has not answered the last is not asked again. */
	if (w->stats_pending)
		return 0;
	m->seq = w->next_seq++;
	m->send_tsc = now;
	zcs_wire_stats((struct zcs_wire_stats *)(w->tx + w->tx_len), m->seq);
	w->tx_len += sizeof(struct zcs_wire_stats);
	fifo_push(w, m);
	w->stats_pending = 1;
	w->unanswered++;
	w->st->stats_requests++;
	return 1;
}

/* A STATS_REPLY: it must answer the oldest entry in flight, and that must be the STATS marker. */
static int __rte_noinline __rte_cold
on_stats_reply(struct zcs_worker *w, const struct zcs_wire_stats_reply *f, uint64_t now)
{
	struct zcs_signer_stats s;
	struct zcs_request *r;

	if (unlikely(w->unanswered == 0)) {
		conn_down(w, now,
			"STATS_REPLY seq %" PRIu64 " with nothing in flight (bad_sequence)",
			f->seq);
		return -1;
	}
	r = fifo_head(w);
	if (unlikely(r != &w->stats_marker || r->seq != f->seq)) {
		conn_down(w, now,
			"STATS_REPLY seq %" PRIu64 " does not answer the oldest request in flight "
			"(%s seq %" PRIu64 ") (bad_sequence)",
			f->seq, entry_name(r), r->seq);
		return -1;
	}
	w->fifo_head++;
	w->unanswered--;
	w->stats_pending = 0;
	memset(&s, 0, sizeof(s));
	s.rx_tsc = now;
	s.nonce_mode = f->nonce_mode;
	s.ecdsa_depth = f->ecdsa_depth;
	s.ecdsa_capacity = f->ecdsa_capacity;
	s.schnorr_depth = f->schnorr_depth;
	s.schnorr_capacity = f->schnorr_capacity;
	s.refilled = f->refilled;
	s.misses = f->misses;
	s.discards = f->discards;
	s.signed_ok = f->signed_ok;
	zcs_shard_signer_stats_write(w->st, &s);
	/* Provisioning changes the signer's keys while it serves: its count follows. */
	if (unlikely(f->key_count != w->st->signer_keys ||
		    f->key_source != w->st->signer_key_source)) {
		ZCS_LOG(INFO, "shard %u: signer %s now holds %" PRIu32 " keys (%s)", w->shard,
			w->endpoint, f->key_count, zcs_key_source_name(f->key_source));
		w->st->signer_keys = f->key_count;
		w->st->signer_key_source = f->key_source;
	}
	fifo_settle(w, now);
	return 0;
}

/*
 * A signer built before STATS answers one with ERROR bad_type and closes
 * (docs/PROTOCOL.md, Versioning). We send no other frame it could find of an
 * unknown type, so stop asking it: one reconnect, not one per interval.
 */
static void
stats_unknown_to_signer(struct zcs_worker *w)
{
	w->stats_tsc = 0;
	w->stats_at = UINT64_MAX;
	ZCS_LOG(WARNING,
		"shard %u: signer %s does not know STATS (it answered bad_type): no signer "
		"pool counters for this shard until zcsignd restarts",
		w->shard, w->endpoint);
}

static void __rte_noinline __rte_cold
on_unexpected(struct zcs_worker *w, const union zcs_wire_frame *f, uint64_t now)
{
	if (f->hdr.type == ZCS_FT_ERROR && f->error.status == ZCS_ERR_BAD_TYPE && w->stats_pending)
		stats_unknown_to_signer(w);
	if (f->hdr.type == ZCS_FT_ERROR)
		conn_down(w, now, "signer sent ERROR %s (seq %" PRIu64 ")",
			zcs_status_name(f->error.status), f->error.seq);
	else
		conn_down(w, now, "unexpected frame type %u from the signer (unexpected)",
			f->hdr.type);
}

/* Decode every whole frame in rx. Returns 0, or -1 when the connection was lost. */
static inline int
rx_process(struct zcs_worker *w, uint64_t now)
{
	union zcs_wire_frame f;
	size_t off = 0, used;
	int rc;

	for (;;) {
		rc = zcs_wire_decode(w->rx + off, w->rx_len - off, &f, &used);
		if (rc == ZCS_WIRE_NEED_MORE)
			break;
		if (unlikely(rc != 0)) {
			conn_down(w, now, "malformed frame from the signer: %s (%s)",
				zcs_strerror(rc), zcs_status_name(rc));
			return -1;
		}
		off += used;
		if (likely(f.hdr.type == ZCS_FT_SIGN_REPLY || f.hdr.type == ZCS_FT_PUBKEY_REPLY)) {
			if (unlikely(on_reply(w, &f, now) < 0))
				return -1;
		} else if (f.hdr.type == ZCS_FT_STATS_REPLY) {
			if (on_stats_reply(w, &f.stats_reply, now) < 0)
				return -1;
		} else {
			on_unexpected(w, &f, now);
			return -1;
		}
	}
	rx_consume(w, off);
	return 0;
}

/* One UP iteration. Returns non-zero when it did something. */
static inline int
up_step(struct zcs_worker *w, uint64_t now)
{
	int work = 0, rc;
	ssize_t n;

	/* A partial send is finished before anything more is framed. */
	if (unlikely(w->tx_len != 0)) {
		rc = tx_flush(w, now);
		if (rc < 0)
			return 1;
		work |= rc;
	}
	if (likely(w->tx_len == 0)) {
		if (up_dequeue(w, now) != 0)
			work = 1;
		if (unlikely(now >= w->stats_at))
			work |= stats_request(w, now);
		if (w->tx_len != 0 && tx_flush(w, now) < 0)
			return 1;
	}
	/* Nothing in flight: still look now and then, to notice EOF or an ERROR. */
	if (w->unanswered != 0 || now >= w->probe_at) {
		w->probe_at = now + w->probe_tsc;
		n = rx_fill(w, now);
		if (n < 0)
			return 1;
		if (n > 0) {
			work = 1;
			/*
			 * A fresh TSC per received burst: a reply can arrive in the
			 * iteration that sent its request, and the iteration's own
			 * stamp would make its round trip 0 (and the completion early).
			 */
			if (rx_process(w, rte_rdtsc()) < 0)
				return 1;
		}
	}
	if (work)
		w->st->inflight = w->unanswered - w->stats_pending;
	return work;
}

/* ---- not UP: fail fast, connect, handshake ---- */

/* Requests arriving while the shard is not UP complete at once: never queued, never blocked. */
static unsigned int
reject_burst(struct zcs_worker *w, uint64_t now)
{
	unsigned int n, i;

	n = rte_ring_dequeue_burst(w->ring, (void **)w->burst_buf, w->burst, NULL);
	if (n == 0)
		return 0;
	now = rte_rdtsc(); /* never a completion stamp before its submit stamp */
	w->st->dequeued += n;
	for (i = 0; i < n; i++)
		complete(w, w->burst_buf[i], w->down_status, now);
	return n;
}

static void
send_hello(struct zcs_worker *w, uint64_t now)
{
	zcs_wire_hello((struct zcs_wire_hello *)w->tx, w->shard, w->shard_count);
	w->tx_off = 0;
	w->tx_len = sizeof(struct zcs_wire_hello);
	set_state(w, ZCS_SHARD_HANDSHAKE);
	tx_flush(w, now);
}

static void
start_connect(struct zcs_worker *w, uint64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (zcs_addr_sockaddr(&w->addr, &ss, &len) != 0) {
		conn_down(w, now, "bad address");
		return;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_down(w, now, "socket: %s", strerror(errno));
		return;
	}
	w->fd = fd;
	w->hs_start = now;
	w->deadline = now + w->handshake_tsc;
	set_state(w, ZCS_SHARD_CONNECTING);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		send_hello(w, now);
	else if (errno != EINPROGRESS)
		/* AF_UNIX says EAGAIN when the listener's backlog is full: retry later too. */
		conn_down(w, now, "connect: %s", strerror(errno));
}

static void
connecting_step(struct zcs_worker *w, uint64_t now)
{
	struct pollfd p = {.fd = w->fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) == 0) {
		if (now >= w->deadline)
			conn_down(w, now, "connect: no answer within %" PRIu64 " ms",
				tsc_to_ms(w, w->handshake_tsc));
		return;
	}
	if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0)
		conn_down(w, now, "connect: %s", strerror(err));
	else
		send_hello(w, now);
}

/* The handshake passed every check: the shard signs. */
static void
go_up(struct zcs_worker *w, uint64_t now)
{
	const struct zcs_wire_hello_reply *h = &w->hello;
	struct zcs_shard_state *st = w->st;
	const char *nonce = zcs_nonce_mode_name(h->nonce_mode);

	/* The handshake's time (connect to UP), attestation included: a cold-path figure. */
	ZCS_LOG(INFO,
		"shard %u: %s signer %s: shard %u of %u, %" PRIu32 " keys, nonce %s%s%s"
		" (handshake %" PRIu64 " us)",
		w->shard, w->ever_up ? "reconnected to" : "connected to", w->endpoint, h->shard_id,
		h->shard_count, h->key_count, nonce != NULL ? nonce : "?",
		w->has_measurement ? ", measurement as configured" : "",
		w->attest != NULL ? ", attestation verified" : "",
		(rte_rdtsc() - w->hs_start) * 1000000 / w->hz);
	if (h->key_source == ZCS_KEYS_SEALED)
		ZCS_LOG(WARNING,
			"shard %u: signer %s is sealed: requests fail 'sealed' until it is "
			"provisioned (zcsign-cli provision)",
			w->shard, w->endpoint);
	else if (h->key_count == 0)
		ZCS_LOG(WARNING, "shard %u: signer %s holds no keys: every request will fail",
			w->shard, w->endpoint);
	if (h->key_source == ZCS_KEYS_DEV)
		ZCS_LOG(WARNING,
			"shard %u: signer %s runs on INSECURE plaintext dev keys "
			"(--insecure-dev-keys)",
			w->shard, w->endpoint);
	st->connects++;
	w->ever_up = true;
	w->attesting = false; /* UP: no handshake frame is due any more */
	w->fail_streak = 0;
	w->backoff = w->backoff_min;
	w->down_status = ZCS_ERR_SIGNER_DOWN;
	w->probe_at = now;
	/* The first STATS goes out with the first iteration UP. */
	w->stats_at = w->stats_tsc != 0 ? now : UINT64_MAX;
	st->refused_reason[0] = '\0';
	set_state(w, ZCS_SHARD_UP);
}

/* Attestation on: ask for a document with a fresh nonce; the shard waits in HANDSHAKE. */
static void
send_attest(struct zcs_worker *w, uint64_t now)
{
	uint8_t nonce[32];

	if (zcs_attest_check_start(w->attest, nonce) != 0) {
		conn_down(w, now, "getrandom failed for the attestation nonce");
		return;
	}
	zcs_wire_attest((struct zcs_wire_attest *)(w->tx + w->tx_len), UINT64_MAX, nonce);
	w->tx_len += sizeof(struct zcs_wire_attest);
	w->attesting = true;
	w->deadline = now + w->handshake_tsc;
	tx_flush(w, now);
}

/* One ATTEST_REPLY; the whole document verified, the shard goes UP or is refused. */
static void
on_attest_reply(struct zcs_worker *w, const struct zcs_wire_attest_reply *f, uint64_t now)
{
	char err[256];
	int rc;

	if (f->seq != UINT64_MAX) {
		conn_down(w, now, "ATTEST_REPLY for seq %" PRIu64 ", not ours", f->seq);
		return;
	}
	rc = zcs_attest_check_chunk(w->attest, f, err, sizeof(err));
	if (rc == 1)
		rc = zcs_attest_check_verify(w->attest, err, sizeof(err)) == 0 ? 2 : -1;
	if (rc == 2)
		go_up(w, now);
	else if (rc < 0)
		refuse(w, now, ZCS_ERR_ATTESTATION, "signer %s attestation: %s", w->endpoint, err);
}

static void
on_hello_reply(struct zcs_worker *w, const struct zcs_wire_hello_reply *h, uint64_t now)
{
	struct zcs_shard_state *st = w->st;
	char got[2 * ZCS_MEASUREMENT_LEN + 1], want[2 * ZCS_MEASUREMENT_LEN + 1];

	memcpy(st->signer_measurement, h->measurement, ZCS_MEASUREMENT_LEN);
	st->signer_keys = h->key_count;
	st->signer_key_source = h->key_source;
	st->signer_nonce_mode = h->nonce_mode;
	if (h->shard_id != w->shard || h->shard_count != w->shard_count) {
		refuse(w, now, ZCS_ERR_WRONG_SHARD,
			"signer %s serves shard %u of %u, this is shard %u of %u", w->endpoint,
			h->shard_id, h->shard_count, w->shard, w->shard_count);
		return;
	}
	if (w->has_measurement &&
		memcmp(h->measurement, w->measurement, ZCS_MEASUREMENT_LEN) != 0) {
		zcs_hex_encode(h->measurement, ZCS_MEASUREMENT_LEN, got);
		zcs_hex_encode(w->measurement, ZCS_MEASUREMENT_LEN, want);
		refuse(w, now, ZCS_ERR_MEASUREMENT,
			"signer %s measurement %s differs from the configured %s", w->endpoint, got,
			want);
		return;
	}
	w->hello = *h;
	if (w->attest != NULL)
		send_attest(w, now);
	else
		go_up(w, now);
}

static void
on_handshake_error(struct zcs_worker *w, const struct zcs_wire_error *e, uint64_t now)
{
	if (e->status == ZCS_ERR_WRONG_SHARD)
		refuse(w, now, ZCS_ERR_WRONG_SHARD,
			"signer %s refused shard %u of %u (wrong_shard): its key file is for "
			"another shard",
			w->endpoint, w->shard, w->shard_count);
	else if (e->status == ZCS_ERR_BUSY)
		conn_down(w, now, "signer busy: it already serves another connection");
	else
		conn_down(
			w, now, "signer answered HELLO with ERROR %s", zcs_status_name(e->status));
}

/*
 * One handshake frame from rx: HELLO_REPLY, then (attestation on) the
 * ATTEST_REPLY chunks. Returns 1 when a frame was handled and the handshake
 * goes on, 0 otherwise (no whole frame yet, or the state changed).
 */
static int
handshake_frame(struct zcs_worker *w, uint64_t now)
{
	const char *want = w->attesting ? "ATTEST_REPLY" : "HELLO_REPLY";
	union zcs_wire_frame f;
	size_t used;
	int rc;

	rc = zcs_wire_decode(w->rx, w->rx_len, &f, &used);
	if (rc == ZCS_WIRE_NEED_MORE) {
		if (now >= w->deadline)
			conn_down(w, now, "no %s within %" PRIu64 " ms", want,
				tsc_to_ms(w, w->handshake_tsc));
		return 0;
	}
	if (rc != 0) {
		conn_down(w, now, "malformed %s: %s (%s)", want, zcs_strerror(rc),
			zcs_status_name(rc));
		return 0;
	}
	rx_consume(w, used);
	if (f.hdr.type == ZCS_FT_HELLO_REPLY && !w->attesting)
		on_hello_reply(w, &f.hello_reply, now);
	else if (f.hdr.type == ZCS_FT_ATTEST_REPLY && w->attesting)
		on_attest_reply(w, &f.attest_reply, now);
	else if (f.hdr.type == ZCS_FT_ERROR)
		on_handshake_error(w, &f.error, now);
	else
		conn_down(w, now, "expected %s, got frame type %u", want, f.hdr.type);
	return w->conn == ZCS_SHARD_HANDSHAKE;
}

static void
handshake_step(struct zcs_worker *w, uint64_t now)
{
	if (w->tx_len != 0 && tx_flush(w, now) < 0)
		return;
	if (rx_fill(w, now) < 0)
		return;
	/* The document comes in many frames: take every one that arrived. */
	while (handshake_frame(w, now) && w->rx_len != 0)
		if (w->tx_len != 0 && tx_flush(w, now) < 0)
			return;
	/* Replies cannot precede requests: anything more in rx is the signer's fault. */
	if (w->conn == ZCS_SHARD_UP && w->rx_len != 0)
		rx_process(w, now);
}

/* One iteration while not UP. Returns non-zero when it did something. */
static int
down_step(struct zcs_worker *w, uint64_t now)
{
	uint32_t before = w->conn;
	int work = reject_burst(w, now) != 0;

	switch (w->conn) {
	case ZCS_SHARD_DOWN:
	case ZCS_SHARD_REFUSED:
		/* Draining: requests fail at once anyway, a new connection would serve none. */
		if (now >= w->reconnect_at && !*w->stop)
			start_connect(w, now);
		break;
	case ZCS_SHARD_CONNECTING:
		connecting_step(w, now);
		break;
	case ZCS_SHARD_HANDSHAKE:
		handshake_step(w, now);
		break;
	}
	return work || w->conn != before;
}

/* ---- drain ---- */

/*
 * Called every iteration once the stop flag is set. Done when the ring is
 * empty and nothing is in flight. zcs_engine_stop() sets the stop flag only
 * after every client has left zcs_submit (shards.h, slot.submitting), so the
 * rings already hold every request there will be; the short grace period
 * before an empty ring counts as final is a second line, and the engine still
 * sweeps the rings after joining the workers. At the drain deadline what is
 * left completes ZCS_ERR_SHUTDOWN.
 */
static bool
drain_step(struct zcs_worker *w, uint64_t now)
{
	uint32_t failed;
	unsigned int n, i;

	if (w->stop_seen == 0) {
		w->stop_seen = now;
		ZCS_LOG(INFO, "shard %u: draining: %" PRIu32 " in flight, %u queued", w->shard,
			fifo_count(w), rte_ring_count(w->ring));
	}
	if (fifo_count(w) == 0 && w->tx_len == 0 && now - w->stop_seen >= w->grace_tsc &&
		rte_ring_count(w->ring) == 0)
		return true;
	if (now - w->stop_seen < w->drain_tsc)
		return false;
	failed = fifo_fail(w, ZCS_ERR_SHUTDOWN, now);
	while ((n = rte_ring_dequeue_burst(w->ring, (void **)w->burst_buf, w->burst, NULL)) != 0) {
		w->st->dequeued += n;
		for (i = 0; i < n; i++)
			complete(w, w->burst_buf[i], ZCS_ERR_SHUTDOWN, now);
		failed += n;
	}
	w->shutdown_failed += failed;
	if (failed != 0)
		ZCS_LOG(WARNING,
			"shard %u: drain timed out after %" PRIu64 " ms: %" PRIu32
			" requests failed (shutdown)",
			w->shard, tsc_to_ms(w, w->drain_tsc), failed);
	return true;
}

/* ---- the loop ---- */

static inline void
backoff_idle(struct zcs_worker *w, int work, uint64_t now)
{
	if (work) {
		w->idle_since = 0;
		return;
	}
	if (w->idle_since == 0) {
		w->idle_since = now;
	} else if (now - w->idle_since >= w->idle_spin_tsc) {
		rte_delay_us_sleep(ZCS_WORKER_BACKOFF_SLEEP_US);
		/* A sleep we chose is idle time, not a gap the host inflicted. */
		zcs_tel_slept(w->tel);
	}
}

int
zcs_worker_main(void *arg)
{
	struct zcs_worker *w = lcore_workers[rte_lcore_id()];
	bool quit = false;
	uint64_t now;
	int work;

	RTE_SET_USED(arg);
	if (w == NULL)
		return -ENOENT;
	ZCS_LOG(INFO, "shard %u: worker on lcore %u, signer %s, %s poll", w->shard, w->lcore,
		w->endpoint, zcs_poll_mode_name(w->poll));
	w->reconnect_at = rte_rdtsc();
	w->tel->last_tsc = w->reconnect_at;
	while (!quit) {
		now = rte_rdtsc();
		zcs_tel_loop(w->tel, now);
		if (likely(w->conn == ZCS_SHARD_UP))
			work = up_step(w, now);
		else
			work = down_step(w, now);
		zcs_tel_work(w->tel, work);
		if (unlikely(*w->stop))
			quit = drain_step(w, now);
		if (w->poll == ZCS_POLL_BACKOFF) {
			backoff_idle(w, work, now);
		} else if (w->poll == ZCS_POLL_YIELD && !work) {
			sched_yield();
			/* Time given to another poller is idle time, not a gap the host inflicted.
			 */
			zcs_tel_slept(w->tel);
		}
	}
	close_conn(w);
	w->st->inflight = 0;
	set_state(w, ZCS_SHARD_DOWN);
	ZCS_LOG(INFO, "shard %u: worker stopped", w->shard);
	return 0;
}

/* ---- life cycle ---- */

static void *
alloc_on(const char *what, size_t size, int socket)
{
	return rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, socket);
}

struct zcs_worker *
zcs_worker_create(const struct zcs_engine_conf *conf, struct zcs_engine_shared *sh, uint16_t shard,
	unsigned int lcore, const volatile int *stop)
{
	const struct zcs_engine_shard_conf *sc = &conf->shard[shard];
	int socket = (int)rte_lcore_to_socket_id(lcore);
	struct zcs_worker *w;
	uint32_t fifo_size;
	char err[192];

	if (lcore >= RTE_MAX_LCORE || lcore_workers[lcore] != NULL) {
		rte_errno = lcore >= RTE_MAX_LCORE ? EINVAL : EEXIST;
		return NULL;
	}
	w = alloc_on("zcs_worker", sizeof(*w), socket);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->fd = -1;
	w->sh = sh;
	w->st = &sh->shards[shard];
	w->ring = w->st->ring;
	w->stop = stop;
	w->shard = shard;
	w->shard_count = conf->shards;
	w->lcore = lcore;
	w->poll = conf->poll;
	w->burst = conf->burst;
	w->inflight_max = conf->inflight_max;
	w->next_seq = 1;
	w->down_status = ZCS_ERR_SIGNER_DOWN;
	w->conn = ZCS_SHARD_DOWN;
	/* One slot more than inflight_max: the STATS marker's. */
	fifo_size = rte_align32pow2(conf->inflight_max + 1);
	w->fifo_mask = fifo_size - 1;
	w->fifo = alloc_on("zcs_worker_fifo", fifo_size * sizeof(*w->fifo), socket);
	/*
	 * Every in-flight request has at most one frame (<= 64 bytes) waiting to
	 * go out, and a STATS frame may follow them.
	 */
	w->tx = alloc_on("zcs_worker_tx",
		(size_t)conf->inflight_max * sizeof(struct zcs_wire_sign) +
			sizeof(struct zcs_wire_stats),
		socket);
	w->rx_cap = RTE_MAX((size_t)conf->inflight_max * ZCS_WIRE_MAX_FRAME +
			sizeof(struct zcs_wire_stats_reply),
		(size_t)4096);
	w->rx = alloc_on("zcs_worker_rx", w->rx_cap, socket);
	if (w->fifo == NULL || w->tx == NULL || w->rx == NULL || w->ring == NULL) {
		if (w->ring == NULL)
			ZCS_LOG(ERR, "shard %u: no ring in the engine memzone", shard);
		rte_errno = w->ring == NULL ? EINVAL : ENOMEM;
		zcs_worker_free(w);
		return NULL;
	}
	if (zcs_addr_parse(sc->signer, false, &w->addr, err, sizeof(err)) != 0) {
		ZCS_LOG(ERR, "shard %u: signer: %s", shard, err);
		rte_errno = EINVAL;
		zcs_worker_free(w);
		return NULL;
	}
	snprintf(w->endpoint, sizeof(w->endpoint), "%s", sc->signer);
	w->has_measurement = sc->has_measurement != 0;
	memcpy(w->measurement, sc->measurement, ZCS_MEASUREMENT_LEN);
	if (sc->attest != ZCS_ENGINE_ATTEST_OFF) {
		w->attest = zcs_attest_check_create(sc, err, sizeof(err));
		if (w->attest == NULL) {
			ZCS_LOG(ERR, "shard %u: %s", shard, err);
			rte_errno = EINVAL;
			zcs_worker_free(w);
			return NULL;
		}
	}

	w->hz = rte_get_tsc_hz();
	w->backoff_min = ms_to_tsc(w, conf->reconnect_min_ms);
	w->backoff_max = ms_to_tsc(w, conf->reconnect_max_ms);
	w->backoff = w->backoff_min;
	w->handshake_tsc = ms_to_tsc(w, conf->handshake_timeout_ms);
	w->drain_tsc = ms_to_tsc(w, conf->drain_timeout_ms);
	w->grace_tsc = w->hz * ZCS_WORKER_DRAIN_GRACE_US / 1000000;
	w->probe_tsc = w->hz * ZCS_WORKER_IDLE_PROBE_US / 1000000;
	w->idle_spin_tsc = w->hz * ZCS_WORKER_BACKOFF_SPIN_US / 1000000;
	w->stats_tsc = ms_to_tsc(w, conf->stats_interval_ms);
	w->stats_at = UINT64_MAX;
	w->stats_marker.op = OP_STATS;
	w->stats_marker.shard = shard;
	w->tel = zcs_tel_worker_create(w->st, shard, lcore, socket, conf->gap_threshold_us);
	if (w->tel == NULL) {
		rte_errno = ENOMEM;
		zcs_worker_free(w);
		return NULL;
	}
	lcore_workers[lcore] = w;
	return w;
}

void
zcs_worker_free(struct zcs_worker *w)
{
	if (w == NULL)
		return;
	close_conn(w);
	if (w->lcore < RTE_MAX_LCORE && lcore_workers[w->lcore] == w)
		lcore_workers[w->lcore] = NULL;
	rte_free(w->fifo);
	rte_free(w->tx);
	rte_free(w->rx);
	zcs_attest_check_free(w->attest);
	zcs_tel_worker_free(w->tel);
	rte_free(w);
}

uint64_t
zcs_worker_shutdown_failed(const struct zcs_worker *w)
{
	return w->shutdown_failed;
}

unsigned int
zcs_worker_sweep(struct zcs_worker *w)
{
	uint64_t now = rte_rdtsc();
	unsigned int n, i, total = 0;

	while ((n = rte_ring_dequeue_burst(w->ring, (void **)w->burst_buf, w->burst, NULL)) != 0) {
		w->st->dequeued += n;
		for (i = 0; i < n; i++)
			complete(w, w->burst_buf[i], ZCS_ERR_SHUTDOWN, now);
		total += n;
	}
	return total;
}

struct zcs_tel_worker *
zcs_worker_tel(const struct zcs_worker *w)
{
	return w->tel;
}
