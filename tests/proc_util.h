/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for process-level tests: they start the real programs (signers,
 * keygen, the CLI, later zcsignd) and talk to them over their sockets.
 *
 * Header-only, every function static inline, so a test includes it and uses
 * what it needs without a library or unused-function warnings. Contract:
 *   - every process started here is reaped by the caller (proc_stop / proc_wait),
 *     also on failure paths: keep pids in the test's state, stop them in teardown;
 *   - nothing waits without a deadline: a wedged program fails the test, it does
 *     not hang the suite;
 *   - readiness and "the signer has dropped its client" are read from
 *     /proc/net/unix, never probed by connecting: a probe connection would take
 *     the signer's one client slot and race with the test's own client.
 * The programs are found under $ZCS_BUILD_DIR (set by tests/meson.build).
 * Frames go through common/wire_io.h (zcs_wire_send_all, zcs_wire_recv_frame),
 * the CLI's own code. Signatures are checked with cli/verify.h (signer_fixture.h
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

static inline uint64_t
proc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
proc_sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* dir/name into out; -1 when it does not fit. */
static inline int
proc_path(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* "unix:<path>", the address form the programs take; -1 when it does not fit. */
static inline int
proc_unix_arg(char *out, size_t len, const char *path)
{
	int n = snprintf(out, len, "unix:%s", path);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A program of the build tree, e.g. "enclave/zcsign-enclave"; -1 without ZCS_BUILD_DIR. */
static inline int
proc_build_path(char *out, size_t len, const char *rel)
{
	const char *root = getenv("ZCS_BUILD_DIR");

	if (root == NULL || root[0] == '\0')
		return -1;
	return proc_path(out, len, root, rel);
}

/*
 * The argv of a program of the build tree: argv[0] = prog, which receives the
 * path of rel (proglen bytes), then the arguments of ap up to its NULL, at most
 * max - 2 of them, then NULL. Returns the argument count, or -1 without
 * ZCS_BUILD_DIR.
 */
static inline int
proc_build_argv(char *argv[], size_t max, char *prog, size_t proglen, const char *rel, va_list ap)
{
	size_t n = 1;

	if (proc_build_path(prog, proglen, rel) != 0)
		return -1;
	argv[0] = prog;
	while (n < max - 1 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	argv[n] = NULL;
	return (int)n;
}

/* A fresh private directory /tmp/zcs-<tag>-XXXXXX (short: unix paths max 107 bytes). */
static inline int
proc_tmpdir(char *out, size_t len, const char *tag)
{
	int n = snprintf(out, len, "/tmp/zcs-%s-XXXXXX", tag);

	if (n < 0 || (size_t)n >= len)
		return -1;
	return mkdtemp(out) == NULL ? -1 : 0;
}

/* rm -rf path (recursing into directories, not following links); missing is fine. */
static inline int
proc_rmtree(const char *path)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int rc = 0;

	if (path == NULL || path[0] == '\0' || lstat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		char sub[PATH_MAX];

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (proc_path(sub, sizeof(sub), path, d->d_name) != 0 || proc_rmtree(sub) != 0)
			rc = -1;
	}
	closedir(dir);
	return rmdir(path) == 0 && rc == 0 ? 0 : -1;
}

/*
 * Start argv[0] (an absolute path) with stdin from /dev/null and stdout/stderr
 * to the given files (NULL: inherit). Returns the pid, or -1.
 */
static inline pid_t
proc_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0 && out_path != NULL)
		rc = posix_spawn_file_actions_addopen(
			&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (rc == 0 && err_path != NULL)
		rc = posix_spawn_file_actions_addopen(
			&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (rc == 0)
		rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

/*
 * proc_spawn() with stdin from in_path (a command script for an interactive
 * tool, e.g. dpdk-telemetry.py). Returns the pid, or -1.
 */
static inline pid_t
proc_spawn_stdin(
	char *const argv[], const char *in_path, const char *out_path, const char *err_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int rc;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	rc = posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
	if (rc == 0 && out_path != NULL)
		rc = posix_spawn_file_actions_addopen(
			&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (rc == 0 && err_path != NULL)
		rc = posix_spawn_file_actions_addopen(
			&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (rc == 0)
		rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

/* Reap pid within timeout_ms. Returns 0 with *status set, or -1 (still running). */
static inline int
proc_wait(pid_t pid, unsigned int timeout_ms, int *status)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			if (status != NULL)
				*status = st;
			return 0;
		}
		if (r < 0 && errno != EINTR)
			return -1;
		if (proc_now_ns() >= deadline)
			return -1;
		proc_sleep_ms(2);
	}
}

/* True while pid runs (and is not a zombie waiting for us). */
static inline bool
proc_alive(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, WNOHANG) == 0;
}

/*
 * Send sig and reap. A process that outlives timeout_ms is SIGKILLed, reaped
 * and reported as -1, so a hang is a failure and never a leftover process.
 */
static inline int
proc_stop(pid_t pid, int sig, unsigned int timeout_ms, int *status)
{
	if (pid <= 0)
		return -1;
	kill(pid, sig);
	if (proc_wait(pid, timeout_ms, status) == 0)
		return 0;
	kill(pid, SIGKILL);
	proc_wait(pid, PROC_STOP_MS, NULL);
	return -1;
}

/* True when a wait status is a normal exit with code 0. */
static inline bool
proc_exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Exit code of a normal exit, or -1 (signal). */
static inline int
proc_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run to completion (killed after timeout_ms). Returns the exit code, or -1. */
static inline int
proc_run(char *const argv[], const char *out_path, const char *err_path, unsigned int timeout_ms)
{
	pid_t pid = proc_spawn(argv, out_path, err_path);
	int st;

	if (pid < 0)
		return -1;
	if (proc_wait(pid, timeout_ms, &st) != 0) {
		proc_stop(pid, SIGKILL, PROC_STOP_MS, NULL);
		return -1;
	}
	return proc_exit_code(st);
}

/* Whole file into buf (NUL-terminated, truncated to len-1). Returns its length or -1. */
static inline ssize_t
proc_read_file(const char *path, char *buf, size_t len)
{
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (have + 1 < len) {
		ssize_t n = read(fd, buf + have, len - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return (ssize_t)have;
}

/* Write len bytes of buf to a new file path (O_EXCL: never over a file) with mode; 0 or -1. */
static inline int
proc_write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	const char *p = buf;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -1;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	/* fchmod, not the open mode: the umask must not loosen or tighten what a test asks. */
	if (fchmod(fd, mode) != 0)
		rc = -1;
	close(fd);
	return rc;
}

/* True when the file exists and contains needle. */
static inline bool
proc_file_contains(const char *path, const char *needle)
{
	static char buf[65536];

	return proc_read_file(path, buf, sizeof(buf)) >= 0 && strstr(buf, needle) != NULL;
}

/*
 * True when a loader's error message is one line "<path>:<line>: ..." (line 0:
 * "<path>: ...") that contains want: the form the key store's and the
 * manifest's messages promise.
 */
static inline bool
proc_err_names(const char *err, const char *path, int line, const char *want)
{
	char prefix[PATH_MAX + 16];

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	return strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, want) != NULL &&
		strchr(err, '\n') == NULL;
}

/* True when a program's stderr text holds an ASan/UBSan report. */
static inline bool
proc_sanitizer_report(const char *text)
{
	return strstr(text, "Sanitizer") != NULL || strstr(text, "runtime error") != NULL;
}

/* Print a program's stderr log into the test output: a failure must say why. */
static inline void
proc_dump_log(const char *what, const char *path)
{
	static char buf[16384];

	if (proc_read_file(path, buf, sizeof(buf)) > 0)
		fprintf(stderr, "---- %s (%s) ----\n%s---- end ----\n", what, path, buf);
}

/*
 * State of the unix stream sockets bound to path, from /proc/net/unix:
 * *listening = 1 when one listens on it, *conns = server-side connections
 * (accepted or still in the backlog: both carry the listener's name).
 * Returns 0 or -1.
 */
static inline int
proc_unix_state(const char *path, int *listening, int *conns)
{
	char line[512];
	FILE *f = fopen("/proc/net/unix", "re");

	*listening = 0;
	*conns = 0;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned int refs, proto, flags, type, st;
		char name[256];
		int n = sscanf(line, "%*s %x %x %x %x %x %*u %255s", &refs, &proto, &flags, &type,
			&st, name);

		if (n != 6 || type != SOCK_STREAM || strcmp(name, path) != 0)
			continue;
		if (flags & 0x10000) /* __SO_ACCEPTCON: a listening socket */
			*listening = 1;
		else
			(*conns)++;
	}
	fclose(f);
	return 0;
}

/* Wait until something listens on path; -1 when pid dies first or on timeout. */
static inline int
proc_wait_listen(const char *path, pid_t pid, unsigned int timeout_ms)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int listening, conns;

	while (proc_now_ns() < deadline) {
		if (proc_unix_state(path, &listening, &conns) == 0 && listening)
			return 0;
		if (!proc_alive(pid))
			return -1;
		proc_sleep_ms(5);
	}
	return -1;
}

