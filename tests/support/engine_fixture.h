/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fixture of the tests that run a whole engine (test_engine, later the
 * benchmark's tests): keys for N accounts over S shards from the real
 * zcsign-keygen, their manifest loaded with verify/verify.h (every signature is
 * checked against it), one zcsign-enclave per shard on a unix socket
 * (--idle backoff), an INI configuration, and a real zcsignd with hugepages
 * under its own --file-prefix (EAL telemetry off unless conf.telemetry), all
 * in a private /tmp/zcs-<tag>-XXXXXX.
 *
 * Contract, as in proc_util.h: every process started here is tied to the test
 * (proc_spawn_tied: it dies with the test process) and reaped by
 * engine_fixture_stop() (also after a failed start: engine_fixture_start()
 * cleans up itself, since cmocka runs no group teardown after a failed
 * setup); nothing waits without a deadline; and whatever zcsignd leaves
 * behind (its hugepage files /dev/hugepages/<prefix>map_*, its runtime
 * directory /var/run/dpdk/<prefix>) is removed after every zcsignd, also when
 * it crashed. engine_fixture_stop() is also the check: zcsignd must exit 0 on
 * SIGTERM and print totals that reconcile (submitted = signed + expired +
 * failed, nothing in flight), every signer must exit 0 (a
 * sanitizer report makes a program exit non-zero).
 *
 * In the DPDK part of the test-support library (zcs_test_dpdk_dep).
 */
#ifndef ZCS_TESTS_ENGINE_FIXTURE_H
#define ZCS_TESTS_ENGINE_FIXTURE_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before the first include: engine_fixture.h needs sched_getaffinity"
#endif
#include <dirent.h>
#include <sched.h>

#include <secp256k1.h>

#include <zcsign/shard.h>

#include "lcores.h"
#include "proc_util.h"
#include "shards.h"
#include "verify.h"

/* Shards a fixture runs (the tests use 2 and 4 on 2 CPUs). */
#define ENGINE_FIXTURE_MAX_SHARDS 8
/* zcsignd startup: EAL init with hugepages, then every worker launched. */
#define ENGINE_START_MS 30000
/*
 * zcsignd's --base-virtaddr: its shared memory must be free at the same address
 * in every secondary. DPDK's default (4 GiB) lies in AddressSanitizer's shadow,
 * so a sanitizer build falls back to an address next to the shared libraries,
 * where a secondary's own (randomized) mappings may already sit: "Cannot
 * reserve ... please use '--base-virtaddr'". 32 TiB is above ASan's shadow and
 * below its allocator and the mmap area, with or without a sanitizer.
 */
#define ENGINE_BASE_VIRTADDR "0x200000000000"
/* zcsignd stop: drain (drain_timeout_ms, 5 s by default), join, EAL cleanup. */
#define ENGINE_STOP_MS 30000

/* What to start. */
struct engine_fixture_conf {
	const char *tag; /* temp dir /tmp/zcs-<tag>-XXXXXX */
	const char *prefix; /* zcsignd's --file-prefix: unique per run (pid) */
	unsigned int shards; /* 1..ENGINE_FIXTURE_MAX_SHARDS */
	unsigned int accounts;
	const char *lcores; /* EAL --lcores: main lcore first, then one per shard */
	unsigned int mem_mb; /* EAL -m */
	const char *engine_ini; /* more [engine] lines ("key = value\n"...), or NULL */
	const char *shard_ini[ENGINE_FIXTURE_MAX_SHARDS]; /* more [shard.<i>] lines, or NULL */
	/* zcsign-enclave --attest of each shard's signer (e.g. "dev:DIR/NAME"), or NULL */
	const char *signer_attest[ENGINE_FIXTURE_MAX_SHARDS];
	/*
	 * Keep EAL telemetry on (default off: --no-telemetry, one thread and
	 * socket fewer); the start then also waits for the telemetry socket.
	 */
	bool telemetry;
	/*
	 * Keys sealed to operator_pub (zcsign-keygen --operator-pub; no
	 * plaintext file) and signers started sealed (--shard I/N, with their
	 * signer_attest): the test provisions them (zcsign-cli provision).
	 */
	bool sealed;
	const char *operator_pub;
};

/* zcsignd's last line: "zcsignd: stopped: submitted=.. signed=.. expired=.. failed=..
 * in_flight=..". */
struct engine_totals {
	uint64_t submitted;
	uint64_t signed_ok;
	uint64_t expired;
	uint64_t failed;
	uint64_t in_flight;
};

struct engine_fixture {
	char dir[64];
	char prefix[64];
	unsigned int shards;
	char manifest[PATH_MAX];
	char conf[PATH_MAX];
	char log[PATH_MAX]; /* zcsignd's stderr (its log and the final totals) */
	char keys[ENGINE_FIXTURE_MAX_SHARDS][PATH_MAX];
	char sock[ENGINE_FIXTURE_MAX_SHARDS][108];
	char signer_log[ENGINE_FIXTURE_MAX_SHARDS][PATH_MAX];
	pid_t signer[ENGINE_FIXTURE_MAX_SHARDS]; /* -1: not running */
	char signer_attest[ENGINE_FIXTURE_MAX_SHARDS][PATH_MAX]; /* --attest of each; "": none */
	bool sealed; /* signers start sealed: --shard I/N, no key file */
	pid_t pid; /* zcsignd; -1: not running */
	secp256k1_context *ctx; /* for zcs_verify() */
	struct zcs_manifest m;
};

/* DPDK's runtime directory of a file prefix (root: /var/run/dpdk/<prefix>). */
int engine_runtime_dir(char *out, size_t len, const char *prefix);

/* The EAL telemetry socket of a file prefix: <runtime dir>/dpdk_telemetry.v2. */
int engine_telemetry_sock(char *out, size_t len, const char *prefix);

/*
 * Remove what a primary with this prefix leaves behind: its hugepage files
 * (<prefix>map_<n>: the "map_" keeps zcs_e2e_1 from matching zcs_e2e_12's)
 * and its runtime directory. Only once no process of the prefix runs. Returns
 * the hugepage files it removed.
 */
unsigned int engine_eal_cleanup_files(const char *prefix);

/*
 * "--lcores=0@(a-b,...)": a secondary's one lcore on every CPU this process
 * may use. Pinning it (-l 0) would also pin every process it spawns later.
 */
int engine_client_lcores(char *out, size_t len);

/* Until every shard of the engine sh is UP (connected, HELLO checked); fails after ms. */
void engine_fixture_wait_up(const struct zcs_engine_shared *sh, unsigned int ms);

/*
 * Start (or restart, on the same socket path) the signer of shard i, tied to
 * this process (proc_spawn_tied), and wait until it listens.
 */
int engine_fixture_signer_start(struct engine_fixture *f, unsigned int i);

/* The INI file: [engine] with backoff poll and the extra lines, one [shard.<i>] per signer. */
int engine_fixture_write_conf(struct engine_fixture *f, const struct engine_fixture_conf *c);

/*
 * Start zcsignd and wait until it has started its engine: it prints one
 * "zcsignd: shard <i> -> ..." line per shard once every worker is launched
 * (the connections may still be coming up: the caller waits for state up),
 * and, with c->telemetry, until its telemetry socket exists.
 */
int engine_fixture_zcsignd_start(struct engine_fixture *f, const struct engine_fixture_conf *c);

/* Parse zcsignd's final totals line out of its log; 0 or -1 (no such line). */
int engine_fixture_totals(const struct engine_fixture *f, struct engine_totals *t);

/*
 * SIGTERM zcsignd: it must drain, exit 0 within ENGINE_STOP_MS, print its
 * totals (into *t, may be NULL) with nothing in flight, and leave no
 * sanitizer report. Its hugepages and runtime dir are removed whatever
 * happened. Returns 0 or -1 (with the log dumped).
 */
int engine_fixture_zcsignd_stop(struct engine_fixture *f, struct engine_totals *t);

/* SIGTERM every signer still running: each must exit 0. Returns 0 or -1. */
int engine_fixture_signers_stop(struct engine_fixture *f);

/*
 * Stop everything: zcsignd (checked as engine_fixture_zcsignd_stop, totals
 * into *t), then the signers, then remove the directory. Returns 0 or -1.
 */
int engine_fixture_stop(struct engine_fixture *f, struct engine_totals *t);

int engine_fixture_setup(struct engine_fixture *f, const struct engine_fixture_conf *c);

/*
 * Keys, signers, configuration and a started zcsignd. Returns 0, or -1 with
 * everything made so far stopped and removed again.
 */
int engine_fixture_start(struct engine_fixture *f, const struct engine_fixture_conf *c);

/* The i-th account of the manifest that lives on shard (wrapping); the manifest is sorted. */
const struct zcs_manifest_account *engine_fixture_account_on(
	const struct engine_fixture *f, unsigned int shard, unsigned int i);

/* An account no signer holds, on shard: above the manifest's largest (it is sorted). */
uint64_t engine_fixture_unknown_account(const struct engine_fixture *f, unsigned int shard);

/* This process as a client of a running zcsignd (engine_client_start()). */
struct engine_client {
	bool eal; /* the secondary EAL is up */
	struct zcs_engine_shared *sh;
	struct zcs_client *cl;
};

/*
 * engine_fixture_secondary(name, prefix), then the engine's shared state and
 * a client slot named name. Returns 0, or -1 (call engine_client_stop()
 * either way).
 */
int engine_client_start(struct engine_client *c, const char *name, const char *prefix);

/* Detach and clean the secondary EAL up: it must not outlive its primary. */
void engine_client_stop(struct engine_client *c);

/*
 * The usual end-to-end group: zcsignd with its signers (f, from c) and this
 * process as its client (ec). engine_group_conf() fills c with the common
 * settings (prefix zcs_<tag>_<pid>, main lcore then one per shard, 128 MB,
 * pool_size 8191, ring_size 1024, client_slots 4); the test adds its own,
 * then engine_group_start(). engine_group_stop() is the group teardown, safe
 * on a group that did not start.
 */
struct engine_group {
	struct engine_fixture f;
	struct engine_fixture_conf c;
	struct engine_client ec;
	char prefix[64];
	char lcores[128];
};

#define ENGINE_GROUP_INI "pool_size = 8191\nring_size = 1024\nclient_slots = 4\n"

/* Zero g and fill g->c for shards and accounts. 0, or -1 (no lcore map). */
int engine_group_conf(
	struct engine_group *g, const char *tag, unsigned int shards, unsigned int accounts);

/* zcsignd, its signers, then the client named client. 0, or -1 after engine_group_stop(). */
int engine_group_start(struct engine_group *g, const char *client);

/* Client first (a secondary must not outlive its primary), then zcsignd and signers. */
int engine_group_stop(struct engine_group *g);

/*
 * This process as a DPDK secondary of the zcsignd under file prefix prefix
 * (its lcores floating over our CPUs, no PCI, no telemetry, EAL errors only).
 * Returns 0, or -1 with the EAL's reason on stderr.
 */
int engine_fixture_secondary(const char *name, const char *prefix);

/*
 * Sign through client cl: n[s] requests on each shard s < nshards (accounts
 * engine_fixture_account_on(f, s, first + i) for the i-th request overall,
 * algorithm algos[i % nalgos], random hashes), then wait up to wait_ms for
 * every completion: each must be ZCS_OK and verify against the manifest
 * (cmocka failure otherwise).
 */
void engine_fixture_sign_verified(const struct engine_fixture *f, struct zcs_client *cl,
	const unsigned int *n, unsigned int nshards, const unsigned int *algos, unsigned int nalgos,
	unsigned int first, unsigned int wait_ms);

#endif /* ZCS_TESTS_ENGINE_FIXTURE_H */
