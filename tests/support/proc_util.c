/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: see proc_util.h. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hex.h"
#include "clock.h"
#include "proc_util.h"

uint64_t
proc_now_ns(void)
{
	return zcs_mono_ns();
}

void
proc_sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
proc_path(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
proc_unix_arg(char *out, size_t len, const char *path)
{
	int n = snprintf(out, len, "unix:%s", path);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
proc_build_path(char *out, size_t len, const char *rel)
{
	const char *root = getenv("ZCS_BUILD_DIR");

	/* Without it no test can find a program: a setup error, said as such. */
	if (root == NULL || root[0] == '\0')
		fail_msg("ZCS_BUILD_DIR is not set: run the tests through meson test");
	return proc_path(out, len, root, rel);
}

int
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

int
proc_tmpdir(char *out, size_t len, const char *tag)
{
	int n = snprintf(out, len, "/tmp/zcs-%s-XXXXXX", tag);

	if (n < 0 || (size_t)n >= len)
		return -1;
	return mkdtemp(out) == NULL ? -1 : 0;
}

int
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

pid_t
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

pid_t
proc_spawn(char *const argv[], const char *out_path, const char *err_path)
{
	return proc_spawn_stdin(argv, "/dev/null", out_path, err_path);
}

int
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

bool
proc_alive(pid_t pid)
{
	siginfo_t si;

	/* WNOWAIT: an exited child stays waitable, so proc_wait() still gets its status. */
	memset(&si, 0, sizeof(si));
	if (pid <= 0 || waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return false;
	return si.si_pid == 0;
}

int
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

bool
proc_exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
proc_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Wait for pid (killed when late); its exit code, or -1 (not started, late, killed). */
static int
run_to_exit(pid_t pid, unsigned int timeout_ms)
{
	int st;

	if (pid < 0)
		return -1;
	if (proc_wait(pid, timeout_ms, &st) != 0) {
		proc_stop(pid, SIGKILL, PROC_STOP_MS, NULL);
		return -1;
	}
	return proc_exit_code(st);
}

int
proc_run(char *const argv[], const char *out_path, const char *err_path, unsigned int timeout_ms)
{
	return run_to_exit(proc_spawn(argv, out_path, err_path), timeout_ms);
}

ssize_t
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

int
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

bool
proc_file_contains(const char *path, const char *needle)
{
	static char buf[65536];

	return proc_read_file(path, buf, sizeof(buf)) >= 0 && strstr(buf, needle) != NULL;
}

bool
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

bool
proc_sanitizer_report(const char *text)
{
	return strstr(text, "Sanitizer") != NULL || strstr(text, "runtime error") != NULL;
}

void
proc_dump_log(const char *what, const char *path)
{
	static char buf[16384];

	if (proc_read_file(path, buf, sizeof(buf)) > 0)
		fprintf(stderr, "---- %s (%s) ----\n%s---- end ----\n", what, path, buf);
}

int
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

int
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

int
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

int
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

bool
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

int
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

static int
keygen_run(const char *dir, unsigned int accounts, unsigned int shards, const char *operator_pub)
{
	char prog[PATH_MAX], na[16], ns[16], log[PATH_MAX];
	char *argv[] = {prog, "--accounts", na, "--shards", ns, "--out", (char *)dir,
		"--insecure-plaintext", NULL, NULL};

	if (proc_build_path(prog, sizeof(prog), "enclave/zcsign-keygen") != 0 ||
		proc_path(log, sizeof(log), dir, "keygen.log") != 0)
		return -1;
	snprintf(na, sizeof(na), "%u", accounts);
	snprintf(ns, sizeof(ns), "%u", shards);
	if (operator_pub != NULL) {
		argv[7] = "--operator-pub";
		argv[8] = (char *)operator_pub;
	}
	return proc_run(argv, log, log, PROC_START_MS);
}

int
proc_keygen(const char *dir, unsigned int accounts, unsigned int shards)
{
	return keygen_run(dir, accounts, shards, NULL);
}

int
proc_keygen_sealed(
	const char *dir, unsigned int accounts, unsigned int shards, const char *operator_pub)
{
	return keygen_run(dir, accounts, shards, operator_pub);
}

pid_t
proc_signer_start(const char *keys, const char *sock, const char *err_path)
{
	return proc_signer_start_with(keys, sock, err_path, NULL);
}

pid_t
proc_signer_start_with(
	const char *keys, const char *sock, const char *err_path, char *const extra[])
{
	char prog[PATH_MAX], listen[160];
	char *argv[24] = {prog, "--listen", listen, "--insecure-dev-keys", (char *)keys, "--idle",
		"backoff", NULL};
	size_t n = 7;
	pid_t pid;

	for (; extra != NULL && *extra != NULL && n < 23; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
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

int
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

pid_t
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

int
proc_run_tied(
	char *const argv[], const char *out_path, const char *err_path, unsigned int timeout_ms)
{
	return run_to_exit(proc_spawn_tied(argv, out_path, err_path), timeout_ms);
}

void
proc_sha384_file(const char *path, uint8_t out[48])
{
	uint8_t buf[65536];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 0;
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(md);
	if (f == NULL)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha384(), NULL), 1);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		assert_int_equal(EVP_DigestUpdate(md, buf, n), 1);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	assert_int_equal(EVP_DigestFinal_ex(md, out, &len), 1);
	assert_int_equal(len, 48);
	EVP_MD_CTX_free(md);
}

void
proc_signer_pcr0_hex(char hex[97])
{
	char prog[PATH_MAX];
	uint8_t md[48];

	assert_int_equal(proc_build_path(prog, sizeof(prog), "enclave/zcsign-enclave"), 0);
	proc_sha384_file(prog, md);
	zcs_hex_encode(md, sizeof(md), hex);
}

/* First-two-byte filter, then a full compare: how many secrets occur in buf. */
static size_t
count_needles(
	const uint8_t *buf, size_t len, const uint8_t *filter, const uint8_t *needles, size_t n)
{
	size_t i, k, found = 0;

	for (i = 0; i + 32 <= len; i++) {
		unsigned int v = (unsigned int)buf[i] << 8 | buf[i + 1];

		if (!(filter[v >> 3] & (1u << (v & 7))))
			continue;
		for (k = 0; k < n; k++)
			if (memcmp(buf + i, needles + k * 32, 32) == 0)
				found++;
	}
	return found;
}

static void
make_filter(uint8_t *filter, const uint8_t *needles, size_t n)
{
	size_t k;

	memset(filter, 0, 8192);
	for (k = 0; k < n; k++) {
		unsigned int v = (unsigned int)needles[k * 32] << 8 | needles[k * 32 + 1];

		filter[v >> 3] |= (uint8_t)(1u << (v & 7));
	}
}

#if defined(__SANITIZE_ADDRESS__)
#define PROC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROC_ASAN 1
#endif
#endif

const char *
proc_mem_scan_skip_reason(long rc)
{
	return rc == PROC_SCAN_SANITIZER
		? "an AddressSanitizer build (terabytes of shadow; the normal build scans)"
		: "its memory cannot be read (not root?)";
}

long
proc_mem_scan(pid_t pid, const uint8_t *needles, size_t n, uint64_t *scanned)
{
	static uint8_t chunk[1 << 20];
	uint8_t filter[8192];
	char path[64], line[512];
	unsigned long start, end;
	char perms[8];
	long found = 0;
	FILE *maps;
	int mem;

	*scanned = 0;
#ifdef PROC_ASAN
	(void)pid;
	(void)needles;
	(void)n;
	return PROC_SCAN_SANITIZER;
#endif
	make_filter(filter, needles, n);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (maps == NULL || mem < 0) {
		if (maps != NULL)
			fclose(maps);
		if (mem >= 0)
			close(mem);
		return -1;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long off;

		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[0] != 'r' ||
			strstr(line, "[vvar]") != NULL || end - start > PROC_SCAN_MAX_MAP)
			continue;
		/* Overlapping chunks (31 bytes) so that a key across a boundary is seen. */
		for (off = start; off < end;) {
			size_t want = end - off < sizeof(chunk) ? end - off : sizeof(chunk);
			ssize_t r = pread(mem, chunk, want, (off_t)off);

			if (r <= 0)
				break;
			*scanned += (uint64_t)r;
			found += (long)count_needles(chunk, (size_t)r, filter, needles, n);
			if ((size_t)r < 32 || off + (size_t)r >= end)
				break;
			off += (size_t)r - 31;
		}
	}
	fclose(maps);
	close(mem);
	return found;
}
