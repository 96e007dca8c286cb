/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks of memory: transparent hugepages (compaction stalls), reserved and
 * mounted hugepages, the worker cores on one NUMA node with hugepages there,
 * and swap. Contract in preflight_checks.h; the why of each fix in
 * docs/TUNING.md.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <numa.h>

#include "num.h"
#include "preflight_internal.h"

void
zcs_pf_check_thp(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	static const char fix[] = "echo never > /sys/kernel/mm/transparent_hugepage/enabled "
				  "(boot: transparent_hugepage=never)";
	char buf[128];
	int ret = zcs_pf_read(ctx, "/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf));

	if (ret < 0)
		return zcs_pf_unreadable(
			ctx, r, "/sys/kernel/mm/transparent_hugepage/enabled", ret);
	if (strstr(buf, "[always]") != NULL)
		return zcs_pf_verdict(r, ZCS_PF_FAIL, fix,
			"THP always: page faults may compact memory and khugepaged scans every "
			"process (%s)",
			buf);
	if (strstr(buf, "[madvise]") != NULL)
		return zcs_pf_verdict(r, ZCS_PF_WARN, fix,
			"THP madvise: only processes that ask get them, but those may stall in "
			"compaction (%s)",
			buf);
	if (strstr(buf, "[never]") != NULL)
		return zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "THP never (%s)", buf);
	zcs_pf_verdict(r, ZCS_PF_WARN, fix, "cannot tell the THP mode from '%s'", buf);
}

