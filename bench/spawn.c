/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench --spawn: start and stop a private engine (see spawn.h).
 *
 * Every wait has a deadline, and every child gets PR_SET_PDEATHSIG, so a
 * bench that dies leaves no signer or zcsignd spinning on a shared box.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zcsign/poll.h>
#include <zcsign/wire.h>

#include "clock.h"
#include "hex.h"
#include "rmtree.h"
#include "shards.h"
#include "sign.h"
#include "spawn.h"

#define PROG "zcsign-bench"
#define KEYGEN_MS 30000
#define LISTEN_MS 10000
#define ENGINE_START_MS 30000
/* zcsignd drains for up to its drain timeout (5 s by default), then joins */
#define ENGINE_STOP_MS 30000
#define SIGNER_STOP_MS 10000

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* <dir of this binary>/../sub/name when it exists, else name (found on PATH). */
static void
find_bin(char *out, size_t len, const char *sub, const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		snprintf(out, len, "%s/../%s/%s", dirname(self), sub, name);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "%s", name);
}

/* fork + exec with stdout and stderr into log, pinned to cpu (>= 0), SCHED_FIFO at fifo (> 0). */
static pid_t
start_child(char *const argv[], const char *log, int cpu, int fifo)
{
	struct sched_param sp = {.sched_priority = fifo > 0 ? fifo : 0};
	cpu_set_t set;
	pid_t pid;
	int fd;

	pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* fifo < 0: SCHED_IDLE */
	if (fifo != 0 && sched_setscheduler(0, fifo > 0 ? SCHED_FIFO : SCHED_IDLE, &sp) != 0)
		fprintf(stderr, PROG ": %s: %s (running without)\n",
			fifo > 0 ? "SCHED_FIFO" : "SCHED_IDLE", strerror(errno));
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	execvp(argv[0], argv);
	fprintf(stderr, PROG ": cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reap pid within ms: 0 and its wait status, or -1 (still running). */
static int
reap(pid_t pid, unsigned int ms, int *status)
{
	uint64_t end = zcs_mono_ms() + ms;

	do {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return 0;
		sleep_ms(5);
	} while (zcs_mono_ms() < end);
	return -1;
}

/* SIGTERM, then SIGKILL after ms. Returns the exit status, or -1 (killed, signalled). */
static int
stop_child(pid_t *pid, unsigned int ms, const char *what)
{
	int status = 0;

	if (*pid <= 0)
		return 0;
	kill(*pid, SIGTERM);
	if (reap(*pid, ms, &status) != 0) {
		fprintf(stderr, PROG ": %s (pid %d) ignored SIGTERM for %u ms: killed\n", what,
			(int)*pid, ms);
		kill(*pid, SIGKILL);
		reap(*pid, 5000, &status);
		*pid = -1;
		return -1;
	}
	*pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The last line of a log that contains needle, or "" (for error messages). */
static void
log_line(const char *log, const char *needle, char *out, size_t len)
{
	char line[512];
	FILE *f = fopen(log, "r");

	out[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (needle == NULL || strstr(line, needle) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line);
		}
	fclose(f);
}

/* Run a tool to its end (at most KEYGEN_MS), output into dir/<log>: 0 when it exited 0. */
static int
run_tool(struct zcs_spawn *s, char *const argv[], const char *logname, const char *what)
{
	char log[PATH_MAX], last[512];
	int status = 0;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/%s", s->dir, logname);
	pid = start_child(argv, log, -1, 0);
	if (pid < 0 || reap(pid, KEYGEN_MS, &status) != 0 || !WIFEXITED(status) ||
		WEXITSTATUS(status) != 0) {
		if (pid > 0)
			kill(pid, SIGKILL);
		log_line(log, NULL, last, sizeof(last));
		fprintf(stderr, PROG ": --spawn: %s failed: %s\n", what, last);
		return -1;
	}
	return 0;
}

/*
 * The operator's provisioning key (dir/operator.key, .pub) and the keys,
 * sealed to it: dir/keys/shard-I.bundle. No plaintext key file is written.
 */
static int
keygen(struct zcs_spawn *s, const struct zcs_spawn_conf *c)
{
	char bin[PATH_MAX], accounts[16], shards[16], out[PATH_MAX], op[PATH_MAX];
	char pub[PATH_MAX];
	char *opkey[] = {bin, (char *)"--new-operator-key", op, NULL};
	char *argv[] = {bin, (char *)"--accounts", accounts, (char *)"--shards", shards,
		(char *)"--out", out, (char *)"--operator-pub", pub, NULL};

	find_bin(bin, sizeof(bin), "enclave", "zcsign-keygen");
	snprintf(accounts, sizeof(accounts), "%u", c->accounts);
	snprintf(shards, sizeof(shards), "%u", c->shards);
	snprintf(out, sizeof(out), "%s/keys", s->dir);
	snprintf(op, sizeof(op), "%s/operator", s->dir);
	snprintf(pub, sizeof(pub), "%s/operator.pub", s->dir);
	if (run_tool(s, opkey, "keygen.log", "zcsign-keygen --new-operator-key") != 0 ||
		run_tool(s, argv, "keygen.log", "zcsign-keygen") != 0)
		return -1;
	snprintf(s->manifest, sizeof(s->manifest), "%s/keys/manifest.json", s->dir);
	return 0;
}

/*
 * A dev attestation CA in dir/attest (zcsign-attest-ca init) and a leaf per
 * signer (signer-I), and the PCR0 the provisioner (and with --attest,
 * zcsignd) expects: the SHA-384 of the zcsign-enclave binary the signers run,
 * which is what they report.
 */
static int
dev_ca(struct zcs_spawn *s)
{
	char bin[PATH_MAX], ca[PATH_MAX], name[32], signer[PATH_MAX];
	char *init[] = {bin, (char *)"init", (char *)"--out", ca, NULL};
	char *leaf[] = {bin, (char *)"leaf", (char *)"--ca", ca, (char *)"--out", ca,
		(char *)"--name", name, NULL};
	uint8_t md[48];
	unsigned int i;

	find_bin(bin, sizeof(bin), "attest", "zcsign-attest-ca");
	snprintf(ca, sizeof(ca), "%s/attest", s->dir);
	if (mkdir(ca, 0700) != 0) {
		fprintf(stderr, PROG ": --spawn --attest: mkdir %s: %s\n", ca, strerror(errno));
		return -1;
	}
	if (run_tool(s, init, "attest-ca.log", "zcsign-attest-ca init") != 0)
		return -1;
	for (i = 0; i < s->shards; i++) {
		snprintf(name, sizeof(name), "signer-%u", i);
		if (run_tool(s, leaf, "attest-ca.log", "zcsign-attest-ca leaf") != 0)
			return -1;
	}
	find_bin(signer, sizeof(signer), "enclave", "zcsign-enclave");
	if (zcs_measure_path(signer, md) != 0) {
		fprintf(stderr, PROG ": --spawn --attest: cannot hash %s\n", signer);
		return -1;
	}
	zcs_hex_encode(md, sizeof(md), s->pcr0);
	return 0;
}

static int
start_signers(struct zcs_spawn *s, const struct zcs_spawn_conf *c)
{
	char bin[PATH_MAX], listen[160], log[PATH_MAX], sock[108], cpu[16];
	char last[512], presig[16], spin[16], attest[PATH_MAX], shard[16];
	char *argv[24];
	unsigned int i, k;
	uint64_t end;

	find_bin(bin, sizeof(bin), "enclave", "zcsign-enclave");
	for (i = 0; i < s->shards; i++) {
		snprintf(sock, sizeof(sock), "%s/signer-%u.sock", s->dir, i);
		snprintf(listen, sizeof(listen), "unix:%s", sock);
		snprintf(shard, sizeof(shard), "%u/%u", i, s->shards);
		snprintf(log, sizeof(log), "%s/signer-%u.log", s->dir, i);
		snprintf(cpu, sizeof(cpu), "%d", c->refill_cpu);
		snprintf(presig, sizeof(presig), "%u", c->presig);
		k = 0;
		argv[k++] = bin;
		argv[k++] = (char *)"--listen";
		argv[k++] = listen;
		argv[k++] = (char *)"--shard"; /* sealed: provisioned below */
		argv[k++] = shard;
		argv[k++] = (char *)"--idle";
		argv[k++] = (char *)zcs_poll_mode_name(c->signer_idle);
		if (c->signer_spin_us >= 0) {
			snprintf(spin, sizeof(spin), "%d", c->signer_spin_us);
			argv[k++] = (char *)"--idle-spin-us";
			argv[k++] = spin;
		}
		argv[k++] = (char *)"--nonce";
		argv[k++] = (char *)zcs_nonce_mode_name(c->nonce);
		if (c->refill_cpu >= 0 && c->nonce == ZCS_NONCE_PRECOMPUTED) {
			argv[k++] = (char *)"--refill-cpu";
			argv[k++] = cpu;
		}
		if (c->presig > 0 && c->nonce == ZCS_NONCE_PRECOMPUTED) {
			argv[k++] = (char *)"--presig-ecdsa";
			argv[k++] = presig;
			argv[k++] = (char *)"--presig-schnorr";
			argv[k++] = presig;
		}
		snprintf(attest, sizeof(attest), "dev:%s/attest/signer-%u", s->dir, i);
		argv[k++] = (char *)"--attest";
		argv[k++] = attest;
		argv[k] = NULL;
		s->signer[i] = start_child(argv, log, c->signer_cpu, c->signer_fifo);
		if (s->signer[i] < 0) {
			fprintf(stderr, PROG ": --spawn: fork: %s\n", strerror(errno));
			return -1;
		}
		end = zcs_mono_ms() + LISTEN_MS;
		while (access(sock, F_OK) != 0) {
			int status;

			if (zcs_mono_ms() > end || waitpid(s->signer[i], &status, WNOHANG) != 0) {
				log_line(log, NULL, last, sizeof(last));
				fprintf(stderr, PROG ": --spawn: signer %u did not listen: %s\n", i,
					last);
				return -1;
			}
			sleep_ms(10);
		}
	}
	return 0;
}

/* Each signer gets its shard's bundle the way production does: zcsign-cli provision. */
static int
provision(struct zcs_spawn *s)
{
	char bin[PATH_MAX], signer[160], op[PATH_MAX], root[PATH_MAX], pcr[112], bundle[PATH_MAX];
	char *argv[] = {bin, (char *)"--signer", signer, (char *)"provision",
		(char *)"--operator-key", op, (char *)"--root", root, (char *)"--pcr", pcr, bundle,
		NULL};
	unsigned int i;

	find_bin(bin, sizeof(bin), "cli", "zcsign-cli");
	snprintf(op, sizeof(op), "%s/operator.key", s->dir);
	snprintf(root, sizeof(root), "%s/attest/root.pem", s->dir);
	snprintf(pcr, sizeof(pcr), "0=%s", s->pcr0);
	for (i = 0; i < s->shards; i++) {
		snprintf(signer, sizeof(signer), "unix:%s/signer-%u.sock", s->dir, i);
		snprintf(bundle, sizeof(bundle), "%s/keys/shard-%u.bundle", s->dir, i);
		if (run_tool(s, argv, "provision.log", "zcsign-cli provision") != 0)
			return -1;
	}
	return 0;
}

static int
write_ini(const struct zcs_spawn *s, const struct zcs_spawn_conf *c, char *path, size_t len)
{
	unsigned int i;
	FILE *f;

	snprintf(path, len, "%s/zcsignd.ini", s->dir);
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, PROG ": --spawn: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# written by zcsign-bench --spawn\n[engine]\nshards = %u\npoll = %s\n",
		s->shards, zcs_poll_mode_name(c->poll));
	for (i = 0; i < s->shards; i++) {
		fprintf(f, "[shard.%u]\nsigner = unix:%s/signer-%u.sock\n", i, s->dir, i);
		if (c->attest)
			fprintf(f, "attest = dev\nattest_root = %s/attest/root.pem\npcr0 = %s\n",
				s->dir, s->pcr0);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, PROG ": --spawn: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

static int
start_engine(struct zcs_spawn *s, const struct zcs_spawn_conf *c)
{
	char bin[PATH_MAX], ini[PATH_MAX], prefix[96], mem[16], last[512];
	char *argv[] = {bin, prefix, (char *)"--no-pci", (char *)"-m", mem, (char *)"--lcores",
		(char *)c->lcores, (char *)"--", (char *)"--config", ini, (char *)"--poll",
		(char *)zcs_poll_mode_name(c->poll), NULL};
	uint64_t end;
	int status;

	if (write_ini(s, c, ini, sizeof(ini)) != 0)
		return -1;
	find_bin(bin, sizeof(bin), "engine", "zcsignd");
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", s->prefix);
	snprintf(mem, sizeof(mem), "%u", c->mem_mb);
	snprintf(s->log, sizeof(s->log), "%s/zcsignd.log", s->dir);
	/* zcsignd runs on the CPUs its --lcores name; the main lcore sleeps */
	s->zcsignd = start_child(argv, s->log, -1, c->engine_idle ? -1 : 0);
	if (s->zcsignd < 0) {
		fprintf(stderr, PROG ": --spawn: fork: %s\n", strerror(errno));
		return -1;
	}
	/* zcsignd logs "shard N -> ..." once zcs_engine_start() published the memzone */
	end = zcs_mono_ms() + ENGINE_START_MS;
	for (;;) {
		log_line(s->log, "zcsignd: shard ", last, sizeof(last));
		if (last[0] != '\0')
			return 0;
		if (waitpid(s->zcsignd, &status, WNOHANG) != 0) {
			s->zcsignd = -1;
			log_line(s->log, NULL, last, sizeof(last));
			fprintf(stderr, PROG ": --spawn: zcsignd exited at start: %s (log: %s)\n",
				last, s->log);
			return -1;
		}
		if (zcs_mono_ms() > end) {
			fprintf(stderr,
				PROG ": --spawn: zcsignd not started after %u ms (log: %s)\n",
				ENGINE_START_MS, s->log);
			return -1;
		}
		sleep_ms(20);
	}
}

int
zcs_spawn_start(struct zcs_spawn *s, const struct zcs_spawn_conf *c)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->zcsignd = -1;
	for (i = 0; i < ZCS_SPAWN_MAX_SHARDS; i++)
		s->signer[i] = -1;
	if (c->shards == 0 || c->shards > ZCS_SPAWN_MAX_SHARDS) {
		fprintf(stderr, PROG ": --shards %u: 1 to %d\n", c->shards, ZCS_SPAWN_MAX_SHARDS);
		return -1;
	}
	s->shards = c->shards;
	snprintf(s->dir, sizeof(s->dir), "/tmp/zcsign-bench.XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		fprintf(stderr, PROG ": --spawn: mkdtemp: %s\n", strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	snprintf(s->prefix, sizeof(s->prefix), "zcs_bench_%d", (int)getpid());
	if (keygen(s, c) != 0 || dev_ca(s) != 0 || start_signers(s, c) != 0 || provision(s) != 0 ||
		start_engine(s, c) != 0) {
		zcs_spawn_stop(s);
		return -1;
	}
	return 0;
}

/* zcsignd's "connected to signer" lines, with their handshake times, as comments on stderr. */
static void
print_handshakes(const struct zcs_spawn *s)
{
	char line[512];
	const char *p;
	FILE *f = fopen(s->log, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "connected to signer")) != NULL &&
			strstr(line, "(handshake ") != NULL) {
			line[strcspn(line, "\n")] = '\0';
			fprintf(stderr, "# zcsignd: %s\n", strstr(line, "shard ") ?: p);
		}
	fclose(f);
}

int
zcs_spawn_wait_up(struct zcs_spawn *s, double timeout_s)
{
	uint64_t end = zcs_mono_ms() + (uint64_t)(timeout_s * 1000);
	const struct zcs_engine_shared *sh = zcs_shards_lookup();
	struct zcs_engine_info ei;
	struct zcs_shard_info si;
	unsigned int i, up = 0;

	if (sh == NULL) {
		fprintf(stderr, PROG ": --spawn: no engine state under prefix %s\n", s->prefix);
		return -1;
	}
	while (zcs_mono_ms() < end) {
		if (zcs_shards_all_up(sh)) {
			print_handshakes(s);
			return 0;
		}
		sleep_ms(20);
	}
	zcs_engine_info(sh, &ei);
	for (i = 0; i < ei.shard_count; i++)
		up += zcs_shard_info(sh, i, &si) == 0 && si.state == ZCS_SHARD_UP;
	fprintf(stderr, PROG ": --spawn: %u of %u shards up after %.0f s (log: %s)\n", up,
		ei.shard_count, timeout_s, s->log);
	return -1;
}

void
zcs_spawn_kill(const struct zcs_spawn *s)
{
	unsigned int i;

	if (s->zcsignd > 0)
		kill(s->zcsignd, SIGTERM);
	for (i = 0; i < s->shards; i++)
		if (s->signer[i] > 0)
			kill(s->signer[i], SIGTERM);
}

/* DPDK's runtime directory of a prefix: /var/run/dpdk/<prefix> as root. */
static void
runtime_dir(char *out, size_t len, const char *prefix)
{
	const char *base = "/var/run";

	if (getuid() != 0) {
		base = getenv("XDG_RUNTIME_DIR");
		if (base == NULL || base[0] == '\0')
			base = "/tmp";
	}
	snprintf(out, len, "%s/dpdk/%s", base, prefix);
}

/* What a primary leaves behind: <prefix>map_* hugepage files, its runtime dir. */
static void
remove_eal_files(const char *prefix)
{
	char want[96], path[PATH_MAX + 300];
	struct dirent *d;
	DIR *dir;

	snprintf(want, sizeof(want), "%smap_", prefix);
	dir = opendir("/dev/hugepages");
	if (dir != NULL) {
		while ((d = readdir(dir)) != NULL)
			if (strncmp(d->d_name, want, strlen(want)) == 0) {
				snprintf(path, sizeof(path), "/dev/hugepages/%s", d->d_name);
				unlink(path);
			}
		closedir(dir);
	}
	runtime_dir(path, sizeof(path), prefix);
	zcs_bench_rmtree(path);
}

/* zcsignd's counters must add up: submitted = signed + expired + failed, none in flight. */
static int
check_totals(struct zcs_spawn *s)
{
	uint64_t sub, ok, exp, fail, inflight;
	const char *p;

	log_line(s->log, "zcsignd: stopped:", s->totals, sizeof(s->totals));
	p = strstr(s->totals, "stopped:");
	if (p == NULL ||
		sscanf(p,
			"stopped: submitted=%" SCNu64 " signed=%" SCNu64 " expired=%" SCNu64
			" failed=%" SCNu64 " in_flight=%" SCNu64,
			&sub, &ok, &exp, &fail, &inflight) != 5) {
		fprintf(stderr, PROG ": --spawn: zcsignd printed no final counters (log: %s)\n",
			s->log);
		return -1;
	}
	if (sub != ok + exp + fail || inflight != 0) {
		fprintf(stderr, PROG ": --spawn: zcsignd's counters do not reconcile: %s\n",
			s->totals);
		return -1;
	}
	return 0;
}

int
zcs_spawn_stop(struct zcs_spawn *s)
{
	char what[32], keys[96];
	unsigned int i;
	int rc = 0, st;

	if (s->zcsignd > 0) {
		st = stop_child(&s->zcsignd, ENGINE_STOP_MS, "zcsignd");
		if (st != 0) {
			fprintf(stderr, PROG ": --spawn: zcsignd exited %d on SIGTERM (log: %s)\n",
				st, s->log);
			rc = -1;
		} else if (check_totals(s) != 0) {
			rc = -1;
		}
	}
	for (i = 0; i < s->shards; i++) {
		snprintf(what, sizeof(what), "signer %u", i);
		st = stop_child(&s->signer[i], SIGNER_STOP_MS, what);
		if (st != 0) {
			fprintf(stderr, PROG ": --spawn: signer %u exited %d\n", i, st);
			rc = -1;
		}
	}
	if (s->prefix[0] != '\0')
		remove_eal_files(s->prefix);
	/* keep the logs of a failed run: they are the only record of why */
	if (s->dir[0] != '\0') {
		if (rc == 0)
			zcs_bench_rmtree(s->dir);
		else {
			/* throwaway keys, but keys: never left behind */
			snprintf(keys, sizeof(keys), "%s/keys", s->dir);
			zcs_bench_rmtree(keys);
			fprintf(stderr, PROG ": --spawn: logs kept in %s\n", s->dir);
		}
		s->dir[0] = '\0';
	}
	return rc;
}
