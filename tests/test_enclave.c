/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-enclave as a real process: keys from zcsign-keygen, a unix socket in
 * a private temp dir, the wire protocol spoken by hand. Every signature it
 * returns is verified with libsecp256k1 against keygen's manifest.
 *
 * One signer serves the whole group (started in setup, SIGTERMed in teardown,
 * where a non-zero exit, e.g. a sanitizer report, fails the run). Tests that
 * need their own signer (shutdown, privileges) start and reap it themselves.
 * Between two clients a test waits until the signer has dropped the first
 * (proc_wait_unix_idle): the signer serves one connection at a time.
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zcsign/shard.h>

#include "secp_util.h"
#include "signer_fixture.h"

#define N_ACCOUNTS 100
#define BULK_N 10000
#define BATCH 64
#define WINDOW (4 * BATCH) /* replies in flight: 24 KiB, far below a socket buffer */

struct env {
	struct signer_fixture fx; /* the group's signer; the manifest checks every shard and key */
	pid_t aux; /* a test's own process, reaped by the teardowns if the test fails */
	char aux_dir[64]; /* a test's own directory, likewise */
};

static struct env the_env = {.fx.pid = -1, .aux = -1};

/* No sanitizer report in a program's log. */
static void
assert_clean_log(const char *path)
{
	static char text[65536];

	assert_true(proc_read_file(path, text, sizeof(text)) >= 0);
	assert_false(proc_sanitizer_report(text));
}

static int
group_setup(void **state)
{
	*state = &the_env;
	return signer_fixture_start(&the_env.fx, "enclave", N_ACCOUNTS);
}

static int
group_teardown(void **state)
{
	struct env *e = *state;

	if (e->aux > 0)
		proc_stop(e->aux, SIGKILL, PROC_STOP_MS, NULL);
	proc_rmtree(e->aux_dir);
	return signer_fixture_stop(&e->fx);
}

/*
 * After each test, also a failed one: close every socket the test left open (a
 * leftover client would make the signer BUSY for all later tests) and reap its
 * own processes and files.
 */
static int
test_teardown(void **state)
{
	struct env *e = *state;
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");

	if (dir != NULL) {
		while ((d = readdir(dir)) != NULL) {
			int fd = atoi(d->d_name);
			struct stat st;

			if (fd > 2 && fd != dirfd(dir) && fstat(fd, &st) == 0 &&
				S_ISSOCK(st.st_mode))
				close(fd);
		}
		closedir(dir);
	}
	if (e->aux > 0)
		proc_stop(e->aux, SIGKILL, PROC_STOP_MS, NULL);
	e->aux = -1;
	proc_rmtree(e->aux_dir);
	e->aux_dir[0] = '\0';
	return 0;
}

/* A connection to the group signer without HELLO, once the signer is idle. */
static int
raw_client(struct env *e)
{
	int fd;

	assert_int_equal(proc_wait_unix_idle(e->fx.sock, PROC_REPLY_MS), 0);
	fd = proc_connect_unix(e->fx.sock, PROC_REPLY_MS);
	assert_true(fd >= 0);
	return fd;
}

/* A handshaken client of the group signer (shard 0 of 1: a real shard check). */
static int
client(struct env *e)
{
	union zcs_wire_frame r;
	int fd;

	assert_int_equal(proc_wait_unix_idle(e->fx.sock, PROC_REPLY_MS), 0);
	fd = proc_signer_hello(e->fx.sock, 0, 1, &r);
	assert_true(fd >= 0);
	assert_int_equal(r.hello_reply.shard_id, 0);
	assert_int_equal(r.hello_reply.shard_count, 1);
	assert_int_equal(r.hello_reply.key_count, N_ACCOUNTS);
	return fd;
}

/* Sign one hash with every algorithm on fd and verify each signature. */
static void
sign_all_algos(struct env *e, int fd, const struct zcs_manifest_account *acct, uint64_t seq0)
{
	struct zcs_wire_sign req;
	union zcs_wire_frame r;
	uint8_t hash[32];
	unsigned int algo;

	for (algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		memset(hash, (int)(0x40 + algo), sizeof(hash));
		zcs_wire_sign(&req, seq0 + algo, acct->account, (uint8_t)algo, hash);
		assert_int_equal(zcs_wire_send_all(fd, &req, sizeof(req)), 0);
		assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
		assert_int_equal(r.hdr.type, ZCS_FT_SIGN_REPLY);
		assert_int_equal(r.sign_reply.seq, seq0 + algo);
		assert_int_equal(r.sign_reply.status, ZCS_OK);
		assert_int_equal(zcs_verify(e->fx.ctx, algo, hash, r.sign_reply.sig,
					 r.sign_reply.recid, acct),
			ZCS_VERIFY_OK);
	}
}

