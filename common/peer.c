/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "addr.h"
#include "peer.h"

void
zcs_peer_policy_default(struct zcs_peer_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->nuids = 1;
	p->uids[0] = getuid();
	p->ncids = 1;
	p->cids[0] = ZCS_PEER_CID_PARENT;
}

int
zcs_peer_get(struct zcs_peer *peer, int fd, int kind)
{
	memset(peer, 0, sizeof(*peer));
	peer->kind = kind;
	if (kind == ZCS_ADDR_UNIX) {
		struct ucred cr;
		socklen_t len = sizeof(cr);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
			return -errno;
		peer->uid = cr.uid;
		peer->pid = cr.pid;
		return 0;
	}
	if (kind == ZCS_ADDR_VSOCK) {
		struct sockaddr_vm svm;
		socklen_t len = sizeof(svm);

		if (getpeername(fd, (struct sockaddr *)&svm, &len) != 0)
			return -errno;
		if (svm.svm_family != AF_VSOCK)
			return -EAFNOSUPPORT;
		peer->cid = svm.svm_cid;
		return 0;
	}
	return -EINVAL;
}

bool
zcs_peer_allowed(const struct zcs_peer_policy *policy, const struct zcs_peer *peer)
{
	unsigned int i;

	if (peer->kind == ZCS_ADDR_UNIX) {
		for (i = 0; i < policy->nuids && i < ZCS_PEER_ALLOW_MAX; i++)
			if (policy->uids[i] == peer->uid)
				return true;
		return false;
	}
	if (peer->kind == ZCS_ADDR_VSOCK) {
		for (i = 0; i < policy->ncids && i < ZCS_PEER_ALLOW_MAX; i++)
			if (policy->cids[i] == peer->cid)
				return true;
		return false;
	}
	return false;
}

void
zcs_peer_format(char *out, size_t len, const struct zcs_peer *peer)
{
	if (peer->kind == ZCS_ADDR_UNIX)
		snprintf(out, len, "uid %u pid %d", (unsigned int)peer->uid, (int)peer->pid);
	else if (peer->kind == ZCS_ADDR_VSOCK)
		snprintf(out, len, "cid %u", (unsigned int)peer->cid);
	else
		snprintf(out, len, "unknown peer");
}
