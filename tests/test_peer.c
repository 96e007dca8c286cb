/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/peer.c: the signer's peer policy. The default serves this uid and
 * the parent CID only; lists replace it; a peer of another kind is never
 * allowed; the credentials of a unix socket's peer are the kernel's (our own
 * uid and pid over a socketpair); vsock peers are judged by CID alone (no
 * vsock socket is opened here: these machines have no vsock peer of ours).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "addr.h"
#include "peer.h"

static void
test_default_policy(void **state)
{
	struct zcs_peer_policy p;
	struct zcs_peer me = {.kind = ZCS_ADDR_UNIX, .uid = getuid(), .pid = getpid()};
	struct zcs_peer other = me, parent = {.kind = ZCS_ADDR_VSOCK, .cid = ZCS_PEER_CID_PARENT};
	struct zcs_peer host = {.kind = ZCS_ADDR_VSOCK, .cid = 2}, odd = {.kind = 0};

	(void)state;
	zcs_peer_policy_default(&p);
	other.uid = getuid() + 1;
	assert_true(zcs_peer_allowed(&p, &me));
	assert_false(zcs_peer_allowed(&p, &other));
	assert_true(zcs_peer_allowed(&p, &parent));
	assert_false(zcs_peer_allowed(&p, &host));
	assert_false(zcs_peer_allowed(&p, &odd));
}

static void
test_lists(void **state)
{
	struct zcs_peer_policy p;
	struct zcs_peer a = {.kind = ZCS_ADDR_UNIX, .uid = 1000};
	struct zcs_peer v = {.kind = ZCS_ADDR_VSOCK, .cid = 17};

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_false(zcs_peer_allowed(&p, &a)); /* an empty list allows nobody */
	assert_false(zcs_peer_allowed(&p, &v));
	p.nuids = 2;
	p.uids[0] = 999;
	p.uids[1] = 1000;
	p.ncids = 1;
	p.cids[0] = 17;
	assert_true(zcs_peer_allowed(&p, &a));
	assert_true(zcs_peer_allowed(&p, &v));
	v.cid = ZCS_PEER_CID_PARENT; /* not listed: the default is replaced, not extended */
	assert_false(zcs_peer_allowed(&p, &v));
}

static void
test_get_and_format(void **state)
{
	struct zcs_peer peer;
	char text[64], want[64];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(zcs_peer_get(&peer, sv[0], ZCS_ADDR_UNIX), 0);
	assert_int_equal(peer.uid, getuid());
	assert_int_equal(peer.pid, getpid());
	zcs_peer_format(text, sizeof(text), &peer);
	snprintf(want, sizeof(want), "uid %u pid %d", (unsigned int)getuid(), (int)getpid());
	assert_string_equal(text, want);
	/* A unix socket is not a vsock peer. */
	assert_int_not_equal(zcs_peer_get(&peer, sv[0], ZCS_ADDR_VSOCK), 0);
	assert_int_not_equal(zcs_peer_get(&peer, sv[0], 0), 0);
	close(sv[0]);
	close(sv[1]);
	peer = (struct zcs_peer){.kind = ZCS_ADDR_VSOCK, .cid = 3};
	zcs_peer_format(text, sizeof(text), &peer);
	assert_string_equal(text, "cid 3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_get_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