/* The signer still runs, and a fresh client can sign with it. */
static void
assert_signer_serves(struct env *e)
{
	int fd;

	assert_true(proc_alive(e->fx.pid));
	fd = client(e);
	sign_all_algos(e, fd, &e->fx.m.accounts[0], 1000);
	close(fd);
}

/* The signer answers ERROR with status want, then closes the connection. */
static void
assert_error_close(int fd, int want)
{
	union zcs_wire_frame r;

	assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
	assert_int_equal(r.hdr.type, ZCS_FT_ERROR);
	if (r.error.status != want)
		fail_msg("ERROR status %s, expected %s", zcs_status_name(r.error.status),
			zcs_status_name(want));
	assert_true(proc_peer_closed(fd, PROC_REPLY_MS));
}

static uint64_t
mix(uint64_t *s)
{
	return zcs_mix64(*s += UINT64_C(0x9e3779b97f4a7c15));
}

/* Request i of the bulk run: accounts and algorithms interleaved, edge-case hashes. */
static void
bulk_request(const struct env *e, unsigned int i, struct zcs_wire_sign *f, uint8_t hash[32])
{
	uint64_t s = i;
	unsigned int k;

	/* The edge cases (0, n, around n) every 500 requests, so each algorithm gets them. */
	if (i % 500 < SECP_EDGE_HASHES) {
		secp_edge_hash(i % 500, hash);
	} else {
		for (k = 0; k < 4; k++) {
			uint64_t v = mix(&s);

			memcpy(hash + 8 * k, &v, 8);
		}
	}
	/* 100 accounts x 3 algorithms: gcd 1, so every pair occurs. */
	zcs_wire_sign(f, (uint64_t)i + 1, e->fx.m.accounts[i % N_ACCOUNTS].account,
		(uint8_t)(ZCS_ALGO_ECDSA + i % 3), hash);
}

static void
bulk_sign_verify(void **state)
{
	static struct zcs_wire_sign batch[BATCH];
	static uint8_t hashes[BULK_N][32];
	static uint8_t seen[BULK_N];
	struct env *e = *state;
	unsigned int sent = 0, got = 0, ok = 0, algos[4] = {0}, i;
	int fd = client(e);

	memset(seen, 0, sizeof(seen));
	while (got < BULK_N) {
		union zcs_wire_frame r;
		unsigned int n, idx;

		if (sent < BULK_N && sent - got + BATCH <= WINDOW) {
			/* One write per batch: the pipelining the engine does. */
			n = BULK_N - sent < BATCH ? BULK_N - sent : BATCH;
			for (i = 0; i < n; i++)
				bulk_request(e, sent + i, &batch[i], hashes[sent + i]);
			assert_int_equal(zcs_wire_send_all(fd, batch, n * sizeof(batch[0])), 0);
			sent += n;
			continue;
		}
		assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
		assert_int_equal(r.hdr.type, ZCS_FT_SIGN_REPLY);
		assert_in_range(r.sign_reply.seq, 1, sent);
		idx = (unsigned int)r.sign_reply.seq - 1;
		assert_int_equal(seen[idx], 0);
		seen[idx] = 1;
		got++;
		if (r.sign_reply.status != ZCS_OK)
			fail_msg(
				"request %u: status %s", idx, zcs_status_name(r.sign_reply.status));
		if (zcs_verify(e->fx.ctx, ZCS_ALGO_ECDSA + idx % 3, hashes[idx], r.sign_reply.sig,
			    r.sign_reply.recid,
			    &e->fx.m.accounts[idx % N_ACCOUNTS]) != ZCS_VERIFY_OK)
			fail_msg("request %u (algo %u): signature does not verify (%d)", idx,
				ZCS_ALGO_ECDSA + idx % 3,
				zcs_verify(e->fx.ctx, ZCS_ALGO_ECDSA + idx % 3, hashes[idx],
					r.sign_reply.sig, r.sign_reply.recid,
					&e->fx.m.accounts[idx % N_ACCOUNTS]));
		ok++;
		algos[ZCS_ALGO_ECDSA + idx % 3]++;
	}
	assert_int_equal(ok, BULK_N);
	assert_int_equal(
		algos[ZCS_ALGO_ECDSA] + algos[ZCS_ALGO_ECDSA_RECOVERABLE] + algos[ZCS_ALGO_SCHNORR],
		BULK_N);
	assert_true(algos[ZCS_ALGO_SCHNORR] > 3000);
	/* Nothing more was sent than asked for. */
	{
		struct pollfd p = {.fd = fd, .events = POLLIN};

		assert_int_equal(poll(&p, 1, 50), 0);
	}
	close(fd);
}

