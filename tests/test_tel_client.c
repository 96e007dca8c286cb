/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli/tel_client.c and cli/top_snap.c (linked from zcs_cli_core): replies
 * that parse but are not what a command answers (another key, null, a
 * missing or negative counter, a closed socket) are refused with the command
 * named, fed through a socketpair standing in for the telemetry socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <zcsign/telemetry.h>

#include "tel_client.h"
#include "top_snap.h"

/* ---- replies through a socketpair standing in for the telemetry socket ---- */

static struct tel_client *
fake_client(int *peer)
{
	struct tel_client *c = calloc(1, sizeof(*c));
	int sv[2];

	assert_non_null(c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	tel_init(c, "fake", NULL);
	c->fd = sv[0];
	snprintf(c->path, sizeof(c->path), "fake.sock");
	*peer = sv[1];
	return c;
}

/* Queue reply, then ask cmd: the client must fail with an error naming cmd and saying want. */
static void
bad_reply(const char *cmd, const char *reply, const char *want)
{
	int peer, rc;
	struct tel_client *c = fake_client(&peer);

	if (reply != NULL)
		assert_true(send(peer, reply, strlen(reply), 0) == (ssize_t)strlen(reply));
	else
		close(peer);
	if (strncmp(cmd, ZCS_TEL_CMD_SHARD ",", strlen(ZCS_TEL_CMD_SHARD ",")) == 0) {
		struct top_shard x;

		rc = top_shard_read(c, &x, 0);
	} else {
		rc = tel_ask(c, cmd);
	}
	if (rc != -1 || strstr(c->err, cmd) == NULL || strstr(c->err, want) == NULL)
		fail_msg("reply '%s' to %s: rc %d, error '%s' (want '%s')", reply, cmd, rc, c->err,
			want);
	tel_close(c);
	if (reply != NULL)
		close(peer);
	free(c);
}

static void
test_bad_replies(void **state)
{
	(void)state;
	bad_reply("/zcsign/info", "{\"/zcsign/info\": {\"shards\": 2", "not valid JSON");
	bad_reply("/zcsign/info", "<html>", "not valid JSON");
	bad_reply("/zcsign/info", "{\"/zcsign/shards\": [0]}", "is not {\"/zcsign/info\"");
	bad_reply("/zcsign/info", "[]", "is not {\"/zcsign/info\"");
	bad_reply("/zcsign/info", "{}", "is not {\"/zcsign/info\"");
	bad_reply("/zcsign/info", "{\"/zcsign/info\": 1, \"x\": 2}", "is not {");
	bad_reply("/zcsign/latency,7", "{\"/zcsign/latency\": null}", "answered null");
	bad_reply("/zcsign/info", NULL, "closed");
	/* Well-formed, but a counter is missing, negative or not a number. */
	bad_reply("/zcsign/shard,0", "{\"/zcsign/shard\": {\"state\": \"up\", \"lcore\": 1}}",
		"\"signed\" is missing or not an unsigned integer");
	bad_reply("/zcsign/shard,0",
		"{\"/zcsign/shard\": {\"state\": \"up\", \"lcore\": 1, \"signed\": -3}}",
		"\"signed\"");
	bad_reply("/zcsign/shard,0", "{\"/zcsign/shard\": {\"state\": 5, \"lcore\": 1}}",
		"\"state\" is missing, not a string");
	bad_reply("/zcsign/shard,0",
		"{\"/zcsign/shard\": {\"state\": \"a-state-name-far-too-long\"}}", "longer than");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
