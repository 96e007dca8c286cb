/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Poll modes: how a busy-polling loop spends its idle iterations.
 *
 * One enum for every poller of zcsign: zcsignd's shard workers (`poll =` in
 * the engine config, `--poll`), the signer (`zcsign-enclave --idle`) and the
 * load generator (`zcsign-bench --yield`). docs/TUNING.md says which mode
 * fits which core layout.
 */
#ifndef ZCSIGN_POLL_H
#define ZCSIGN_POLL_H

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Poll modes. Every value names a mode; anything else is refused. */
enum zcs_poll_mode {
	ZCS_POLL_SPIN = 0, /**< pure busy-poll: production, isolated cores */
	ZCS_POLL_BACKOFF = 1, /**< spin, then short sleeps when idle: shared cores, tests */
	/**
	 * busy-poll, sched_yield() after every idle iteration: several pollers
	 * on one core (workers, a signer, a gateway) hand it to each other in a
	 * context switch instead of sleeping and being woken
	 */
	ZCS_POLL_YIELD = 2,
};

/** Number of poll modes (for range checks). */
#define ZCS_POLL_MODES 3

/** "spin", "backoff", "yield"; NULL for anything else. The one name table, used both ways. */
static inline const char *
zcs_poll_mode_name(int mode)
{
	static const char *const names[ZCS_POLL_MODES] = {
		[ZCS_POLL_SPIN] = "spin",
		[ZCS_POLL_BACKOFF] = "backoff",
		[ZCS_POLL_YIELD] = "yield",
	};

	return mode >= 0 && mode < ZCS_POLL_MODES ? names[mode] : NULL;
}

/** The mode named name (as zcs_poll_mode_name() spells it), or -1 (NULL included). */
static inline int
zcs_poll_mode_parse(const char *name)
{
	int m;

	for (m = 0; name != NULL && m < ZCS_POLL_MODES; m++)
		if (strcmp(name, zcs_poll_mode_name(m)) == 0)
			return m;
	return -1;
}

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_POLL_H */