/* A raw SIGN frame to corrupt. */
static void
raw_sign(struct zcs_wire_sign *f, const struct env *e)
{
	uint8_t hash[32];

	memset(hash, 0x11, sizeof(hash));
	zcs_wire_sign(f, 7, e->fx.m.accounts[0].account, ZCS_ALGO_ECDSA, hash);
}

/* Send bytes on a fresh connection (after HELLO when hello) and expect ERROR want + close. */
static void
garbage_case(struct env *e, bool hello, const void *bytes, size_t len, int want)
{
	int fd;

	if (hello) {
		fd = client(e);
	} else {
		fd = raw_client(e);
	}
	/* The signer may close after the first bad header: the rest may not be taken. */
	(void)zcs_wire_send_all(fd, bytes, len);
	assert_error_close(fd, want);
	close(fd);
	assert_signer_serves(e);
}

static void
garbage_fatal_headers(void **state)
{
	struct env *e = *state;
	struct zcs_wire_sign f;
	struct zcs_wire_hello h;
	uint8_t big[96];

	raw_sign(&f, e);
	f.hdr.magic ^= 0x01000000;
	garbage_case(e, true, &f, sizeof(f), ZCS_ERR_BAD_MAGIC);
	garbage_case(e, false, &f, sizeof(f), ZCS_ERR_BAD_MAGIC);

	raw_sign(&f, e);
	f.hdr.version = ZCS_WIRE_VERSION + 1;
	garbage_case(e, true, &f, sizeof(f), ZCS_ERR_BAD_VERSION);

	raw_sign(&f, e);
	f.hdr.type = 0x7f;
	garbage_case(e, true, &f, sizeof(f), ZCS_ERR_BAD_TYPE);

	/* A sound SIGN header claiming 72 bytes, and the 72 bytes. */
	memset(big, 0, sizeof(big));
	raw_sign(&f, e);
	f.hdr.length = htole16(72);
	memcpy(big, &f, sizeof(f));
	garbage_case(e, true, big, 72, ZCS_ERR_BAD_LENGTH);

	/* A HELLO that says it is shorter than a HELLO, as the first frame. */
	zcs_wire_hello(&h, 0, 1);
	h.hdr.length = htole16(8);
	garbage_case(e, false, &h, sizeof(h), ZCS_ERR_BAD_LENGTH);
}

static void
garbage_random_bytes(void **state)
{
	static uint8_t junk[4096];
	struct env *e = *state;
	uint64_t s = 42;
	size_t i;

	for (i = 0; i < sizeof(junk); i += 8) {
		uint64_t v = mix(&s);

		memcpy(junk + i, &v, 8);
	}
	/* Whatever follows, a header that is not ours comes first. */
	junk[0] = 0;
	garbage_case(e, true, junk, sizeof(junk), ZCS_ERR_BAD_MAGIC);
	garbage_case(e, false, junk, sizeof(junk), ZCS_ERR_BAD_MAGIC);
}

/* Half a frame, then the client goes away: nothing to answer, nothing must break. */
static void
garbage_truncated(void **state)
{
	struct env *e = *state;
	struct zcs_wire_hello h;
	struct zcs_wire_sign f;
	int fd;

	fd = client(e);
	raw_sign(&f, e);
	assert_int_equal(zcs_wire_send_all(fd, &f, 30), 0);
	close(fd);
	assert_signer_serves(e);

	fd = raw_client(e);
	zcs_wire_hello(&h, 0, 1);
	assert_int_equal(zcs_wire_send_all(fd, &h, 5), 0);
	close(fd);
	assert_signer_serves(e);

	/* Connect and leave without a byte. */
	fd = raw_client(e);
	close(fd);
	assert_signer_serves(e);
}

