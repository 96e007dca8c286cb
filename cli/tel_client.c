/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry-socket client of tel_client.h. Timeouts are socket options
 * (SO_RCVTIMEO/SO_SNDTIMEO), so a wedged engine costs TEL_REPLY_TIMEOUT_S,
 * not a hang; no SA_RESTART is assumed, so a signal can cut a wait short
 * when the caller says so (c->cancel).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tel_client.h"

void
tel_init(struct tel_client *c, const char *prefix, const volatile sig_atomic_t *cancel)
{
	c->prefix = prefix;
	c->path[0] = '\0';
	c->fd = -1;
	c->cancel = cancel;
	c->err[0] = '\0';
}

int
tel_fail(struct tel_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static bool
cancelled(const struct tel_client *c)
{
	return c->cancel != NULL && *c->cancel;
}

/*
 * DPDK's runtime directory (eal_create_runtime_dir): $RUNTIME_DIRECTORY,
 * else /var/run for root, else $XDG_RUNTIME_DIR or /tmp; then dpdk/<prefix>.
 */
static int
socket_path(struct tel_client *c)
{
	const char *base = getenv("RUNTIME_DIRECTORY");
	int n;

	if (base == NULL || base[0] == '\0') {
		base = "/var/run";
		if (getuid() != 0) {
			base = getenv("XDG_RUNTIME_DIR");
			if (base == NULL || base[0] == '\0')
				base = "/tmp";
		}
	}
	n = snprintf(c->path, sizeof(c->path), "%s/dpdk/%s/" TEL_SOCKET_NAME, base, c->prefix);
	if (n < 0 || (size_t)n >= sizeof(c->path))
		return tel_fail(c,
			"telemetry socket path %s/dpdk/%s/" TEL_SOCKET_NAME
			" is longer than a unix socket path may be",
			base, c->prefix);
	return 0;
}

/* Read one message into c->buf (NUL-terminated); its length, or -1 with c->err. */
static ssize_t
recv_msg(struct tel_client *c, const char *what)
{
	ssize_t n;

	do
		n = recv(c->fd, c->buf, sizeof(c->buf) - 1, MSG_TRUNC);
	while (n < 0 && errno == EINTR && !cancelled(c));
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return tel_fail(c, "telemetry socket at %s: no reply to %s within %d s", c->path,
			what, TEL_REPLY_TIMEOUT_S);
	if (n < 0)
		return tel_fail(c, "telemetry socket at %s: %s: %s", c->path, what,
			errno == EINTR ? "interrupted" : strerror(errno));
	if (n == 0)
		return tel_fail(c,
			"telemetry socket at %s closed before replying to %s: did "
			"zcsignd stop?",
			c->path, what);
	if ((size_t)n >= sizeof(c->buf))
		return tel_fail(c,
			"telemetry socket at %s: reply to %s is %zd bytes, more than "
			"%zu",
			c->path, what, n, sizeof(c->buf) - 1);
	c->buf[n] = '\0';
	return n;
}

/* The greeting is {"version": ..., "pid": ..., "max_output_len": ...}. */
int
tel_connect(struct tel_client *c)
{
	struct timeval tv = {.tv_sec = TEL_REPLY_TIMEOUT_S};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ssize_t n;

	if (socket_path(c) != 0)
		return -1;
	memcpy(sa.sun_path, c->path, sizeof(sa.sun_path));
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return tel_fail(c, "socket: %s", strerror(errno));
	/* A socket file without a listener is what a killed zcsignd leaves: no engine either. */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
			return tel_fail(c,
				"no telemetry socket at %s: is zcsignd running with "
				"--file-prefix %s (and telemetry enabled)?",
				c->path, c->prefix);
		return tel_fail(c, "cannot connect to the telemetry socket at %s: %s", c->path,
			strerror(errno));
	}
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return tel_fail(
			c, "telemetry socket at %s: setsockopt: %s", c->path, strerror(errno));
	n = recv_msg(c, "the connection (its greeting)");
	if (n < 0)
		return -1;
	if (json_parse(&c->doc, c->buf, (size_t)n) != 0)
		return tel_fail(
			c, "telemetry socket at %s: malformed greeting: %s", c->path, c->doc.err);
	if (json_find(&c->doc, 0, "max_output_len") < 0)
		return tel_fail(
			c, "telemetry socket at %s: not a DPDK telemetry v2 greeting", c->path);
	return 0;
}

int
tel_ask(struct tel_client *c, const char *cmd)
{
	const char *comma = strchr(cmd, ',');
	size_t name_len = comma != NULL ? (size_t)(comma - cmd) : strlen(cmd);
	const struct json_node *key;
	ssize_t n;
	int v;

	if (send(c->fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0)
		return tel_fail(c, "telemetry socket at %s: sending %s: %s", c->path, cmd,
			errno == EPIPE ? "zcsignd closed it (did it stop?)" : strerror(errno));
	n = recv_msg(c, cmd);
	if (n < 0)
		return -1;
	if (json_parse(&c->doc, c->buf, (size_t)n) != 0)
		return tel_fail(c, "reply to %s is not valid JSON: %s", cmd, c->doc.err);
	key = &c->doc.node[1];
	if (c->doc.node[0].type != JSON_OBJ || c->doc.node[0].kids != 1 || key->len != name_len ||
		memcmp(c->buf + key->start, cmd, name_len) != 0)
		return tel_fail(c, "reply to %s is not {\"%.*s\": ...}", cmd, (int)name_len, cmd);
	v = 2;
	/* DPDK answers null when the handler failed: -ENODEV (no engine) or -EINVAL. */
	if (c->doc.node[v].type == JSON_NULL)
		return tel_fail(c,
			"zcsignd answered null to %s: is its engine running (and does "
			"it have that shard)?",
			cmd);
	return v;
}

int
tel_u64(struct tel_client *c, const char *cmd, int obj, const char *key, uint64_t *out)
{
	if (json_u64(&c->doc, json_find(&c->doc, obj, key), out) != 0)
		return tel_fail(
			c, "reply to %s: \"%s\" is missing or not an unsigned integer", cmd, key);
	return 0;
}

int
tel_str(struct tel_client *c, const char *cmd, int obj, const char *key, char *buf, size_t len)
{
	if (json_str(&c->doc, json_find(&c->doc, obj, key), buf, len) != 0)
		return tel_fail(c,
			"reply to %s: \"%s\" is missing, not a string or longer than %zu", cmd, key,
			len - 1);
	return 0;
}

void
tel_close(struct tel_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
