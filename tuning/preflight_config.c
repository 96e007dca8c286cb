/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker cores of a zcsignd configuration (contract in preflight_checks.h).
 * The file is read by zcsignd's own reader (engine/ini.h), so zcsign-preflight
 * refuses every file zcsignd refuses for its syntax, naming the same line.
 * Only the lcore = N of the [shard.<i>] sections is looked at here: the other
 * keys and the shard numbering are zcsignd's to check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"
#include "num.h"
#include "preflight_checks.h"

#define SHARD_PREFIX "shard."

/*
 * The lcore = N entries of the shard section idx into s.
 * @return 1, 0 when it has none, or -EINVAL (err says which line).
 */
static int
shard_lcores(const struct zcs_ini *ini, int idx, const char *sec, const struct rte_cfgfile_entry *e,
	int n, struct zcs_cpuset *s, char *err, size_t errlen)
{
	int found = 0;
	uint64_t cpu;

	for (int i = 0; i < n; i++) {
		if (strcmp(e[i].name, "lcore") != 0)
			continue;
		/* As strict as the engine (engine/conf.c): no leading zero either. */
		if (zcs_parse_u64(e[i].value, ZCS_CPUSET_MAX - 1, &cpu) != 0 ||
			(e[i].value[0] == '0' && e[i].value[1] != '\0')) {
			snprintf(err, errlen,
				"config %s line %u: [%s] lcore = '%s' is not a CPU number",
				ini->path, zcs_ini_line(ini, idx, i), sec, e[i].value);
			return -EINVAL;
		}
		zcs_cpuset_set(s, (unsigned int)cpu);
		found = 1;
	}
	return found;
}

/* Every [shard.<i>], in file order: each must name its lcore. */
static int
walk(const struct zcs_ini *ini, struct zcs_cpuset *s, char *err, size_t errlen)
{
	int nsec = zcs_ini_sections(ini), shards = 0;

	for (int idx = 0; idx < nsec; idx++) {
		struct rte_cfgfile_entry *e;
		char sec[CFG_NAME_LEN];
		int n = zcs_ini_section(ini, idx, sec, &e), rc = 1;

		if (n == -EINVAL)
			snprintf(err, errlen, "config %s: section %d unreadable", ini->path, idx);
		if (n < 0)
			return n;
		if (strncmp(sec, SHARD_PREFIX, strlen(SHARD_PREFIX)) == 0) {
			shards++;
			rc = shard_lcores(ini, idx, sec, e, n, s, err, errlen);
		}
		free(e);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			snprintf(err, errlen,
				"config %s: [%s] has no lcore = N (zcsignd picks it at start); "
				"pass "
				"--cores",
				ini->path, sec);
			return -EINVAL;
		}
	}
	if (shards == 0) {
		snprintf(err, errlen, "config %s: no [shard.<i>] section", ini->path);
		return -EINVAL;
	}
	return 0;
}

int
zcs_pf_cores_from_config(struct zcs_cpuset *s, const char *path, char *err, size_t errlen)
{
	struct zcs_ini ini;
	char ierr[384];
	int rc;

	zcs_cpuset_zero(s);
	rc = zcs_ini_load(&ini, path, ierr, sizeof(ierr));
	if (rc != 0) {
		snprintf(err, errlen, "config %s", ierr);
		/* anything but content or memory: the file could not be opened */
		return rc == -EINVAL || rc == -ENOMEM ? rc : -ENOENT;
	}
	rc = walk(&ini, s, err, errlen);
	zcs_ini_free(&ini);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "config %s: out of memory", path);
	return rc;
}