/* Frames that are well-formed but wrong for the state: ERROR UNEXPECTED and close. */
static void
garbage_wrong_state(void **state)
{
	struct env *e = *state;
	struct zcs_wire_sign_reply sr;
	struct zcs_wire_hello h;
	struct zcs_wire_sign f;

	raw_sign(&f, e);
	garbage_case(e, false, &f, sizeof(f), ZCS_ERR_UNEXPECTED);
	zcs_wire_hello(&h, 0, 1);
	garbage_case(e, true, &h, sizeof(h), ZCS_ERR_UNEXPECTED);
	zcs_wire_sign_reply(&sr, 1, ZCS_OK, 0, 0, NULL);
	garbage_case(e, true, &sr, sizeof(sr), ZCS_ERR_UNEXPECTED);
	/* A HELLO with a bad body fails the handshake. */
	zcs_wire_hello(&h, 0, 1);
	h.reserved = htole32(1);
	garbage_case(e, false, &h, sizeof(h), ZCS_ERR_BAD_RESERVED);
}

/* Bad bodies are answered per request with their seq; the connection goes on. */
static void
bad_requests_answered(void **state)
{
	struct env *e = *state;
	struct zcs_wire_pubkey pk;
	struct zcs_wire_sign f;
	union zcs_wire_frame r;
	uint64_t unknown = signer_fixture_unknown_account(&e->fx);
	int fd = client(e);
	int i;

	raw_sign(&f, e);
	f.seq = htole64(101);
	f.algo = 9;
	assert_int_equal(zcs_wire_send_all(fd, &f, sizeof(f)), 0);
	raw_sign(&f, e);
	f.seq = htole64(102);
	f.reserved[3] = 1;
	assert_int_equal(zcs_wire_send_all(fd, &f, sizeof(f)), 0);
	raw_sign(&f, e);
	f.seq = htole64(103);
	f.account = htole64(unknown);
	assert_int_equal(zcs_wire_send_all(fd, &f, sizeof(f)), 0);
	zcs_wire_pubkey(&pk, 104, unknown);
	assert_int_equal(zcs_wire_send_all(fd, &pk, sizeof(pk)), 0);

	assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
	assert_int_equal(r.hdr.type, ZCS_FT_SIGN_REPLY);
	assert_int_equal(r.sign_reply.seq, 101);
	assert_int_equal(r.sign_reply.status, ZCS_ERR_BAD_ALGO);
	assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
	assert_int_equal(r.sign_reply.seq, 102);
	assert_int_equal(r.sign_reply.status, ZCS_ERR_BAD_RESERVED);
	assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
	assert_int_equal(r.sign_reply.seq, 103);
	assert_int_equal(r.sign_reply.status, ZCS_ERR_UNKNOWN_ACCOUNT);
	assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
	assert_int_equal(r.hdr.type, ZCS_FT_PUBKEY_REPLY);
	assert_int_equal(r.pubkey_reply.seq, 104);
	assert_int_equal(r.pubkey_reply.status, ZCS_ERR_UNKNOWN_ACCOUNT);

	/* Same connection, still good: signatures and public keys. */
	sign_all_algos(e, fd, &e->fx.m.accounts[1], 200);
	for (i = 0; i < N_ACCOUNTS; i += 17) {
		zcs_wire_pubkey(&pk, 300 + (uint64_t)i, e->fx.m.accounts[i].account);
		assert_int_equal(zcs_wire_send_all(fd, &pk, sizeof(pk)), 0);
		assert_int_equal(zcs_wire_recv_frame(fd, &r, PROC_REPLY_MS), 0);
		assert_int_equal(r.hdr.type, ZCS_FT_PUBKEY_REPLY);
		assert_int_equal(r.pubkey_reply.seq, 300 + (uint64_t)i);
		assert_int_equal(r.pubkey_reply.status, ZCS_OK);
		assert_memory_equal(r.pubkey_reply.compressed, e->fx.m.accounts[i].pubkey, 33);
		assert_memory_equal(r.pubkey_reply.xonly, e->fx.m.accounts[i].xonly, 32);
	}
	close(fd);
}

static void
second_client_busy(void **state)
{
	struct env *e = *state;
	struct zcs_wire_hello h;
	int first = client(e);
	int second;

	second = proc_connect_unix(e->fx.sock, PROC_REPLY_MS);
	assert_true(second >= 0);
	zcs_wire_hello(&h, 0, 1);
	(void)zcs_wire_send_all(second, &h, sizeof(h));
	assert_error_close(second, ZCS_ERR_BUSY);
	close(second);

	/* The first connection never noticed. */
	sign_all_algos(e, first, &e->fx.m.accounts[2], 400);
	close(first);
	/* And the slot is free again once it is gone. */
	assert_signer_serves(e);
}

