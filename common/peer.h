/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who is on the other end of an accepted connection, and whether the signer
 * serves it. On a unix socket the kernel's credentials of the peer
 * (SO_PEERCRED: uid, pid); on vsock the peer's CID (getpeername). A signer
 * serves only its engine: by default a unix peer of the signer's own uid, and
 * on vsock only the parent instance (CID 3 on Nitro). Allow lists extend
 * that; nothing shrinks it below "the listed ones".
 */
#ifndef ZCS_COMMON_PEER_H
#define ZCS_COMMON_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ZCS_PEER_ALLOW_MAX 8
/* The parent instance's CID as seen from a Nitro enclave. */
#define ZCS_PEER_CID_PARENT 3

struct zcs_peer {
	int kind; /* ZCS_ADDR_UNIX or ZCS_ADDR_VSOCK (addr.h) */
	uid_t uid; /* unix */
	pid_t pid; /* unix */
	uint32_t cid; /* vsock */
};

/* Which peers a signer serves: uids on unix, CIDs on vsock. */
struct zcs_peer_policy {
	unsigned int nuids;
	uid_t uids[ZCS_PEER_ALLOW_MAX];
	unsigned int ncids;
	uint32_t cids[ZCS_PEER_ALLOW_MAX];
};

/* The default: this process's uid, the parent CID. */
void zcs_peer_policy_default(struct zcs_peer_policy *p);

/* Read the peer of an accepted socket of kind. Returns 0 or -errno. */
int zcs_peer_get(struct zcs_peer *peer, int fd, int kind);

/* Whether policy allows peer. */
bool zcs_peer_allowed(const struct zcs_peer_policy *policy, const struct zcs_peer *peer);

/* "uid 1000 pid 4242" or "cid 17", for log lines. */
void zcs_peer_format(char *out, size_t len, const struct zcs_peer *peer);

#endif /* ZCS_COMMON_PEER_H */
