/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli's signer path (--signer): sign and pubkey straight to one
 * signer, for a signer no engine holds (a signer serves one connection).
 *
 * It speaks the engine's wire protocol over a blocking socket: HELLO naming
 * the shard of --shard I/N (default 0/1: a single-shard key set; a signer
 * refuses a HELLO for another shard), then one request and its reply, each
 * bounded by CLI_REPLY_TIMEOUT_MS. Latency does not matter here, a clear answer
 * does: every outcome other than the expected reply is one line naming the
 * signer, and a BUSY signer is told apart from a dead one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "attest.h"
#include "cli.h"
#include "clock.h"
#include "out.h"
#include "wire_io.h"

int
cli_conn_send(struct cli_conn *c, const void *frame, size_t len)
{
	int rc = zcs_wire_send_all(c->fd, frame, len);

	/*
	 * A signer that refuses (BUSY) may close before reading our frame: its
	 * ERROR is still queued for us, and cli_conn_await() reads it, or reports the
	 * close. The reason beats "Broken pipe".
	 */
	if (rc == -EPIPE || rc == -ECONNRESET)
		return 0;
	if (rc != 0)
		return cli_fail(
			CLI_EXIT_RUNTIME, "signer at %s: send: %s", c->signer, strerror(-rc));
	return 0;
}

/*
 * Wait for the reply of type want to the request seq (HELLO has none: seq is
 * then ignored). Any other outcome is reported here, naming the signer.
 */
int
cli_conn_await(struct cli_conn *c, unsigned int want, uint64_t seq, const char *what,
	union zcs_wire_frame *f)
{
	unsigned int timeout_ms = c->timeout_ms != 0 ? c->timeout_ms : CLI_REPLY_TIMEOUT_MS;
	int rc = zcs_wire_recv_frame(c->fd, f, timeout_ms);
	uint64_t got;

	if (rc == -ETIMEDOUT)
		return cli_fail(CLI_EXIT_RUNTIME, "signer at %s: no reply to %s within %u ms",
			c->signer, what, timeout_ms);
	if (rc == -ECONNRESET)
		return cli_fail(CLI_EXIT_RUNTIME,
			"signer at %s closed the connection before replying to %s", c->signer,
			what);
	if (rc < 0)
		return cli_fail(
			CLI_EXIT_RUNTIME, "signer at %s: receive: %s", c->signer, strerror(-rc));
	if (rc > 0)
		return cli_fail(CLI_EXIT_RUNTIME, "signer at %s: malformed reply to %s: %s (%s)",
			c->signer, what, zcs_strerror(rc), zcs_status_name(rc));
	if (f->hdr.type == ZCS_FT_ERROR && f->error.status == ZCS_ERR_BUSY)
		return cli_fail(CLI_EXIT_RUNTIME,
			"signer at %s is busy: it already serves a connection (is zcsignd "
			"attached?)",
			c->signer);
	if (f->hdr.type == ZCS_FT_ERROR)
		return cli_fail(CLI_EXIT_RUNTIME, "signer at %s refused %s: %s (%s)", c->signer,
			what, zcs_strerror(f->error.status), zcs_status_name(f->error.status));
	if (f->hdr.type != want)
		return cli_fail(CLI_EXIT_RUNTIME, "signer at %s: frame type %u in reply to %s",
			c->signer, f->hdr.type, what);
	/* HELLO_REPLY carries no seq: it matches by being the only reply. */
	got = want == ZCS_FT_SIGN_REPLY	      ? f->sign_reply.seq
		: want == ZCS_FT_PUBKEY_REPLY ? f->pubkey_reply.seq
		: want == ZCS_FT_ATTEST_REPLY ? f->attest_reply.seq
		: want == ZCS_FT_BUNDLE_REPLY ? f->bundle_reply.seq
					      : seq;
	if (got != seq)
		return cli_fail(CLI_EXIT_RUNTIME,
			"signer at %s: reply to %s carries seq %" PRIu64 ", expected %" PRIu64,
			c->signer, what, got, seq);
	return 0;
}

static int
open_conn(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_hello hello;
	union zcs_wire_frame f;
	struct zcs_addr addr;
	char err[256];
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->signer = a->signer;
	if (zcs_addr_parse(a->signer, false, &addr, err, sizeof(err)) != 0)
		return cli_fail(CLI_EXIT_USAGE, "--signer: %s", err);
	c->fd = zcs_addr_connect(&addr, false, err, sizeof(err));
	if (c->fd < 0)
		return cli_fail(CLI_EXIT_RUNTIME, "%s", err);
	zcs_wire_hello(&hello, a->shard_id, a->shard_count);
	rc = cli_conn_send(c, &hello, sizeof(hello));
	if (rc == 0)
		rc = cli_conn_await(c, ZCS_FT_HELLO_REPLY, 0, "HELLO", &f);
	if (rc != 0)
		return rc;
	c->shard_id = f.hello_reply.shard_id;
	return 0;
}