static void
wrong_shard_refused(void **state)
{
	static const uint16_t hellos[][2] = {{0, 2}, {1, 2}, {5, 8}};
	struct env *e = *state;
	size_t i;

	for (i = 0; i < sizeof(hellos) / sizeof(hellos[0]); i++) {
		struct zcs_wire_hello h;

		zcs_wire_hello(&h, hellos[i][0], hellos[i][1]);
		garbage_case(e, false, &h, sizeof(h), ZCS_ERR_WRONG_SHARD);
	}
}

/* A signer of its own: SIGTERM with a client attached exits 0 and removes the socket. */
static void
sigterm_clean_exit(void **state)
{
	struct env *e = *state;
	char sock[PATH_MAX], log[PATH_MAX];
	union zcs_wire_frame r;
	pid_t pid;
	int fd, st = 0;

	assert_int_equal(proc_path(sock, sizeof(sock), e->fx.dir, "term.sock"), 0);
	assert_int_equal(proc_path(log, sizeof(log), e->fx.dir, "term.log"), 0);
	pid = proc_signer_start(e->fx.keys, sock, log);
	assert_true(pid > 0);
	e->aux = pid;
	fd = proc_signer_hello(sock, 0, 1, &r);
	assert_true(fd >= 0);
	e->aux = -1;
	assert_int_equal(proc_stop(pid, SIGTERM, PROC_STOP_MS, &st), 0);
	if (!proc_exited_ok(st)) {
		proc_dump_log("signer", log);
		fail_msg("signer exit status 0x%x on SIGTERM", st);
	}
	assert_true(proc_peer_closed(fd, PROC_REPLY_MS));
	close(fd);
	assert_int_equal(access(sock, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_clean_log(log);
}

/*
 * Run the signer with the arguments after want (NULL-terminated); it must
 * refuse: exit != 0, its log naming want.
 */
static void
refused_start(struct env *e, const char *want, ...)
{
	char prog[PATH_MAX], log[PATH_MAX];
	char *argv[16];
	va_list ap;
	int n, code;

	assert_int_equal(proc_path(log, sizeof(log), e->fx.dir, "refused.log"), 0);
	va_start(ap, want);
	n = proc_build_argv(argv, 16, prog, sizeof(prog), "enclave/zcsign-enclave", ap);
	va_end(ap);
	assert_true(n > 0);
	code = proc_run(argv, log, log, PROC_START_MS);
	if (code <= 0 || !proc_file_contains(log, want)) {
		proc_dump_log("signer", log);
		fail_msg("expected a refusal naming '%s', exit code %d", want, code);
	}
	assert_clean_log(log);
}

/* Copy src (of any size: a program too) to a new file dst with mode; -1 on any failure. */
static int
copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[1 << 16];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ssize_t n = -1;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			break;
	}
	/* fchmod, not the open mode: the umask must not change what is asked. */
	if (n == 0 && fchmod(out, mode) != 0)
		n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return n == 0 ? 0 : -1;
}