/*
 * Wait until the server on path holds no connection: after a client closes,
 * the signer needs a moment to notice, and a client arriving before that is
 * (rightly) told BUSY.
 */
static inline int
proc_wait_unix_idle(const char *path, unsigned int timeout_ms)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int listening, conns;

	while (proc_now_ns() < deadline) {
		if (proc_unix_state(path, &listening, &conns) == 0 && conns == 0)
			return 0;
		proc_sleep_ms(2);
	}
	return -1;
}

/* Blocking AF_UNIX connect, retried until timeout_ms. Returns the fd or -1. */
static inline int
proc_connect_unix(const char *path, unsigned int timeout_ms)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (proc_now_ns() >= deadline)
			return -1;
		proc_sleep_ms(5);
	}
}

/* True when the peer has closed: EOF (or reset) within timeout_ms, no data first. */
static inline bool
proc_peer_closed(int fd, unsigned int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint8_t b;
	ssize_t n;

	if (poll(&p, 1, (int)timeout_ms) <= 0)
		return false;
	n = recv(fd, &b, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/*
 * Connect to a signer and do the HELLO exchange. Returns the fd with the
 * HELLO_REPLY in *reply, or -1 with whatever came back (an ERROR frame, or
 * f->hdr.type 0 when nothing did) in *reply.
 */
static inline int
proc_signer_hello(
	const char *path, uint16_t shard_id, uint16_t shard_count, union zcs_wire_frame *reply)
{
	struct zcs_wire_hello hello;
	int fd = proc_connect_unix(path, PROC_REPLY_MS);

	memset(reply, 0, sizeof(*reply));
	if (fd < 0)
		return -1;
	zcs_wire_hello(&hello, shard_id, shard_count);
	/* A refusing signer may close before reading HELLO: its ERROR is still queued. */
	(void)zcs_wire_send_all(fd, &hello, sizeof(hello));
	if (zcs_wire_recv_frame(fd, reply, PROC_REPLY_MS) != 0 ||
		reply->hdr.type != ZCS_FT_HELLO_REPLY) {
		close(fd);
		return -1;
	}
	return fd;
}

/* keygen --accounts N --shards S --out dir; returns its exit code (0) or -1. */
static inline int
proc_keygen(const char *dir, unsigned int accounts, unsigned int shards)
{
	char prog[PATH_MAX], na[16], ns[16], log[PATH_MAX];
	char *argv[] = {prog, "--accounts", na, "--shards", ns, "--out", (char *)dir, NULL};

	if (proc_build_path(prog, sizeof(prog), "enclave/zcsign-keygen") != 0 ||
		proc_path(log, sizeof(log), dir, "keygen.log") != 0)
		return -1;
	snprintf(na, sizeof(na), "%u", accounts);
	snprintf(ns, sizeof(ns), "%u", shards);
	return proc_run(argv, log, log, PROC_START_MS);
}

/*
 * Start zcsign-enclave on unix:sock with key file keys (--idle backoff: tests
 * share 2 cores) and wait until it listens. Its stderr goes to err_path.
 * Returns the pid, or -1 (a started process that never listened is reaped).
 */
static inline pid_t
proc_signer_start(const char *keys, const char *sock, const char *err_path)
{
	char prog[PATH_MAX], listen[160];
	char *argv[] = {
		prog, "--listen", listen, "--keys", (char *)keys, "--idle", "backoff", NULL};
	pid_t pid;

	if (proc_build_path(prog, sizeof(prog), "enclave/zcsign-enclave") != 0 ||
		proc_unix_arg(listen, sizeof(listen), sock) != 0)
		return -1;
	pid = proc_spawn(argv, NULL, err_path);
	if (pid < 0)
		return -1;
	if (proc_wait_listen(sock, pid, PROC_START_MS) != 0) {
		proc_stop(pid, SIGKILL, PROC_STOP_MS, NULL);
		return -1;
	}
	return pid;
}

/*
 * Wait until pid is stopped (SIGSTOP delivered: state T in /proc/<pid>/stat),
 * so that a test knows the process does nothing from now on. 0 or -1.
 */
static inline int
proc_wait_stopped(pid_t pid, unsigned int timeout_ms)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)timeout_ms * 1000000u;
	char path[64], text[512];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	while (proc_now_ns() < deadline) {
		/* "pid (comm) S ...": comm may hold blanks and parentheses, the last ')' ends it.
		 */
		if (proc_read_file(path, text, sizeof(text)) < 0)
			return -1;
		p = strrchr(text, ')');
		if (p != NULL && p[1] == ' ' && (p[2] == 'T' || p[2] == 't'))
			return 0;
		proc_sleep_ms(1);
	}
	return -1;
}

