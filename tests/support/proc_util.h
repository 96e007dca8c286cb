/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for process-level tests: they start the real programs (signers,
 * keygen, the CLI, later zcsignd) and talk to them over their sockets.
 *
 * Part of the test-support library (tests/support/meson.build). Contract:
 *   - every process started here is reaped by the caller (proc_stop / proc_wait),
 *     also on failure paths: keep pids in the test's state, stop them in teardown;
 *   - nothing waits without a deadline: a wedged program fails the test, it does
 *     not hang the suite;
 *   - readiness and "the signer has dropped its client" are read from
 *     /proc/net/unix, never probed by connecting: a probe connection would take
 *     the signer's one client slot and race with the test's own client.
 * The programs are found under $ZCS_BUILD_DIR (set by tests/meson.build).
 * Frames go through common/wire_io.h (zcs_wire_send_all, zcs_wire_recv_frame),
 * the CLI's own code. Signatures are checked with verify/verify.h (signer_fixture.h
 * loads the manifest).
 */
#ifndef ZCS_TESTS_PROC_UTIL_H
#define ZCS_TESTS_PROC_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zcsign/wire.h>

#include "wire_io.h"

extern char **environ;

/* Deadlines for programs under test (generous: sanitizer builds on 2 shared cores). */
#define PROC_START_MS 20000
#define PROC_STOP_MS 10000
#define PROC_REPLY_MS 10000

uint64_t proc_now_ns(void);

void proc_sleep_ms(unsigned int ms);

/* dir/name into out; -1 when it does not fit. */
int proc_path(char *out, size_t len, const char *dir, const char *name);

/* "unix:<path>", the address form the programs take; -1 when it does not fit. */
int proc_unix_arg(char *out, size_t len, const char *path);

/* A program of the build tree, e.g. "enclave/zcsign-enclave"; -1 without ZCS_BUILD_DIR. */
int proc_build_path(char *out, size_t len, const char *rel);

/*
 * The argv of a program of the build tree: argv[0] = prog, which receives the
 * path of rel (proglen bytes), then the arguments of ap up to its NULL, at most
 * max - 2 of them, then NULL. Returns the argument count, or -1 without
 * ZCS_BUILD_DIR.
 */
int proc_build_argv(
	char *argv[], size_t max, char *prog, size_t proglen, const char *rel, va_list ap);

/* A fresh private directory /tmp/zcs-<tag>-XXXXXX (short: unix paths max 107 bytes). */
int proc_tmpdir(char *out, size_t len, const char *tag);

/* rm -rf path (recursing into directories, not following links); missing is fine. */
int proc_rmtree(const char *path);

/*
 * Start argv[0] (an absolute path) with stdin from /dev/null and stdout/stderr
 * to the given files (NULL: inherit). Returns the pid, or -1.
 */
pid_t proc_spawn(char *const argv[], const char *out_path, const char *err_path);

/*
 * proc_spawn() with stdin from in_path (a command script for an interactive
 * tool, e.g. dpdk-telemetry.py). Returns the pid, or -1.
 */
pid_t proc_spawn_stdin(
	char *const argv[], const char *in_path, const char *out_path, const char *err_path);

/* Reap pid within timeout_ms. Returns 0 with *status set, or -1 (still running). */
int proc_wait(pid_t pid, unsigned int timeout_ms, int *status);

/* True while pid runs (and is not a zombie waiting for us). */
bool proc_alive(pid_t pid);

/*
 * Send sig and reap. A process that outlives timeout_ms is SIGKILLed, reaped
 * and reported as -1, so a hang is a failure and never a leftover process.
 */
int proc_stop(pid_t pid, int sig, unsigned int timeout_ms, int *status);

/* True when a wait status is a normal exit with code 0. */
bool proc_exited_ok(int status);

/* Exit code of a normal exit, or -1 (signal). */
int proc_exit_code(int status);

/* Run to completion (killed after timeout_ms). Returns the exit code, or -1. */
int proc_run(
	char *const argv[], const char *out_path, const char *err_path, unsigned int timeout_ms);

/* Whole file into buf (NUL-terminated, truncated to len-1). Returns its length or -1. */
ssize_t proc_read_file(const char *path, char *buf, size_t len);

/* Write len bytes of buf to a new file path (O_EXCL: never over a file) with mode; 0 or -1. */
int proc_write_file(const char *path, const void *buf, size_t len, mode_t mode);

/* True when the file exists and contains needle. */
bool proc_file_contains(const char *path, const char *needle);

/*
 * True when a loader's error message is one line "<path>:<line>: ..." (line 0:
 * "<path>: ...") that contains want: the form the key store's and the
 * manifest's messages promise.
 */
bool proc_err_names(const char *err, const char *path, int line, const char *want);

/* True when a program's stderr text holds an ASan/UBSan report. */
bool proc_sanitizer_report(const char *text);