static void
bad_startup_refused(void **state)
{
	struct env *e = *state;
	char open_keys[PATH_MAX], none_keys[PATH_MAX], sock[PATH_MAX], listen[PATH_MAX + 8];
	char busy[PATH_MAX + 8];

	assert_int_equal(proc_path(open_keys, sizeof(open_keys), e->fx.dir, "open.keys"), 0);
	assert_int_equal(proc_path(none_keys, sizeof(none_keys), e->fx.dir, "none.keys"), 0);
	assert_int_equal(proc_path(sock, sizeof(sock), e->fx.dir, "refused.sock"), 0);
	assert_int_equal(proc_unix_arg(listen, sizeof(listen), sock), 0);
	assert_int_equal(proc_unix_arg(busy, sizeof(busy), e->fx.sock), 0);
	assert_int_equal(copy_file(e->fx.keys, open_keys, 0644), 0);

	/* Neither a shard to be provisioned for nor dev keys; the old --keys; bad shards. */
	refused_start(e, "--shard I/N", "--listen", listen, "--idle", "backoff", NULL);
	refused_start(e, "--insecure-dev-keys FILE (dev boxes only)", "--listen", listen, "--keys",
		e->fx.keys, NULL);
	refused_start(e, "--shard '2/2'", "--listen", listen, "--shard", "2/2", NULL);
	refused_start(e, "--shard 0/2, but", "--listen", listen, "--shard", "0/2",
		"--insecure-dev-keys", e->fx.keys, "--idle", "backoff", NULL);
	/* A dev key file whose header promises more keys than it has (cut short). */
	{
		char cut[PATH_MAX];
		int fd;

		assert_int_equal(proc_path(cut, sizeof(cut), e->fx.dir, "cut.keys"), 0);
		fd = open(cut, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "zcsign-keys v1 shard=0 shards=1 keys=480\n", 41), 41);
		close(fd);
		refused_start(e, "keys=480 but the file has 0 key lines (cut short)", "--listen",
			listen, "--insecure-dev-keys", cut, "--idle", "backoff", NULL);
	}
	refused_start(e, open_keys, "--listen", listen, "--insecure-dev-keys", open_keys, "--idle",
		"backoff", NULL);
	refused_start(e, none_keys, "--listen", listen, "--insecure-dev-keys", none_keys, "--idle",
		"backoff", NULL);
	refused_start(e, "tcp:1", "--listen", "tcp:1", "--insecure-dev-keys", e->fx.keys, NULL);
	refused_start(e, "bogus", "--listen", listen, "--insecure-dev-keys", e->fx.keys, "--idle",
		"bogus", NULL);
	refused_start(e, "--listen", "--insecure-dev-keys", e->fx.keys, NULL);
	refused_start(e, "--idle-spin-us '-5'", "--listen", listen, "--insecure-dev-keys",
		e->fx.keys, "--idle", "backoff", "--idle-spin-us", "-5", NULL);
	refused_start(e, "--idle-spin-us '1000001'", "--listen", listen, "--insecure-dev-keys",
		e->fx.keys, "--idle", "backoff", "--idle-spin-us", "1000001", NULL);
	refused_start(e, "--idle-spin-us '10us'", "--listen", listen, "--insecure-dev-keys",
		e->fx.keys, "--idle", "backoff", "--idle-spin-us", "10us", NULL);
	/* None of them got as far as creating its socket. */
	assert_int_equal(access(sock, F_OK), -1);

	/* Another signer on a live signer's path must leave that signer alone. */
	refused_start(e, e->fx.sock, "--listen", busy, "--insecure-dev-keys", e->fx.keys, "--idle",
		"backoff", NULL);
	assert_signer_serves(e);
}

/* cmocka 1.1 has no skip message: say on stderr why, then skip. */
static void __attribute__((format(printf, 1, 2))) skip_because(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "skipped: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	skip();
}

/* In a child: become uid/gid for good (no supplementary groups). 0 or -1. */
static int
drop_to(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
		setresuid(uid, uid, uid) != 0)
		return -1;
	return 0;
}

/* fork + drop to uid/gid + exec: the one way to see dumpability from outside as root. */
static pid_t
spawn_as(char *const argv[], uid_t uid, gid_t gid, const char *err_path)
{
	int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid_t pid;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (dup2(fd, 2) < 0 || drop_to(uid, gid) != 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

/* True when uid/gid may run prog and read keys (asked by a child that became them). */
static bool
reachable_as(const char *prog, const char *keys, uid_t uid, gid_t gid)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		bool ok = drop_to(uid, gid) == 0 && access(prog, X_OK) == 0 &&
			access(keys, R_OK) == 0;

		_exit(ok ? 0 : 1);
	}
	return pid > 0 && proc_wait(pid, PROC_STOP_MS, &st) == 0 && proc_exit_code(st) == 0;
}

/*
 * uid owning /proc/<pid>/mem: the kernel makes a non-dumpable process's files
 * (not its directory, which keeps the euid for ps) owned by root
 * (task_dump_owner()).
 */
static uid_t
proc_owner(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

/* kB of VmLck in /proc/<pid>/status, or -1. */
static long
vm_locked_kb(pid_t pid)
{
	char path[64], buf[8192];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (proc_read_file(path, buf, sizeof(buf)) <= 0 || (p = strstr(buf, "VmLck:")) == NULL)
		return -1;
	return strtol(p + 6, NULL, 10);
}

/* A mapping whose smaps VmFlags carry every flag in flags (e.g. {"lo", "dd", NULL}). */
static bool
has_mapping_with(pid_t pid, const char *const *flags)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		const char *const *fl;
		char word[8];

		if (strncmp(line, "VmFlags:", 8) != 0)
			continue;
		found = true;
		for (fl = flags; *fl != NULL && found; fl++) {
			snprintf(word, sizeof(word), " %s", *fl);
			found = strstr(line, word) != NULL;
		}
	}
	fclose(f);
	return found;
}

/*
 * Connect to sock as uid (a child that became it), say HELLO and read: 0 when
 * the signer closed the connection unanswered, EACCES when the socket could
 * not even be connected to, -1 otherwise (served, or another failure).
 */
