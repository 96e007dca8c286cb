/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The signer's control endpoint: provisioning (private to zcsign-enclave).
 *
 * A thread of its own, off the signing path (SCHED_IDLE or nice 19, on
 * --refill-cpu when given, signals blocked), on its own listener (the
 * control address: unix:PATH.ctl or vsock port + 1 by default), one
 * connection at a time, peers checked like the signing endpoint's. A
 * connection carries (docs/PROTOCOL.md, "Provisioning"):
 *
 *   PROVISION(seq, nonce)  ->  ATTEST_REPLY chunks: an attestation document
 *                              with public_key = a fresh X25519 key of this
 *                              signer, nonce = the provisioner's, user_data
 *                              "zcsign shard I/N provision"
 *   BUNDLE chunks          ->  BUNDLE_REPLY: the key bundle (keys/bundle.h,
 *                              purpose transit) sealed to that key
 *
 * The bundle must be for this shard (else wrong_shard), carry the session's
 * nonce and be sealed to the session's key (else bundle: a replayed or
 * foreign bundle), be newer than the keys held (else stale), and decrypt and
 * check whole (else bundle). Any BUNDLE ends the session: the ephemeral key
 * is freed (OpenSSL wipes it) whether it was accepted or not. Accepted, its
 * keys are merged into a new store (added accounts, rotated ones replaced),
 * published to the serve loop with zcs_serve_swap_keys() while it signs, and
 * the old store (with every rotated key) is wiped once the loop has let go
 * of it. Refused, the signer stays exactly as it was.
 */
#ifndef ZCS_PROVISION_H
#define ZCS_PROVISION_H

#include <stdatomic.h>
#include <stdint.h>

#include <secp256k1.h>

#include "keystore.h"
#include "peer.h"

struct zcs_server;
struct zcs_attest_source;

struct zcs_provision_conf {
	const secp256k1_context *ctx;
	struct zcs_server *srv; /* the serve loop whose keys are replaced */
	struct zcs_keystore *keys; /* the live store (malloc'ed): owned from start on */
	struct zcs_attest_source *attest; /* NULL: PROVISION answered no_attestation */
	int listen_fd; /* the control listener (closed by the caller after stop) */
	int listen_kind; /* ZCS_ADDR_UNIX or ZCS_ADDR_VSOCK */
	struct zcs_peer_policy peers; /* empty: zcs_peer_policy_default() */
	const atomic_int *stop;
	uint32_t io_timeout_ms; /* a silent control connection is closed after this; 0: 10000 */
	int cpu; /* pin the thread to this CPU (the refill thread's), or -1 */
};

struct zcs_provisioner;

/* Start the control thread. NULL with errno (the keys stay the caller's then). */
struct zcs_provisioner *zcs_provision_start(const struct zcs_provision_conf *conf);

/*
 * Once *stop is set and the serve loop has returned: join the thread, wipe
 * and free the live store. NULL is a no-op.
 */
void zcs_provision_stop(struct zcs_provisioner *p);

/* Bundles accepted and refused so far (for the signer's exit line). */
void zcs_provision_counts(const struct zcs_provisioner *p, uint64_t *accepted, uint64_t *refused);

#endif /* ZCS_PROVISION_H */