/* A non-OK request status as one line naming the account; 0 for ZCS_OK. */
static int
request_status(const struct cli_args *a, unsigned int status)
{
	if (status == ZCS_OK)
		return 0;
	return cli_fail(CLI_EXIT_RUNTIME, "account %" PRIu64 ": %s (%s)", a->account,
		zcs_strerror((int)status), zcs_status_name((int)status));
}

/* PUBKEY on an open connection; latency_ns may be NULL. */
static int
get_pubkey(struct cli_conn *c, const struct cli_args *a, uint64_t seq,
	struct zcs_wire_pubkey_reply *out, uint64_t *latency_ns)
{
	struct zcs_wire_pubkey req;
	union zcs_wire_frame f;
	uint64_t t0;
	int rc;

	zcs_wire_pubkey(&req, seq, a->account);
	t0 = zcs_mono_ns();
	rc = cli_conn_send(c, &req, sizeof(req));
	if (rc == 0)
		rc = cli_conn_await(c, ZCS_FT_PUBKEY_REPLY, seq, "PUBKEY", &f);
	if (latency_ns != NULL)
		*latency_ns = zcs_mono_ns() - t0;
	if (rc == 0)
		rc = request_status(a, f.pubkey_reply.status);
	if (rc == 0)
		*out = f.pubkey_reply;
	return rc;
}

static int
cmd_sign(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_pubkey_reply pk;
	struct zcs_wire_sign req;
	union zcs_wire_frame f;
	uint64_t t0, latency;
	int rc;

	zcs_wire_sign(&req, 1, a->account, (uint8_t)a->algo, a->hash);
	/* Measured around send -> reply only: the number a client of the signer sees. */
	t0 = zcs_mono_ns();
	rc = cli_conn_send(c, &req, sizeof(req));
	if (rc == 0)
		rc = cli_conn_await(c, ZCS_FT_SIGN_REPLY, 1, "SIGN", &f);
	latency = zcs_mono_ns() - t0;
	if (rc == 0)
		rc = request_status(a, f.sign_reply.status);
	/* The key that verifies this signature, so the output is self-contained. */
	if (rc == 0)
		rc = get_pubkey(c, a, 2, &pk, NULL);
	if (rc != 0)
		return rc;
	return cli_print_sign(a, f.sign_reply.sig, f.sign_reply.recid, pk.compressed, c->shard_id,
		f.sign_reply.service_ns, latency);
}

static int
cmd_pubkey(struct cli_conn *c, const struct cli_args *a)
{
	struct zcs_wire_pubkey_reply pk;
	uint64_t latency;
	int rc;

	rc = get_pubkey(c, a, 1, &pk, &latency);
	if (rc != 0)
		return rc;
	return cli_print_pubkey(a, pk.compressed, pk.xonly, c->shard_id, latency);
}

int
cli_conn_document(struct cli_conn *c, const void *req, size_t req_len, const char *what,
	uint8_t *doc, size_t cap, size_t *len)
{
	struct zcs_attest_chunks in = {.buf = doc, .cap = cap};
	union zcs_wire_frame f;
	char why[96];
	int rc, whole = 0;

	rc = cli_conn_send(c, req, req_len);
	/* Chunks in order until the document is whole, or one refusal. */
	while (rc == 0) {
		rc = cli_conn_await(c, ZCS_FT_ATTEST_REPLY, 1, what, &f);
		if (rc != 0)
			break;
		if (f.attest_reply.status != ZCS_OK) {
			rc = cli_fail(CLI_EXIT_RUNTIME,
				"signer at %s: no attestation document: %s (%s)", c->signer,
				zcs_strerror(f.attest_reply.status),
				zcs_status_name(f.attest_reply.status));
			break;
		}
		whole = zcs_attest_chunks_add(&in, f.attest_reply.offset, f.attest_reply.total,
			f.attest_reply.data, f.attest_reply.chunk_len, why, sizeof(why));
		if (whole < 0)
			rc = cli_fail(CLI_EXIT_RUNTIME, "signer at %s: %s", c->signer, why);
		if (whole != 0)
			break;
	}
	*len = in.total;
	return rc;
}

int
cli_signer_attest(
	const struct cli_args *a, const uint8_t nonce[32], uint8_t *doc, size_t cap, size_t *len)
{
	struct zcs_wire_attest req;
	struct cli_conn c;
	int rc;

	*len = 0;
	rc = open_conn(&c, a);
	if (rc == 0) {
		zcs_wire_attest(&req, 1, nonce);
		rc = cli_conn_document(&c, &req, sizeof(req), "ATTEST", doc, cap, len);
	}
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}

int
cli_signer_run(const struct cli_args *a)
{
	struct cli_conn c;
	int rc;

	rc = open_conn(&c, a);
	if (rc == 0)
		rc = a->cmd_id == CMD_SIGN ? cmd_sign(&c, a) : cmd_pubkey(&c, a);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}
