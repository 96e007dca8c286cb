/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A client of DPDK's telemetry socket (<runtime dir>/dpdk/<prefix>/
 * dpdk_telemetry.v2, the one dpdk-telemetry.py reads), speaking its protocol
 * itself: AF_UNIX SOCK_SEQPACKET, a greeting on connect, then one command,
 * one JSON reply {"<command>": value}. No EAL, no hugepages, no client slot:
 * a watcher can never disturb the engine's shared memory.
 *
 * Every reply is parsed by the strict reader of json.h. Any failure returns
 * -1 with c->err holding one line that names the socket or the command, so a
 * caller prints it as it is. One thread per client; no call allocates.
 */
#ifndef ZCS_CLI_TEL_CLIENT_H
#define ZCS_CLI_TEL_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "json.h"

#define TEL_SOCKET_NAME "dpdk_telemetry.v2"
/* DPDK caps a reply at 16 KiB; room to spare, and MSG_TRUNC reports more. */
#define TEL_REPLY_MAX 65536
/* The telemetry thread answers in microseconds: seconds mean a wedged engine. */
#define TEL_REPLY_TIMEOUT_S 5

/* About 400 KiB (reply buffer and parse nodes): not for the stack. */
struct tel_client {
	const char *prefix; /* the DPDK --file-prefix whose socket this is */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd; /* -1 when not connected */
	/* When non-NULL and set (by a signal handler), a wait cut short by EINTR gives up. */
	const volatile sig_atomic_t *cancel;
	char buf[TEL_REPLY_MAX];
	struct json_doc doc; /* the last reply; tel_ask()'s node indexes point into it */
	char err[512];
};

/* Set c up for prefix (kept, not copied); cancel may be NULL. Connects nothing. */
void tel_init(struct tel_client *c, const char *prefix, const volatile sig_atomic_t *cancel);

/*
 * Connect to prefix's socket and read DPDK's greeting. Returns 0, or -1 with
 * c->err: no socket or no listener ("no telemetry socket at PATH: is zcsignd
 * running with --file-prefix P (and telemetry enabled)?"), a path too long, a
 * greeting that is not DPDK telemetry v2, no greeting within
 * TEL_REPLY_TIMEOUT_S.
 */
int tel_connect(struct tel_client *c);

/*
 * Send cmd (with its parameter after a comma, as DPDK takes it) and parse the
 * reply. Returns the node of the reply's value in c->doc, or -1 with c->err
 * naming cmd: no reply in time, socket closed, reply not JSON or not
 * {"<cmd>": value}, or value null (DPDK's answer when the handler failed).
 */
int tel_ask(struct tel_client *c, const char *cmd);

/* Member key of object obj (of cmd's reply) as a uint64_t: 0, or -1 with c->err. */
int tel_u64(struct tel_client *c, const char *cmd, int obj, const char *key, uint64_t *out);

/* Member key of obj as a string into buf[len]: 0, or -1 with c->err (also: too long). */
int tel_str(struct tel_client *c, const char *cmd, int obj, const char *key, char *buf, size_t len);

/* c->err from a format, for a caller's own checks of a reply; returns -1. */
int tel_fail(struct tel_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Close the socket, if open. */
void tel_close(struct tel_client *c);

#endif /* ZCS_CLI_TEL_CLIENT_H */