/*
 * As proc_spawn, but the child is killed (SIGKILL) when the test process dies
 * (PR_SET_PDEATHSIG), so a test that crashes or is killed by a timeout leaves
 * no orphan holding sockets, hugepages or the test runner's output pipe. The
 * files are opened before fork(): the child only calls async-signal-safe
 * functions before execve (the parent may run DPDK and sanitizer threads).
 * out_path and err_path may name the same file (one open, one offset).
 * Returns the pid, or -1.
 */
static inline pid_t
proc_spawn_tied(char *const argv[], const char *out_path, const char *err_path)
{
	const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	pid_t parent = getpid(), pid = -1;
	int in, out = -1, err = -1;

	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (out_path != NULL)
		out = open(out_path, flags, 0600);
	if (err_path != NULL)
		err = out_path != NULL && strcmp(out_path, err_path) == 0
			? out
			: open(err_path, flags, 0600);
	if (in >= 0 && (out_path == NULL || out >= 0) && (err_path == NULL || err >= 0))
		pid = fork();
	if (pid == 0) {
		/* The parent may have died between fork() and prctl(): then no signal comes. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		if (dup2(in, 0) < 0 || (out >= 0 && dup2(out, 1) < 0) ||
			(err >= 0 && dup2(err, 2) < 0))
			_exit(127);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err >= 0 && err != out)
		close(err);
	return pid;
}

/* proc_run with proc_spawn_tied. Returns the exit code, or -1. */
static inline int
proc_run_tied(
	char *const argv[], const char *out_path, const char *err_path, unsigned int timeout_ms)
{
	pid_t pid = proc_spawn_tied(argv, out_path, err_path);
	int st;

	if (pid < 0)
		return -1;
	if (proc_wait(pid, timeout_ms, &st) != 0) {
		proc_stop(pid, SIGKILL, PROC_STOP_MS, NULL);
		return -1;
	}
	return proc_exit_code(st);
}

#endif /* ZCS_TESTS_PROC_UTIL_H */