/* value of "Key:   123 kB" in meminfo text, or -1 */
static long long
meminfo_get(const char *text, const char *key)
{
	const char *p = text;
	size_t klen = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			const char *num = p + klen + 1 + strspn(p + klen + 1, " \t");
			uint64_t v;

			if (zcs_parse_u64_n(num, strspn(num, "0123456789"), INT64_MAX, &v) != 0)
				return -1;
			return (long long)v;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* mount point of the first hugetlbfs in ROOT/proc/mounts into mnt; 0, -ENOENT, -errno */
static int
hugetlbfs_mount(const struct zcs_pf_ctx *ctx, char *mnt, size_t len)
{
	char path[PATH_MAX], line[1024];
	FILE *f;
	int ret = -ENOENT;

	zcs_pf_path(ctx, "/proc/mounts", path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char dev[256], dir[512], type[64];

		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 &&
			strcmp(type, "hugetlbfs") == 0) {
			snprintf(mnt, len, "%s", dir);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

void
zcs_pf_check_hugepages(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	static const char fix[] = "tuning/hugepages.sh 512 (as root), or hugepages=512 on the "
				  "cmdline and a hugetlbfs mount in /etc/fstab";
	char buf[8192], mnt[512];
	long long total, free_, size;
	int ret = zcs_pf_read(ctx, "/proc/meminfo", buf, sizeof(buf));

	if (ret < 0)
		return zcs_pf_unreadable(ctx, r, "/proc/meminfo", ret);
	total = meminfo_get(buf, "HugePages_Total");
	free_ = meminfo_get(buf, "HugePages_Free");
	size = meminfo_get(buf, "Hugepagesize");
	if (total < 0 || free_ < 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN, fix, "no HugePages_* lines in /proc/meminfo");
	if (total == 0)
		return zcs_pf_verdict(
			r, ZCS_PF_FAIL, fix, "no hugepages reserved (HugePages_Total 0)");
	if (free_ == 0)
		return zcs_pf_verdict(
			r, ZCS_PF_FAIL, fix, "all %lld hugepages in use (HugePages_Free 0)", total);
	ret = hugetlbfs_mount(ctx, mnt, sizeof(mnt));
	if (ret == -ENOENT)
		return zcs_pf_verdict(r, ZCS_PF_FAIL, fix,
			"%lld x %lld kB reserved, %lld free, no hugetlbfs "
			"mounted",
			total, size, free_);
	if (ret < 0)
		return zcs_pf_unreadable(ctx, r, "/proc/mounts", ret);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "%lld x %lld kB reserved, %lld free, hugetlbfs at %s",
		total, size, free_, mnt);
}

/* node of a CPU from ROOT/sys/devices/system/node/node<N>/cpulist, or -1 */
static int
sysfs_node_of_cpu(const struct zcs_pf_ctx *ctx, unsigned int cpu, unsigned int *nnodes)
{
	char path[96], buf[1024];
	struct zcs_cpuset set;
	int node = -1;

	*nnodes = 0;
	for (unsigned int n = 0; n < 1024; n++) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", n);
		if (zcs_pf_read(ctx, path, buf, sizeof(buf)) < 0)
			break;
		(*nnodes)++;
		if (zcs_cpuset_parse(&set, buf) == 0 && zcs_cpuset_isset(&set, cpu))
			node = (int)n;
	}
	return node;
}

void
zcs_pf_check_numa(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char list[256], path[128], nodes[128] = "";
	unsigned int nnodes = 0, seen = 0;
	unsigned long long hp_free = 0, hp;
	int first = -1, node;
	bool split = false;
	size_t off = 0;
	DIR *d;
	struct dirent *de;
	char dir[PATH_MAX];

	zcs_cpuset_format(list, sizeof(list), &ctx->cores);
	if (ctx->use_libnuma && numa_available() < 0)
		return zcs_pf_verdict(
			r, ZCS_PF_PASS, NULL, "no NUMA (libnuma: not available): one node");
	for (unsigned int c = 0; c < ZCS_CPUSET_MAX; c++) {
		if (!zcs_cpuset_isset(&ctx->cores, c))
			continue;
		if (ctx->use_libnuma) {
			node = numa_node_of_cpu((int)c);
			nnodes = (unsigned int)numa_num_configured_nodes();
		} else {
			node = sysfs_node_of_cpu(ctx, c, &nnodes);
		}
		if (node < 0)
			return zcs_pf_verdict(r, ZCS_PF_WARN, "check /sys/devices/system/node",
				"could not find the NUMA node of cpu %u", c);
		if (first < 0)
			first = node;
		if (node != first)
			split = true;
		zcs_pf_appendf(
			nodes, sizeof(nodes), &off, "%scpu%u:node%d", off ? " " : "", c, node);
		seen++;
	}
	if (seen == 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN, "pass --cores", "no cores to place");
	if (split)
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"pick worker cores on one node (the node of the NIC and the hugepages)",
			"cores on several nodes: %s", nodes);
	/* hugepages free on the cores' node */
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages", first);
	zcs_pf_path(ctx, path, dir, sizeof(dir));
	d = opendir(dir);
	if (d == NULL)
		return zcs_pf_verdict(r, ZCS_PF_WARN, "run as root, or check the node's hugepages",
			"cores on node %d of %u (%s); could not read %s", first, nnodes, nodes,
			dir);
	while ((de = readdir(d)) != NULL) {
		char p[400];

		if (strncmp(de->d_name, "hugepages-", 10) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s/free_hugepages", path, de->d_name);
		if (zcs_pf_read_u64(ctx, p, &hp) == 0)
			hp_free += hp;
	}
	closedir(d);
	if (hp_free == 0)
		return zcs_pf_verdict(r, ZCS_PF_FAIL,
			"reserve hugepages on that node: echo N > "
			"/sys/devices/system/node/nodeX/hugepages/hugepages-2048kB/nr_hugepages",
			"cores on node %d of %u, but no free hugepage on node %d", first, nnodes,
			first);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "cores on node %d of %u, %llu free hugepages there",
		first, nnodes, hp_free);
}

void
zcs_pf_check_swap(const struct zcs_pf_ctx *ctx, struct zcs_pf_check *r)
{
	char buf[4096], first[256] = "";
	unsigned int n = 0;
	const char *p;
	int ret = zcs_pf_read(ctx, "/proc/swaps", buf, sizeof(buf));

	if (ret < 0)
		return zcs_pf_unreadable(ctx, r, "/proc/swaps", ret);
	p = strchr(buf, '\n'); /* skip the header */
	while (p != NULL && *++p != '\0') {
		if (n++ == 0)
			sscanf(p, "%255s", first);
		p = strchr(p, '\n');
	}
	if (n > 0)
		return zcs_pf_verdict(r, ZCS_PF_WARN,
			"swapoff -a and drop swap from /etc/fstab (zcsign's hot memory is "
			"hugepages, "
			"but the gateway's is not)",
			"%u swap area(s) active (%s)", n, first);
	zcs_pf_verdict(r, ZCS_PF_PASS, NULL, "no swap");
}
