/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* memmem */
/*
 * Provisioning with real processes: zcsign-keygen's sealed bundles, a dev
 * attestation CA, a sealed zcsign-enclave per test, zcsign-cli provision.
 *
 * A sealed signer signs nothing; provisioned after its attestation verified,
 * every signature verifies against the manifest. Refused, the signer stays as
 * it was: a wrong PCR (nothing sent), a replayed document (the provisioner's
 * nonce), a replayed, stale, altered or foreign bundle, a bundle without a
 * session (the signer's checks, driven here over the raw protocol). A second
 * provisioning while a connection signs adds and rotates accounts with no
 * request failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "addr.h"
#include "attest.h"
#include "bundle.h"
#include "proc_util.h"
#include "secure.h"
#include "secp_util.h"
#include "verify.h"
#include "wire_io.h"

#define ACCOUNTS 40
#define SHARDS 2

static struct {
	char dir[64];
	char op_key[160], op_pub[160];
	char keys1[160], keys2[160]; /* generation 1, and 2 (accounts 21..60: rotated and new) */
	char root[200], leaf[200]; /* the dev CA's root.pem; "dev:" the leaf's prefix */
	char pcr0[97];
	secp256k1_context *ctx;
	EVP_PKEY *op;
	struct zcs_manifest m1, m2;
} g;

/* One sealed signer of shard 0/2. */
struct signer {
	char sock[160], ctl[168], log[160];
	pid_t pid;
};

static void
run_ok(const char *what, char *const argv[])
{
	char log[200];

	snprintf(log, sizeof(log), "%s/tools.log", g.dir);
	if (proc_run(argv, log, log, PROC_START_MS) != 0) {
		proc_dump_log(what, log);
		fail_msg("%s failed", what);
	}
}

static void
keygen(const char *out, const char *first, const char *gen)
{
	char prog[PATH_MAX];
	char *argv[] = {prog, "--accounts", "40", "--shards", "2", "--first-account", (char *)first,
		"--out", (char *)out, "--operator-pub", g.op_pub, "--generation", (char *)gen,
		NULL};

	assert_int_equal(proc_build_path(prog, sizeof(prog), "enclave/zcsign-keygen"), 0);
	run_ok("zcsign-keygen", argv);
}

