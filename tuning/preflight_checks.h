/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host checks of zcsign-preflight, kept apart from its main so the tests can
 * run them against fake /proc and /sys trees.
 *
 * Contract: every check reads only files under ctx->root (a prefix, "" for
 * the host itself), never writes, and fills exactly one struct zcs_pf_check:
 *   PASS  the host does what a busy-polling worker core needs;
 *   WARN  it costs some jitter, is a trade-off, or could not be read;
 *   FAIL  it will interrupt the worker cores: fix it before trading.
 * A file that cannot be read gives WARN "could not read PATH", never FAIL,
 * so the tool runs without root. The NUMA check asks libnuma on the host
 * itself and reads ROOT/sys/devices/system/node under a fixture root.
 */
#ifndef ZCS_TUNING_PREFLIGHT_CHECKS_H
#define ZCS_TUNING_PREFLIGHT_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpuset.h"

#define ZCS_PF_TEXT 512

/* Exit latency (us) above which an enabled idle state counts as deep. */
#define ZCS_PF_CSTATE_MAX_US 2

enum zcs_pf_verdict {
	ZCS_PF_PASS = 0,
	ZCS_PF_WARN = 1,
	ZCS_PF_FAIL = 2,
};

struct zcs_pf_check {
	const char *name;
	enum zcs_pf_verdict verdict;
	char found[ZCS_PF_TEXT];
	char fix[ZCS_PF_TEXT];
};

struct zcs_pf_ctx {
	char root[256]; /* prefix of every /proc and /sys path; "" for the host */
	struct zcs_cpuset cores; /* the worker cores */
	char cmdline[4096]; /* /proc/cmdline, "" when unreadable */
	bool cmdline_ok;
	bool use_libnuma; /* ask libnuma (root "" only) instead of ROOT/sys/.../node */
};

/**
 * Value of a kernel parameter on a command line ("key=value" or bare "key";
 * the last one wins; arguments after "--" belong to init and are ignored).
 * @return 1 with the value in val ("" for a bare key), 0 when absent.
 */
int zcs_pf_cmdline_get(const char *cmdline, const char *key, char *val, size_t len);

/**
 * CPU list of an isolcpus= value: flags (nohz, domain, managed_irq) dropped.
 * @param managed_irq set when the managed_irq flag is present (may be NULL)
 * @return 0 or -EINVAL.
 */
int zcs_pf_isolcpus_parse(struct zcs_cpuset *s, bool *managed_irq, const char *val);

/**
 * Worker cores of a zcsignd INI config: the lcore = N of every [shard.<i>].
 * The file is read as zcsignd reads it (engine/ini.h): a file zcsignd refuses
 * for its syntax is refused here too, naming the same line.
 * @return 0; -ENOENT (cannot open), -EINVAL (bad syntax, a shard without
 *   lcore, a bad number, no shard), -ENOMEM, with one line in err naming the
 *   file, and the line or the section.
 */
int zcs_pf_cores_from_config(struct zcs_cpuset *s, const char *path, char *err, size_t errlen);

/**
 * The online CPUs (ROOT/sys/devices/system/cpu/online), its text in buf.
 * @return 0, -errno (unreadable), or -EINVAL (not a CPU list).
 */
int zcs_pf_online(const struct zcs_pf_ctx *ctx, struct zcs_cpuset *online, char *buf, size_t len);

/** Read ROOT/proc/cmdline into ctx (call once after setting root). */
void zcs_pf_ctx_load(struct zcs_pf_ctx *ctx);

/**
 * Read ROOT/path into buf, NUL-terminated, trailing newlines stripped.
 * @return 0 or -errno (-EFBIG when it does not fit).
 */
int zcs_pf_read(const struct zcs_pf_ctx *ctx, const char *path, char *buf, size_t len);

typedef void (*zcs_pf_check_fn)(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);

struct zcs_pf_check_def {
	const char *name;
	zcs_pf_check_fn fn;
};

/** Every check in report order; zcs_pf_nchecks entries. */
extern const struct zcs_pf_check_def zcs_pf_checks[];
extern const unsigned int zcs_pf_nchecks;

/** Run the check called name. @return 0, or -ENOENT (no such check). */
int zcs_pf_run_one(const struct zcs_pf_ctx *ctx, const char *name, struct zcs_pf_check *r);

/** Run every check into r[zcs_pf_nchecks]. @return the worst verdict. */
enum zcs_pf_verdict zcs_pf_run_all(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r);

const char *zcs_pf_verdict_name(enum zcs_pf_verdict v);

/**
 * The kernel command line additions for the worker cores (one line, no
 * newline), with irqaffinity= the remaining online CPUs.
 * @return 0; -EINVAL when the cores leave no housekeeping CPU (err says so),
 *   -EIO when ROOT/sys/devices/system/cpu/online is unreadable.
 */
int zcs_pf_suggest_cmdline(
	const struct zcs_pf_ctx *ctx, char *out, size_t len, char *err, size_t errlen);

#endif /* ZCS_TUNING_PREFLIGHT_CHECKS_H */
