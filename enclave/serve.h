/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The signer's connection loop (private to zcsign-enclave and its tests).
 *
 * One client connection at a time: the engine's worker for this shard (or
 * zcsign-cli). A newcomer while one is served is accepted, answered
 * ERROR(ZCS_ERR_BUSY) and closed. A connection opens with HELLO (shard check
 * unless ZCS_SHARD_ANY), then carries SIGN / PUBKEY / STATS requests answered
 * in order.
 *
 * Signing follows the nonce mode of the configuration (reported in HELLO_REPLY
 * and STATS_REPLY): RFC 6979 or hedged through zcs_sign(), precomputed through
 * zcs_presig_sign() (the serve loop is its pools' one consumer; an empty pool
 * falls back to RFC 6979). With verify set, every signature is checked with
 * libsecp256k1 before the reply: a failure is answered ZCS_ERR_SIGN_FAILED,
 * logged and counted.
 *
 * Hot path, per connection: one non-blocking recv() into a 64 KiB buffer, every
 * whole frame in it decoded and answered into the send buffer in place, then
 * one send() for the whole batch. No allocation, no lock, no syscall besides
 * recv/send (clock_gettime is the vDSO). Leftover bytes of a partial frame stay
 * for the next recv. When the client does not read, replies pile up in the
 * send buffer: above ZCS_SERVE_TX_HIGH_WATER the loop stops reading and only
 * retries the send, so memory stays bounded and nothing is dropped.
 *
 * Errors: a frame with a bad body (algorithm, reserved bytes, field range) is
 * answered with its status in the matching reply and the connection goes on;
 * a frame with a bad header, a frame out of place (anything before HELLO, a
 * second HELLO, a reply type) or a shard mismatch is answered ERROR and the
 * connection closed, with one line on stderr. The loop itself only stops on
 * the stop flag: the signer outlives any client.
 *
 * Idle modes (enum zcs_poll_mode, zcsign/poll.h): ZCS_POLL_SPIN busy-polls recv/accept forever
 * (production: an isolated core, lowest latency). ZCS_POLL_BACKOFF spins for conf.backoff_spin_ns
 * with nothing to do, then sleeps in poll() for up to ZCS_SERVE_BACKOFF_POLL_MS (dev boxes and CI,
 * where cores are shared). ZCS_POLL_YIELD busy-polls and calls sched_yield() after every idle step:
 * on a core shared with a client that polls and yields the same way, the
 * two hand the core to each other in a context switch, with no wake-up (an
 * IPI, a sleeper's scheduling delay) on the request path.
 *
 * service_ns in a SIGN_REPLY is CLOCK_MONOTONIC time from the return of the
 * recv() that completed the request frame to the signature being ready (reply
 * encoded). It includes the time the frame waited behind earlier frames of the
 * same batch, and excludes kernel and wire time on either side.
 */
#ifndef ZCS_SERVE_H
#define ZCS_SERVE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>

#include <zcsign/poll.h>
#include <zcsign/wire.h>

#include "keystore.h"
#include "peer.h"

struct zcs_attest_source;

#define ZCS_SERVE_RX_BUF (64 * 1024)
/*
 * Replies to a full receive buffer take 1.5 times its size (96-byte replies to
 * 64-byte SIGNs): twice the receive buffer is enough while the client reads.
 */
#define ZCS_SERVE_TX_BUF (128 * 1024)
/* Pending reply bytes above which the loop stops reading requests. */
#define ZCS_SERVE_TX_HIGH_WATER (64 * 1024)
/* Spin mode: iterations between two looks at the listener while serving (power of 2). */
#define ZCS_SERVE_ACCEPT_EVERY 1024
/* Backoff mode: idle time spun before sleeping, and the sleep. */
#define ZCS_SERVE_BACKOFF_SPIN_NS 50000 /* zcsign-enclave's default --idle-spin-us */
#define ZCS_SERVE_BACKOFF_POLL_MS 1

/* Return values of a poll step. */
#define ZCS_SERVE_IDLE 0
#define ZCS_SERVE_BUSY 1

struct zcs_presig;

/* What the loop needs; every pointer must outlive the server. */
struct zcs_serve_conf {
	const secp256k1_context *ctx; /* randomized signing context */
	const struct zcs_keystore *ks; /* this shard's keys at start (zcs_serve_swap_keys) */
	unsigned int nonce; /* enum zcs_nonce_mode; 0 means ZCS_NONCE_RFC6979 */
	struct zcs_presig *presig; /* pools: required with ZCS_NONCE_PRECOMPUTED, else unused */
	bool verify; /* verify every signature before replying */
	uint8_t measurement[ZCS_MEASUREMENT_LEN]; /* sent in HELLO_REPLY */
	int listen_fd; /* non-blocking listener, or -1 (tests) */
	enum zcs_poll_mode idle; /* what the loop does when idle (zcsign/poll.h) */
	/*
	 * Backoff: idle time spun before sleeping in poll(). 0 sleeps at the
	 * first empty step: on a core shared with the client, spinning only
	 * steals the CPU the client needs to collect its reply.
	 */
	uint32_t backoff_spin_ns;
	const atomic_int *stop; /* loop ends when non-zero */
	/*
	 * Who may connect (listen_fd only): the kind of the listener
	 * (ZCS_ADDR_UNIX or ZCS_ADDR_VSOCK) and the allowed peers. A peer
	 * outside the policy is closed at accept, logged and counted.
	 * listen_kind 0 means ZCS_ADDR_UNIX; an empty policy is
	 * zcs_peer_policy_default() (this uid; the parent CID).
	 */
	int listen_kind;
	struct zcs_peer_policy peers;
	/* A connection that has not completed HELLO after this long is closed; 0: 1000. */
	uint32_t handshake_timeout_ms;
	/*
	 * Accept HELLO for ZCS_SHARD_ANY (no shard named). Off by default: a
	 * client must name this signer's shard, so a misrouted one is refused.
	 */
	bool any_shard;
	/* Where ATTEST is answered from (attest_source.h); NULL: ZCS_ERR_NO_ATTESTATION. */
	struct zcs_attest_source *attest;
};

/* Counters since creation; written only by the loop's thread. */
struct zcs_serve_stats {
	uint64_t conns_accepted; /* connections served (handshake or not) */
	uint64_t conns_refused; /* newcomers refused with ZCS_ERR_BUSY */
	uint64_t conns_dropped; /* closed by the signer on a protocol error */
	uint64_t signed_ok; /* SIGN requests answered ZCS_OK */
	uint64_t sign_errors; /* SIGN / PUBKEY requests answered with an error status */
	uint64_t pubkeys; /* PUBKEY requests answered ZCS_OK */
	uint64_t stats_replies; /* STATS requests answered */
	uint64_t verify_failed; /* signatures refused by verify-after-sign */
	uint64_t peers_refused; /* connections from a peer outside the policy */
	uint64_t handshake_timeouts; /* connections closed for not completing HELLO in time */
	uint64_t attestations; /* documents sent */
	uint64_t send_short; /* send() took less than pending (client slow to read) */
	uint64_t rx_stalls; /* batches cut short because the send buffer was full */
};

struct zcs_server {
	struct zcs_serve_conf conf;
	struct zcs_serve_stats stats;
	const struct zcs_keystore *ks; /* the keys this step signs with */
	/* Hot reload: published by zcs_serve_swap_keys(), acknowledged by the loop. */
	_Atomic(const struct zcs_keystore *) ks_next;
	_Atomic(const struct zcs_keystore *) ks_seen;
	int fd; /* the client connection, -1 when none */
	bool hello_done; /* handshake completed on fd */
	bool closing; /* ERROR queued: flush once, then close */
	bool rx_stalled; /* whole frames left in rx: send buffer was full */
	size_t rx_off; /* first unprocessed byte of rx (non-zero only when stalled) */
	size_t rx_len; /* bytes in rx */
	size_t tx_off; /* first unsent byte of tx */
	size_t tx_len; /* bytes in tx; always a multiple of 8 */
	uint64_t rx_ns; /* CLOCK_MONOTONIC of the last recv that brought bytes */
	uint64_t open_ns; /* CLOCK_MONOTONIC when the connection was opened */
	uint64_t iter; /* poll steps so far */
	uint64_t idle_since; /* backoff: start of the current idle spell, 0 when busy */
	int accept_errno; /* last accept() error logged, to log each kind once */
	alignas(64) uint8_t rx[ZCS_SERVE_RX_BUF];
	alignas(64) uint8_t tx[ZCS_SERVE_TX_BUF];
};

/*
 * Create a server over conf (copied). No connection yet.
 * Returns NULL with errno: EINVAL (missing ctx, ks or stop, bad idle or nonce
 * mode, precomputed without presig), ENOMEM.
 * With listen_fd -1 the server only serves connections given to zcs_serve_conn_open().
 */
struct zcs_server *zcs_serve_create(const struct zcs_serve_conf *conf);

/* Close the client connection if any (not the listener) and free. NULL is a no-op. */
void zcs_serve_destroy(struct zcs_server *srv);

/*
 * Serve until *conf.stop becomes non-zero (checked every iteration), idling
 * as conf.idle says. Closes the client connection before returning.
 * Returns 0.
 */
int zcs_serve_run(struct zcs_server *srv);

/*
 * One loop step, never blocking: without a connection, accept one; with one,
 * serve it (zcs_serve_conn_poll) and look for newcomers to refuse every
 * ZCS_SERVE_ACCEPT_EVERY steps. Returns ZCS_SERVE_BUSY or ZCS_SERVE_IDLE.
 */
int zcs_serve_poll(struct zcs_server *srv);

/*
 * Accept pending connections on the listener: the first becomes the client
 * when none is served, every other one is refused with ERROR(ZCS_ERR_BUSY).
 * Returns the number accepted or refused.
 */
int zcs_serve_accept(struct zcs_server *srv);

/*
 * Adopt fd (a connected stream socket; switched to non-blocking) as the client
 * connection; the server owns it from then on. Returns 0, -EBUSY when a
 * connection is already served (fd is left to the caller), or -errno.
 */
int zcs_serve_conn_open(struct zcs_server *srv, int fd);

/*
 * One step on the client connection: retry pending sends, then (below the
 * high-water mark) process frames left over or recv and process a new batch,
 * and send its replies with one send(). Returns ZCS_SERVE_BUSY,
 * ZCS_SERVE_IDLE, or -1 when the connection was closed in this step (peer
 * close, reset, or a protocol error; logged).
 */
int zcs_serve_conn_poll(struct zcs_server *srv);

/*
 * Hot reload, from another thread: make ks the store the loop signs with, and
 * return once the loop has taken it (at the start of its next step: a batch in
 * progress finishes with the old keys, none fails), after which the caller may
 * wipe the old store. 0, or -ETIMEDOUT when the loop did not step within
 * timeout_ms (then it may still read the old store: do not free it).
 */
int zcs_serve_swap_keys(struct zcs_server *srv, const struct zcs_keystore *ks, uint32_t timeout_ms);

/* True while a client connection is served. */
bool zcs_serve_conn_active(const struct zcs_server *srv);

/* Close the client connection (if any), logging why; buffers are reset. */
void zcs_serve_conn_close(struct zcs_server *srv, const char *why);

#endif /* ZCS_SERVE_H */