static int
setup(void **state)
{
	char prog[PATH_MAX], ca[160], path[200], err[256];
	char *init[] = {prog, "init", "--out", ca, NULL};
	char *leaf[] = {prog, "leaf", "--ca", ca, "--out", ca, "--name", "signer", NULL};

	(void)state;
	if (secp_tmp_setup(&g.ctx, g.dir, sizeof(g.dir), "provision") != 0 ||
		zcs_secure_heap_init() != 0)
		return -1;
	snprintf(g.op_key, sizeof(g.op_key), "%s/op.key", g.dir);
	snprintf(g.op_pub, sizeof(g.op_pub), "%s/op.pub", g.dir);
	snprintf(path, sizeof(path), "%s/op", g.dir);
	g.op = zcs_bundle_key_new();
	if (g.op == NULL || zcs_bundle_key_write(path, g.op, err, sizeof(err)) != 0)
		return -1;
	snprintf(g.keys1, sizeof(g.keys1), "%s/keys1", g.dir);
	snprintf(g.keys2, sizeof(g.keys2), "%s/keys2", g.dir);
	keygen(g.keys1, "1", "1");
	keygen(g.keys2, "21", "2");
	snprintf(path, sizeof(path), "%s/manifest.json", g.keys1);
	if (zcs_manifest_load(&g.m1, err, sizeof(err), path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/manifest.json", g.keys2);
	if (zcs_manifest_load(&g.m2, err, sizeof(err), path) != 0)
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca", g.dir);
	if (mkdir(ca, 0700) != 0 ||
		proc_build_path(prog, sizeof(prog), "attest/zcsign-attest-ca") != 0)
		return -1;
	run_ok("zcsign-attest-ca init", init);
	run_ok("zcsign-attest-ca leaf", leaf);
	snprintf(g.root, sizeof(g.root), "%s/root.pem", ca);
	snprintf(g.leaf, sizeof(g.leaf), "dev:%s/signer", ca);
	proc_signer_pcr0_hex(g.pcr0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	zcs_manifest_free(&g.m1);
	zcs_manifest_free(&g.m2);
	EVP_PKEY_free(g.op);
	return secp_tmp_teardown(g.ctx, g.dir);
}

static void
signer_start(struct signer *s, const char *name)
{
	char prog[PATH_MAX], listen[176];
	char *argv[] = {prog, "--listen", listen, "--shard", "0/2", "--attest", g.leaf, "--idle",
		"backoff", "--nonce", "rfc6979", NULL};

	snprintf(s->sock, sizeof(s->sock), "%s/%s.sock", g.dir, name);
	snprintf(s->ctl, sizeof(s->ctl), "%s.ctl", s->sock);
	snprintf(s->log, sizeof(s->log), "%s/%s.log", g.dir, name);
	assert_int_equal(proc_build_path(prog, sizeof(prog), "enclave/zcsign-enclave"), 0);
	assert_int_equal(proc_unix_arg(listen, sizeof(listen), s->sock), 0);
	s->pid = proc_spawn_tied(argv, s->log, s->log);
	assert_true(s->pid > 0);
	if (proc_wait_listen(s->ctl, s->pid, PROC_START_MS) != 0) {
		proc_dump_log("signer", s->log);
		fail_msg("signer did not listen on %s", s->ctl);
	}
}

static void
signer_stop(struct signer *s)
{
	int status;

	assert_int_equal(proc_stop(s->pid, SIGTERM, PROC_STOP_MS, &status), 0);
	if (!proc_exited_ok(status)) {
		proc_dump_log("signer", s->log);
		fail_msg("signer exited %d", proc_exit_code(status));
	}
}

/* zcsign-cli --signer ... provision; its exit code, stderr in err_out. */
static int
cli_provision(const struct signer *s, const char *pcr0, const char *control,
	const char *const bundles[], char *err_out, size_t errlen)
{
	char prog[PATH_MAX], signer[176], pcr[112], ctl[176], out[200], errp[200];
	char *argv[24] = {prog, "--signer", signer, "provision", "--operator-key", g.op_key,
		"--root", g.root, "--pcr", pcr};
	int n = 10, code;

	assert_int_equal(proc_build_path(prog, sizeof(prog), "cli/zcsign-cli"), 0);
	assert_int_equal(proc_unix_arg(signer, sizeof(signer), s->sock), 0);
	snprintf(pcr, sizeof(pcr), "0=%s", pcr0);
	if (control != NULL) {
		assert_int_equal(proc_unix_arg(ctl, sizeof(ctl), control), 0);
		argv[n++] = "--control";
		argv[n++] = ctl;
	}
	for (; *bundles != NULL; bundles++)
		argv[n++] = (char *)*bundles;
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/cli.out", g.dir);
	snprintf(errp, sizeof(errp), "%s/cli.err", g.dir);
	code = proc_run(argv, out, errp, PROC_START_MS);
	memset(err_out, 0, errlen);
	proc_read_file(errp, err_out, errlen);
	return code;
}

static void
bundle_path(char *out, size_t len, const char *keys, unsigned int shard)
{
	snprintf(out, len, "%s/shard-%u.bundle", keys, shard);
}

/* HELLO: the signer's key source and count. */
static void
hello_keys(const struct signer *s, uint8_t *source, uint32_t *count)
{
	union zcs_wire_frame r;
	int fd = proc_signer_hello(s->sock, 0, 2, &r);

	assert_true(fd >= 0);
	*source = r.hello_reply.key_source;
	*count = r.hello_reply.key_count;
	close(fd);
}

/* One SIGN on a connected fd: the reply. */
static void
sign_on(int fd, uint64_t seq, uint64_t account, const uint8_t hash[32],
	struct zcs_wire_sign_reply *out)
{
	struct zcs_wire_sign req;
	union zcs_wire_frame f;

	zcs_wire_sign(&req, seq, account, ZCS_ALGO_ECDSA, hash);
	assert_int_equal(zcs_wire_send_all(fd, &req, sizeof(req)), 0);
	assert_int_equal(zcs_wire_recv_frame(fd, &f, PROC_REPLY_MS), 0);
	assert_int_equal(f.hdr.type, ZCS_FT_SIGN_REPLY);
	assert_true(f.sign_reply.seq == seq);
	*out = f.sign_reply;
}

/* ATTEST on a signing connection: the document's user_data names the key state. */
static void
assert_attest_user_data(const struct signer *s, const char *want)
{
	static uint8_t doc[ZCS_WIRE_ATTEST_MAX];
	static struct zcs_attest_doc d;
	struct zcs_attest_chunks in = {.buf = doc, .cap = sizeof(doc)};
	struct zcs_wire_attest req;
	union zcs_wire_frame f;
	uint8_t nonce[32];
	char err[128];
	int fd = proc_signer_hello(s->sock, 0, 2, &f), whole = 0;

	assert_true(fd >= 0);
	secp_random(nonce, 32);
	zcs_wire_attest(&req, 2, nonce);
	assert_int_equal(zcs_wire_send_all(fd, &req, sizeof(req)), 0);
	while (whole == 0) {
		assert_int_equal(zcs_wire_recv_frame(fd, &f, PROC_REPLY_MS), 0);
		assert_int_equal(f.hdr.type, ZCS_FT_ATTEST_REPLY);
		whole = zcs_attest_chunks_add(&in, f.attest_reply.offset, f.attest_reply.total,
			f.attest_reply.data, f.attest_reply.chunk_len, err, sizeof(err));
		assert_true(whole >= 0);
	}
	close(fd);
	assert_int_equal(zcs_attest_parse(&d, err, sizeof(err), doc, in.total), 0);
	assert_null(d.public_key.p); /* a signing document carries no provisioning key */
	assert_int_equal(d.user_data.len, strlen(want));
	assert_memory_equal(d.user_data.p, want, strlen(want));
}

static void
sealed_until_provisioned(void **state)
{
	struct signer s;
	struct zcs_wire_sign_reply r;
	char b0[200], err[2048], bad_pcr[97];
	const char *bundles[] = {b0, NULL};
	uint8_t hash[32], source;
	uint32_t count, i, checked = 0;
	int fd;

	(void)state;
	signer_start(&s, "sealed");
	hello_keys(&s, &source, &count);
	assert_int_equal(source, ZCS_KEYS_SEALED);
	assert_int_equal(count, 0);
	assert_true(proc_file_contains(s.log, "shard 0/2, sealed, 0 keys"));
	assert_attest_user_data(&s, "zcsign shard 0/2 sealed");
	/* A sealed signer signs nothing. */
	fd = proc_signer_hello(s.sock, 0, 2, &(union zcs_wire_frame){0});
	assert_true(fd >= 0);
	secp_random(hash, 32);
	sign_on(fd, 1, g.m1.accounts[0].account, hash, &r);
	assert_int_equal(r.status, ZCS_ERR_SEALED);
	close(fd);

	/* A wrong PCR0: refused by the provisioner, nothing sent, the signer still sealed. */
	bundle_path(b0, sizeof(b0), g.keys1, 0);
	memcpy(bad_pcr, g.pcr0, sizeof(bad_pcr));
	bad_pcr[0] = bad_pcr[0] == '0' ? '1' : '0';
	assert_int_equal(cli_provision(&s, bad_pcr, NULL, bundles, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "attestation refused, nothing sent"));
	assert_non_null(strstr(err, "PCR0"));
	hello_keys(&s, &source, &count);
	assert_int_equal(source, ZCS_KEYS_SEALED);
	assert_int_equal(count, 0);
	assert_false(proc_file_contains(s.log, "bundle"));
	assert_false(proc_file_contains(s.log, "provisioned generation"));

	/* The right PCR0: provisioned; every account of shard 0 signs and verifies. */
	assert_int_equal(cli_provision(&s, g.pcr0, NULL, bundles, err, sizeof(err)), 0);
	hello_keys(&s, &source, &count);
	assert_int_equal(source, ZCS_KEYS_PROVISIONED);
	assert_attest_user_data(&s, "zcsign shard 0/2 provisioned");
	fd = proc_signer_hello(s.sock, 0, 2, &(union zcs_wire_frame){0});
	for (i = 0; i < g.m1.count; i++) {
		const struct zcs_manifest_account *a = &g.m1.accounts[i];

		if (a->shard != 0)
			continue;
		secp_random(hash, 32);
		sign_on(fd, 10 + i, a->account, hash, &r);
		assert_int_equal(r.status, ZCS_OK);
		assert_int_equal(
			zcs_verify(g.ctx, ZCS_ALGO_ECDSA, hash, r.sig, 0, a), ZCS_VERIFY_OK);
		checked++;
	}
	assert_int_equal(checked, count);
	close(fd);
	assert_true(proc_file_contains(s.log, "provisioned generation 1"));
	signer_stop(&s);
}

/* A control connection: PROVISION with nonce; the document's public key. */
static int
ctl_session(const struct signer *s, const uint8_t nonce[32], uint8_t pub[32], uint8_t *doc_out,
	size_t *doc_len)
{
	static uint8_t doc[ZCS_WIRE_ATTEST_MAX];
	static struct zcs_attest_doc d;
	struct zcs_attest_chunks in = {.buf = doc, .cap = sizeof(doc)};
	struct zcs_wire_provision req;
	union zcs_wire_frame f;
	char err[128];
	int fd = proc_connect_unix(s->ctl, PROC_REPLY_MS), whole = 0;

	assert_true(fd >= 0);
	zcs_wire_provision(&req, 5, nonce);
	assert_int_equal(zcs_wire_send_all(fd, &req, sizeof(req)), 0);
	while (whole == 0) {
		assert_int_equal(zcs_wire_recv_frame(fd, &f, PROC_REPLY_MS), 0);
		assert_int_equal(f.hdr.type, ZCS_FT_ATTEST_REPLY);
		assert_int_equal(f.attest_reply.status, ZCS_OK);
		whole = zcs_attest_chunks_add(&in, f.attest_reply.offset, f.attest_reply.total,
			f.attest_reply.data, f.attest_reply.chunk_len, err, sizeof(err));
		assert_true(whole >= 0);
	}
	assert_int_equal(zcs_attest_parse(&d, err, sizeof(err), doc, in.total), 0);
	assert_int_equal(d.public_key.len, 32);
	assert_int_equal(d.nonce.len, 32);
	assert_memory_equal(d.nonce.p, nonce, 32);
	assert_int_equal(d.user_data.len, strlen("zcsign shard 0/2 provision"));
	assert_memory_equal(d.user_data.p, "zcsign shard 0/2 provision", d.user_data.len);
	memcpy(pub, d.public_key.p, 32);
	if (doc_out != NULL) {
		memcpy(doc_out, doc, in.total);
		*doc_len = in.total;
	}
	return fd;
}

/* Send a whole bundle in BUNDLE chunks (seq 5); the reply. */
static void
ctl_bundle(int fd, const uint8_t *b, size_t len, struct zcs_wire_bundle_reply *out)
{
	struct zcs_wire_bundle f;
	union zcs_wire_frame r;
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < ZCS_WIRE_BUNDLE_CHUNK ? len - off : ZCS_WIRE_BUNDLE_CHUNK;
		zcs_wire_bundle(&f, 5, (uint32_t)len, (uint32_t)off, b + off, (uint16_t)n);
		assert_int_equal(zcs_wire_send_all(fd, &f, sizeof(f)), 0);
	}
	assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
	assert_int_equal(r.hdr.type, ZCS_FT_BUNDLE_REPLY);
	*out = r.bundle_reply;
}

/* The at-rest bundle of shard sh in keys, opened: records (secure memory) and header. */
static uint8_t *
open_at_rest(const char *keys, unsigned int sh, struct zcs_bundle_hdr *h)
{
	char path[200], err[256];
	uint8_t *buf, *rec;
	size_t len;

	bundle_path(path, sizeof(path), keys, sh);
	assert_int_equal(zcs_bundle_read(&buf, &len, h, err, sizeof(err), path), 0);
	rec = zcs_secure_alloc((size_t)h->key_count * ZCS_BUNDLE_REC_LEN + 1);
	assert_int_equal(zcs_bundle_open(rec, err, sizeof(err), h, buf, len, g.op), 0);
	free(buf);
	return rec;
}

/* Records sealed in transit to pub for nonce. */
static uint8_t *
transit(size_t *len, const uint8_t *rec, const struct zcs_bundle_hdr *at_rest, uint64_t gen,
	const uint8_t pub[32], const uint8_t nonce[32])
{
	struct zcs_bundle_hdr h = *at_rest;
	uint8_t *out;
	char err[200];

	h.purpose = ZCS_BUNDLE_TRANSIT;
	h.generation = gen;
	memcpy(h.nonce, nonce, 32);
	assert_int_equal(zcs_bundle_seal(&out, len, err, sizeof(err), &h, pub, rec), 0);
	return out;
}

/*
 * One session that must refuse: the given bundle (replayed), or rec sealed for
 * this session with generation gen; want -1 also flips a ciphertext byte and
 * expects `bundle`. The reply still names generation 5's store.
 */
static void
refused_in_session(const struct signer *s, const uint8_t *rec, const struct zcs_bundle_hdr *h,
	const uint8_t *replay, size_t replay_len, uint64_t gen, int want)
{
	struct zcs_wire_bundle_reply r;
	uint8_t nonce[32], pub[32], *b = NULL;
	size_t len = replay_len;
	int fd;

	secp_random(nonce, 32);
	fd = ctl_session(s, nonce, pub, NULL, NULL);
	if (replay == NULL) {
		b = transit(&len, rec, h, gen, pub, nonce);
		if (want < 0)
			b[ZCS_BUNDLE_HDR_LEN + 3] ^= 0x40;
	}
	ctl_bundle(fd, replay != NULL ? replay : b, len, &r);
	assert_int_equal(r.status, want < 0 ? ZCS_ERR_BUNDLE : want);
	assert_int_equal(r.key_count, h->key_count);
	assert_true(r.generation == 5);
	free(b);
	close(fd);
}

/* The signer's own checks, over the raw control protocol; each refusal changes nothing. */
static void
signer_refuses_foreign_bundles(void **state)
{
	struct signer s;
	struct zcs_bundle_hdr h0, h1;
	struct zcs_wire_bundle_reply r;
	struct zcs_wire_bundle f;
	uint8_t nonce[32], pub[32], *rec0, *rec1, *ok_bundle, *b;
	size_t ok_len, len;
	union zcs_wire_frame fr;
	uint8_t source;
	uint32_t count;
	int fd;

	(void)state;
	signer_start(&s, "refuse");
	rec0 = open_at_rest(g.keys1, 0, &h0);
	rec1 = open_at_rest(g.keys1, 1, &h1);

	/* A bundle for another shard. */
	secp_random(nonce, 32);
	fd = ctl_session(&s, nonce, pub, NULL, NULL);
	b = transit(&len, rec1, &h1, 1, pub, nonce);
	ctl_bundle(fd, b, len, &r);
	assert_int_equal(r.status, ZCS_ERR_WRONG_SHARD);
	assert_int_equal(r.key_count, 0);
	free(b);
	close(fd);
	assert_true(proc_file_contains(s.log, "bundle for shard 1/2, this signer holds shard 0/2"));

	/* A good one: accepted. */
	secp_random(nonce, 32);
	fd = ctl_session(&s, nonce, pub, NULL, NULL);
	ok_bundle = transit(&ok_len, rec0, &h0, 5, pub, nonce);
	ctl_bundle(fd, ok_bundle, ok_len, &r);
	assert_int_equal(r.status, ZCS_OK);
	assert_int_equal(r.key_count, h0.key_count);
	assert_int_equal(r.added, h0.key_count);
	assert_true(r.generation == 5);
	/* The session is spent: the same bundle again on it has no session. */
	ctl_bundle(fd, ok_bundle, ok_len, &r);
	assert_int_equal(r.status, ZCS_ERR_UNEXPECTED);
	close(fd);

	/* Replayed into a new session: made for another key and nonce. */
	refused_in_session(&s, NULL, &h0, ok_bundle, ok_len, 0, ZCS_ERR_BUNDLE);
	assert_true(proc_file_contains(s.log, "another provisioning session"));
	/* Not newer than what the signer holds. */
	refused_in_session(&s, rec0, &h0, NULL, 0, 5, ZCS_ERR_STALE);
	/* Altered in transit (one ciphertext byte). */
	refused_in_session(&s, rec0, &h0, NULL, 0, 6, -1);
	assert_true(proc_file_contains(s.log, "not authentic"));

	/* A bundle with no PROVISION first. */
	fd = proc_connect_unix(s.ctl, PROC_REPLY_MS);
	assert_true(fd >= 0);
	zcs_wire_bundle(&f, 5, 200, 0, ok_bundle, 64);
	assert_int_equal(zcs_wire_send_all(fd, &f, sizeof(f)), 0);
	assert_int_equal(zcs_wire_recv_frame(fd, &fr, PROC_REPLY_MS), 0);
	assert_int_equal(fr.hdr.type, ZCS_FT_BUNDLE_REPLY);
	assert_int_equal(fr.bundle_reply.status, ZCS_ERR_UNEXPECTED);
	close(fd);

	/* After all of it: generation 5's keys, nothing else. */
	hello_keys(&s, &source, &count);
	assert_int_equal(source, ZCS_KEYS_PROVISIONED);
	assert_int_equal(count, h0.key_count);
	free(ok_bundle);
	zcs_secure_free(rec0, (size_t)h0.key_count * ZCS_BUNDLE_REC_LEN + 1);
	zcs_secure_free(rec1, (size_t)h1.key_count * ZCS_BUNDLE_REC_LEN + 1);
	signer_stop(&s);
}

/* A fake control endpoint that answers PROVISION with a recorded document. */
struct replayer {
	int lfd;
	uint8_t doc[ZCS_WIRE_ATTEST_MAX];
	size_t len;
	atomic_int bundles_seen;
};

static void *
replay_run(void *arg)
{
	struct replayer *rp = arg;
	static struct zcs_wire_attest_reply out[ZCS_WIRE_ATTEST_FRAMES(ZCS_WIRE_ATTEST_MAX)];
	union zcs_wire_frame f;
	int fd = accept(rp->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	while (zcs_wire_recv_frame(fd, &f, 5000) == 0) {
		if (f.hdr.type == ZCS_FT_BUNDLE) {
			atomic_fetch_add(&rp->bundles_seen, 1);
			continue;
		}
		zcs_wire_send_all(
			fd, out, zcs_wire_attest_doc(out, f.provision.seq, rp->doc, rp->len));
	}
	close(fd);
	return NULL;
}

/* A genuine document of the right signer, replayed: its nonce is not the provisioner's. */
static void
provisioner_refuses_replayed_document(void **state)
{
	static struct replayer rp;
	struct signer s;
	struct zcs_addr a;
	pthread_t t;
	char fake[200], b0[200], err[2048], why[128];
	const char *bundles[] = {b0, NULL};
	uint8_t nonce[32], pub[32];
	uint8_t source;
	uint32_t count;
	int fd;

	(void)state;
	signer_start(&s, "replay");
	secp_random(nonce, 32);
	fd = ctl_session(&s, nonce, pub, rp.doc, &rp.len);
	close(fd);
	snprintf(fake, sizeof(fake), "%s/fake.ctl", g.dir);
	{
		char text[210];

		snprintf(text, sizeof(text), "unix:%s", fake);
		assert_int_equal(zcs_addr_parse(text, true, &a, why, sizeof(why)), 0);
	}
	rp.lfd = zcs_addr_listen(&a, why, sizeof(why));
	assert_true(rp.lfd >= 0);
	{
		int fl = 0;

		/* The listener is non-blocking; accept in the thread blocks. */
		assert_int_equal(fcntl(rp.lfd, F_SETFL, fl), 0);
	}
	atomic_init(&rp.bundles_seen, 0);
	assert_int_equal(pthread_create(&t, NULL, replay_run, &rp), 0);
	bundle_path(b0, sizeof(b0), g.keys1, 0);
	assert_int_equal(cli_provision(&s, g.pcr0, fake, bundles, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "attestation refused, nothing sent"));
	assert_non_null(strstr(err, "nonce"));
	pthread_join(t, NULL);
	close(rp.lfd);
	unlink(fake);
	assert_int_equal(atomic_load(&rp.bundles_seen), 0);
	hello_keys(&s, &source, &count);
	assert_int_equal(source, ZCS_KEYS_SEALED);
	signer_stop(&s);
}

/* A connection that signs account acct in a loop until told to stop. */
struct signing_loop {
	const struct signer *s;
	uint64_t acct;
	atomic_int stop;
	uint64_t ok, failed, old_key, new_key, neither;
	const struct zcs_manifest_account *was, *now;
};

static void *
signing_run(void *arg)
{
	struct signing_loop *L = arg;
	struct zcs_wire_sign_reply r;
	uint8_t hash[32];
	uint64_t seq = 1;
	int fd = proc_signer_hello(L->s->sock, 0, 2, &(union zcs_wire_frame){0});

	if (fd < 0) {
		L->failed++;
		return NULL;
	}
	while (!atomic_load(&L->stop)) {
		secp_random(hash, 32);
		sign_on(fd, seq++, L->acct, hash, &r);
		if (r.status != ZCS_OK) {
			L->failed++;
			continue;
		}
		L->ok++;
		if (zcs_verify(g.ctx, ZCS_ALGO_ECDSA, hash, r.sig, 0, L->was) == 0)
			L->old_key++;
		else if (zcs_verify(g.ctx, ZCS_ALGO_ECDSA, hash, r.sig, 0, L->now) == 0)
			L->new_key++;
		else
			L->neither++;
	}
	close(fd);
	return NULL;
}

/*
 * After a rotation the signer's memory holds no old secret of a rotated
 * account, and still holds the secrets it kept (the scan's control). Read
 * through /proc/PID/mem: root only, skipped (said so) otherwise.
 */
static void
rotated_keys_wiped(const struct signer *s)
{
	struct zcs_bundle_hdr h;
	uint8_t *rec = open_at_rest(g.keys1, 0, &h), *old, *kept;
	size_t nold = 0, nkept = 0, i;
	uint64_t scanned;
	long found;

	old = calloc(h.key_count, 32);
	kept = calloc(h.key_count, 32);
	assert_true(old != NULL && kept != NULL);
	for (i = 0; i < h.key_count; i++) {
		const uint8_t *r = rec + i * ZCS_BUNDLE_REC_LEN;

		if (zcs_manifest_find(&g.m2, zcs_bundle_rec_account(r)) != NULL)
			memcpy(old + 32 * nold++, r + 8, 32);
		else
			memcpy(kept + 32 * nkept++, r + 8, 32);
	}
	assert_true(nold > 0 && nkept > 0);
	found = proc_mem_scan(s->pid, kept, nkept, &scanned);
	if (found < 0) {
		fprintf(stderr, "test_provision: the wipe check is skipped: %s\n",
			proc_mem_scan_skip_reason(found));
	} else {
		assert_true(found >= (long)nkept);
		assert_int_equal(proc_mem_scan(s->pid, old, nold, &scanned), 0);
	}
	explicit_bzero(old, h.key_count * 32);
	explicit_bzero(kept, h.key_count * 32);
	free(old);
	free(kept);
	zcs_secure_free(rec, (size_t)h.key_count * ZCS_BUNDLE_REC_LEN + 1);
}

/* Provisioning again while a connection signs: accounts rotate and appear, nothing fails. */
static void
hot_reload_while_signing(void **state)
{
	static struct signing_loop L;
	struct signer s;
	pthread_t t;
	char b1[200], b2[200], err[2048];
	const char *first[] = {b1, NULL}, *both[] = {b1, b2, NULL};
	uint8_t source, hash[32];
	uint32_t count1, count2, i, fresh = 0;
	struct zcs_wire_sign_reply r;
	uint64_t before;
	int fd;

	(void)state;
	signer_start(&s, "reload");
	bundle_path(b1, sizeof(b1), g.keys1, 0);
	bundle_path(b2, sizeof(b2), g.keys2, 0);
	assert_int_equal(cli_provision(&s, g.pcr0, NULL, first, err, sizeof(err)), 0);
	hello_keys(&s, &source, &count1);
	/* An account of shard 0 in both generations: its key rotates. */
	memset(&L, 0, sizeof(L));
	L.s = &s;
	for (i = 0; i < g.m2.count && L.was == NULL; i++)
		if (g.m2.accounts[i].shard == 0 &&
			zcs_manifest_find(&g.m1, g.m2.accounts[i].account))
			L.now = &g.m2.accounts[i],
			L.was = zcs_manifest_find(&g.m1, g.m2.accounts[i].account);
	assert_non_null(L.was);
	L.acct = L.was->account;
	atomic_init(&L.stop, 0);
	assert_int_equal(pthread_create(&t, NULL, signing_run, &L), 0);
	while (L.ok < 50 && L.failed == 0)
		proc_sleep_ms(1);
	before = L.ok;
	assert_int_equal(cli_provision(&s, g.pcr0, NULL, both, err, sizeof(err)), 0);
	while (L.ok < before + 200 && L.failed == 0)
		proc_sleep_ms(1);
	atomic_store(&L.stop, 1);
	pthread_join(t, NULL);
	/* Not one request failed; the old key signed before, the new one after, nothing else. */
	assert_int_equal(L.failed, 0);
	assert_int_equal(L.neither, 0);
	assert_true(L.old_key >= 50);
	assert_true(L.new_key > 0);
	hello_keys(&s, &source, &count2);
	assert_true(count2 > count1);
	assert_true(proc_file_contains(s.log, "rotated"));
	/* Every account of generation 2 on shard 0 (rotated or new) signs with its new key. */
	fd = proc_signer_hello(s.sock, 0, 2, &(union zcs_wire_frame){0});
	for (i = 0; i < g.m2.count; i++) {
		if (g.m2.accounts[i].shard != 0)
			continue;
		secp_random(hash, 32);
		sign_on(fd, 100 + i, g.m2.accounts[i].account, hash, &r);
		assert_int_equal(r.status, ZCS_OK);
		assert_int_equal(
			zcs_verify(g.ctx, ZCS_ALGO_ECDSA, hash, r.sig, 0, &g.m2.accounts[i]), 0);
		fresh += zcs_manifest_find(&g.m1, g.m2.accounts[i].account) == NULL;
	}
	assert_true(fresh > 0);
	close(fd);
	rotated_keys_wiped(&s);
	signer_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sealed_until_provisioned),
		cmocka_unit_test(signer_refuses_foreign_bundles),
		cmocka_unit_test(provisioner_refuses_replayed_document),
		cmocka_unit_test(hot_reload_while_signing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