static int
connect_as(const char *sock, uid_t uid)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct zcs_wire_hello h;
		char buf[64];
		int fd;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		if (drop_to(uid, uid) != 0 || (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			_exit(1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(errno == EACCES ? 13 : 1);
		zcs_wire_hello(&h, 0, 1);
		if (send(fd, &h, sizeof(h), MSG_NOSIGNAL) < 0) {
			/* closed already: as good as an unanswered close */
		}
		_exit(recv(fd, buf, sizeof(buf), 0) <= 0 ? 0 : 2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 13 ? EACCES : WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*
 * A signer of its own, as root: a peer of another uid (nobody) cannot even
 * connect to its socket (created 0600); with the socket opened up (chmod
 * 0666, as a careless directory might) it connects, and the signer closes it
 * unanswered and logs its uid and pid (SO_PEERCRED). This process, of the
 * signer's uid, is then served as usual.
 */
static void
other_uid_refused(void **state)
{
	struct env *e = *state;
	char sock[PATH_MAX], log[PATH_MAX];
	union zcs_wire_frame r;
	struct stat st;
	int fd, i, status = 0;

	if (geteuid() != 0)
		skip_because("needs root: a second uid to connect as");
	/* A directory nobody may enter (0711): only the socket's own mode stands in the way. */
	assert_int_equal(proc_tmpdir(e->aux_dir, sizeof(e->aux_dir), "peer"), 0);
	assert_int_equal(chmod(e->aux_dir, 0711), 0);
	assert_int_equal(proc_path(sock, sizeof(sock), e->aux_dir, "peer.sock"), 0);
	assert_int_equal(proc_path(log, sizeof(log), e->fx.dir, "peer.log"), 0);
	e->aux = proc_signer_start(e->fx.keys, sock, log);
	assert_true(e->aux > 0);
	assert_int_equal(stat(sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(connect_as(sock, 65534), EACCES);
	assert_int_equal(chmod(sock, 0666), 0);
	assert_int_equal(connect_as(sock, 65534), 0);
	for (i = 0; i < 500 && !proc_file_contains(log, "refused connection from uid 65534 pid");
		i++)
		proc_sleep_ms(10);
	if (!proc_file_contains(log, "refused connection from uid 65534 pid"))
		fail_msg("the signer did not log the refused peer");
	fd = proc_signer_hello(sock, 0, 1, &r);
	assert_true(fd >= 0);
	assert_int_equal(r.hdr.type, ZCS_FT_HELLO_REPLY);
	close(fd);
	/* Counted, and said when the signer stops. */
	assert_int_equal(proc_stop(e->aux, SIGTERM, PROC_REPLY_MS, &status), 0);
	e->aux = -1;
	assert_true(proc_exited_ok(status));
	if (!proc_file_contains(log, "refused peers 1,"))
		fail_msg("the signer's stop line does not count the refused peer");
}

/*
 * The signer protects its process: key memory locked (VmLck, and a lo/dd/wf
 * mapping) and the process non-dumpable. Dumpability shows from outside as the
 * owner of /proc/<pid>/mem, which the kernel resets to root for a non-dumpable
 * process; as root, that only tells something when the signer runs as another
 * user, so the signer runs as nobody here, and a control process proves the
 * check can see a dumpable one. Nobody runs a copy of the program from a
 * fresh directory of its own under /tmp: the build tree may sit below a
 * directory it cannot enter (a checkout in a 0700 temp dir, as CI may make).
 */
static void
process_hardened(void **state)
{
	struct env *e = *state;
	char built[PATH_MAX], prog[PATH_MAX], keys[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	char listen[PATH_MAX + 8];
	char *argv[] = {
		prog, "--listen", listen, "--insecure-dev-keys", keys, "--idle", "backoff", NULL};
	char *sleep_argv[] = {"/bin/sleep", "30", NULL};
	struct passwd *pw = getpwnam("nobody");
	bool root = geteuid() == 0;
	uid_t uid = root ? (pw != NULL ? pw->pw_uid : 65534) : geteuid();
	gid_t gid = root ? (pw != NULL ? pw->pw_gid : 65534) : getegid();
	/* ASan's mlock interceptor does nothing: locking is not visible in those builds. */
#ifdef __SANITIZE_ADDRESS__
	static const char *const secret_flags[] = {"dd", "wf", NULL};
	const bool mlock_works = false;
#else
	static const char *const secret_flags[] = {"lo", "dd", "wf", NULL};
	const bool mlock_works = true;
#endif
	uid_t owner = 0;
	bool mapping;
	long locked;
	int st = 0, i;

	assert_int_equal(proc_build_path(built, sizeof(built), "enclave/zcsign-enclave"), 0);
	assert_int_equal(proc_tmpdir(e->aux_dir, sizeof(e->aux_dir), "hard"), 0);
	assert_int_equal(proc_path(prog, sizeof(prog), e->aux_dir, "zcsign-enclave"), 0);
	assert_int_equal(proc_path(keys, sizeof(keys), e->aux_dir, "shard-0.keys"), 0);
	assert_int_equal(proc_path(sock, sizeof(sock), e->aux_dir, "s.sock"), 0);
	assert_int_equal(proc_path(log, sizeof(log), e->aux_dir, "signer.log"), 0);
	assert_int_equal(proc_unix_arg(listen, sizeof(listen), sock), 0);
	assert_int_equal(copy_file(built, prog, 0755), 0);
	assert_int_equal(copy_file(e->fx.keys, keys, 0600), 0);

	if (root) {
		assert_int_equal(chown(e->aux_dir, uid, gid), 0);
		assert_int_equal(chown(keys, uid, gid), 0);
		if (!reachable_as(prog, keys, uid, gid))
			skip_because("uid %u cannot reach %s (is /tmp closed to it?)",
				(unsigned int)uid, e->aux_dir);
		/* Control: an ordinary process of that user shows up as its owner. */
		e->aux = spawn_as(sleep_argv, uid, gid, "/dev/null");
		assert_true(e->aux > 0);
		for (i = 0; i < 1000 && owner != uid; i++) {
			proc_sleep_ms(2);
			owner = proc_owner(e->aux);
		}
		proc_stop(e->aux, SIGKILL, PROC_STOP_MS, NULL);
		e->aux = -1;
		if (owner != uid)
			skip_because("this kernel does not show dumpability as /proc ownership");
	}

	e->aux = root ? spawn_as(argv, uid, gid, log) : proc_spawn(argv, NULL, log);
	assert_true(e->aux > 0);
	if (proc_wait_listen(sock, e->aux, PROC_START_MS) != 0) {
		proc_wait(e->aux, PROC_STOP_MS, &st);
		e->aux = -1;
		proc_dump_log("signer", log);
		if (proc_exit_code(st) == 126 || proc_exit_code(st) == 127)
			skip_because("uid %u could not run %s", (unsigned int)uid, prog);
		fail_msg("signer as uid %u did not start", (unsigned int)uid);
	}
	locked = vm_locked_kb(e->aux);
	owner = proc_owner(e->aux);
	mapping = has_mapping_with(e->aux, secret_flags);
	assert_int_equal(proc_stop(e->aux, SIGTERM, PROC_STOP_MS, &st), 0);
	e->aux = -1;
	if (!proc_exited_ok(st)) {
		proc_dump_log("signer", log);
		fail_msg("signer as uid %u: exit status 0x%x on SIGTERM", (unsigned int)uid, st);
	}
	if (mlock_works && locked <= 0)
		fail_msg("VmLck is %ld kB: key memory is not locked", locked);
	if (owner != 0)
		fail_msg("/proc/<signer>/mem is owned by uid %u: the signer is dumpable",
			(unsigned int)owner);
	/* Root may read any smaps; another user cannot read a non-dumpable one's. */
	if (root && !mapping)
		fail_msg("no mapping %sMADV_DONTDUMP and MADV_WIPEONFORK in smaps",
			mlock_works ? "locked, " : "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(bulk_sign_verify, test_teardown),
		cmocka_unit_test_teardown(garbage_fatal_headers, test_teardown),
		cmocka_unit_test_teardown(garbage_random_bytes, test_teardown),
		cmocka_unit_test_teardown(garbage_truncated, test_teardown),
		cmocka_unit_test_teardown(garbage_wrong_state, test_teardown),
		cmocka_unit_test_teardown(bad_requests_answered, test_teardown),
		cmocka_unit_test_teardown(second_client_busy, test_teardown),
		cmocka_unit_test_teardown(wrong_shard_refused, test_teardown),
		cmocka_unit_test_teardown(sigterm_clean_exit, test_teardown),
		cmocka_unit_test_teardown(other_uid_refused, test_teardown),
		cmocka_unit_test_teardown(bad_startup_refused, test_teardown),
		cmocka_unit_test_teardown(process_hardened, test_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