/* Print a program's stderr log into the test output: a failure must say why. */
void proc_dump_log(const char *what, const char *path);

/*
 * State of the unix stream sockets bound to path, from /proc/net/unix:
 * *listening = 1 when one listens on it, *conns = server-side connections
 * (accepted or still in the backlog: both carry the listener's name).
 * Returns 0 or -1.
 */
int proc_unix_state(const char *path, int *listening, int *conns);

/* Wait until something listens on path; -1 when pid dies first or on timeout. */
int proc_wait_listen(const char *path, pid_t pid, unsigned int timeout_ms);

/*
 * Wait until the server on path holds no connection: after a client closes,
 * the signer needs a moment to notice, and a client arriving before that is
 * (rightly) told BUSY.
 */
int proc_wait_unix_idle(const char *path, unsigned int timeout_ms);

/* Blocking AF_UNIX connect, retried until timeout_ms. Returns the fd or -1. */
int proc_connect_unix(const char *path, unsigned int timeout_ms);

/* True when the peer has closed: EOF (or reset) within timeout_ms, no data first. */
bool proc_peer_closed(int fd, unsigned int timeout_ms);

/*
 * Connect to a signer and do the HELLO exchange. Returns the fd with the
 * HELLO_REPLY in *reply, or -1 with whatever came back (an ERROR frame, or
 * f->hdr.type 0 when nothing did) in *reply.
 */
int proc_signer_hello(
	const char *path, uint16_t shard_id, uint16_t shard_count, union zcs_wire_frame *reply);

/*
 * keygen --accounts N --shards S --out dir --insecure-plaintext (the dev key
 * files the tests' signers load with --insecure-dev-keys); returns its exit
 * code (0) or -1.
 */
int proc_keygen(const char *dir, unsigned int accounts, unsigned int shards);

/* The same, sealed to the operator key at operator_pub: dir/shard-I.bundle only. */
int proc_keygen_sealed(
	const char *dir, unsigned int accounts, unsigned int shards, const char *operator_pub);

/*
 * Start zcsign-enclave on unix:sock with key file keys (--idle backoff: tests
 * share 2 cores) and wait until it listens. Its stderr goes to err_path.
 * Returns the pid, or -1 (a started process that never listened is reaped).
 */
pid_t proc_signer_start(const char *keys, const char *sock, const char *err_path);

/* proc_signer_start() with more arguments (a NULL-terminated list, or NULL). */
pid_t proc_signer_start_with(
	const char *keys, const char *sock, const char *err_path, char *const extra[]);

/*
 * Wait until pid is stopped (SIGSTOP delivered: state T in /proc/<pid>/stat),
 * so that a test knows the process does nothing from now on. 0 or -1.
 */
int proc_wait_stopped(pid_t pid, unsigned int timeout_ms);

/*
 * As proc_spawn, but the child is killed (SIGKILL) when the test process dies
 * (PR_SET_PDEATHSIG), so a test that crashes or is killed by a timeout leaves
 * no orphan holding sockets, hugepages or the test runner's output pipe. The
 * files are opened before fork(): the child only calls async-signal-safe
 * functions before execve (the parent may run DPDK and sanitizer threads).
 * out_path and err_path may name the same file (one open, one offset).
 * Returns the pid, or -1.
 */
pid_t proc_spawn_tied(char *const argv[], const char *out_path, const char *err_path);

/* proc_run with proc_spawn_tied. Returns the exit code, or -1. */
int proc_run_tied(
	char *const argv[], const char *out_path, const char *err_path, unsigned int timeout_ms);

/* SHA-384 of the file at path (OpenSSL, streamed); the test fails when it cannot be read. */
void proc_sha384_file(const char *path, uint8_t out[48]);

/* The dev PCR0 (and measurement) of the built zcsign-enclave: its SHA-384, as 96 hex digits. */
void proc_signer_pcr0_hex(char hex[97]);

/*
 * Every readable mapping of pid (root reads an undumpable process too), read
 * through /proc/PID/mem: how often any of the n 32-byte needles occurs (a
 * secret key scan), and the bytes scanned. -1 when the memory cannot be read;
 * PROC_SCAN_SANITIZER in an AddressSanitizer build, whose processes reserve
 * terabytes of shadow and allocator space (reading it would populate it): the
 * scan runs in the normal build. A mapping above PROC_SCAN_MAX_MAP is an
 * address-space reservation, not data, and is passed over.
 */
#define PROC_SCAN_SANITIZER (-2)
#define PROC_SCAN_MAX_MAP (UINT64_C(64) << 30)
long proc_mem_scan(pid_t pid, const uint8_t *needles, size_t n, uint64_t *scanned);

/* The reason a proc_mem_scan() result < 0 gives, for a skip message. */
const char *proc_mem_scan_skip_reason(long rc);

#endif /* ZCS_TESTS_PROC_UTIL_H */
