/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: see engine_fixture.h. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <sys/random.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <zcsign/client.h>

#include "engine_fixture.h"

int
engine_runtime_dir(char *out, size_t len, const char *prefix)
{
	const char *base = "/var/run";
	int n;

	if (getuid() != 0) {
		base = getenv("XDG_RUNTIME_DIR");
		if (base == NULL || base[0] == '\0')
			base = "/tmp";
	}
	n = snprintf(out, len, "%s/dpdk/%s", base, prefix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
engine_telemetry_sock(char *out, size_t len, const char *prefix)
{
	char dir[PATH_MAX];

	return engine_runtime_dir(dir, sizeof(dir), prefix) != 0 ||
			proc_path(out, len, dir, "dpdk_telemetry.v2") != 0
		? -1
		: 0;
}

unsigned int
engine_eal_cleanup_files(const char *prefix)
{
	char want[96], path[PATH_MAX];
	struct dirent *d;
	unsigned int removed = 0;
	DIR *dir;

	if (prefix == NULL || prefix[0] == '\0')
		return 0;
	snprintf(want, sizeof(want), "%smap_", prefix);
	dir = opendir("/dev/hugepages");
	if (dir != NULL) {
		while ((d = readdir(dir)) != NULL)
			if (strncmp(d->d_name, want, strlen(want)) == 0 &&
				proc_path(path, sizeof(path), "/dev/hugepages", d->d_name) == 0)
				removed += unlink(path) == 0;
		closedir(dir);
	}
	if (engine_runtime_dir(path, sizeof(path), prefix) == 0)
		proc_rmtree(path);
	return removed;
}

int
engine_client_lcores(char *out, size_t len)
{
	int n = snprintf(out, len, "--lcores=");

	return n < 0 || (size_t)n >= len ? -1 : zcs_lcores_map(out + n, len - (size_t)n, 0, 0);
}

void
engine_fixture_wait_up(const struct zcs_engine_shared *sh, unsigned int ms)
{
	uint64_t deadline = proc_now_ns() + (uint64_t)ms * 1000000u;
	struct zcs_shard_info si;
	unsigned int i, up;

	for (;;) {
		for (i = 0, up = 0; zcs_shard_info(sh, i, &si) == 0; i++)
			up += si.state == ZCS_SHARD_UP;
		if (up == sh->shard_count)
			return;
		if (proc_now_ns() > deadline)
			fail_msg("only %u of %u shards up after %u ms", up, sh->shard_count, ms);
		proc_sleep_ms(5);
	}
}

int
engine_fixture_signer_start(struct engine_fixture *f, unsigned int i)
{
	char prog[PATH_MAX], listen[160], shard[16];
	char *argv[] = {prog, (char *)"--listen", listen, (char *)"--insecure-dev-keys", f->keys[i],
		(char *)"--idle", (char *)"backoff", (char *)"--attest", f->signer_attest[i], NULL};

	f->signer[i] = -1;
	if (f->sealed) {
		snprintf(shard, sizeof(shard), "%u/%u", i, f->shards);
		argv[3] = (char *)"--shard";
		argv[4] = shard;
	}
	if (f->signer_attest[i][0] == '\0')
		argv[7] = NULL; /* no --attest */
	if (proc_build_path(prog, sizeof(prog), "enclave/zcsign-enclave") != 0 ||
		proc_unix_arg(listen, sizeof(listen), f->sock[i]) != 0)
		return -1;
	f->signer[i] = proc_spawn_tied(argv, f->signer_log[i], f->signer_log[i]);
	if (f->signer[i] < 0)
		return -1;
	if (proc_wait_listen(f->sock[i], f->signer[i], PROC_START_MS) != 0) {
		proc_stop(f->signer[i], SIGKILL, PROC_STOP_MS, NULL);
		f->signer[i] = -1;
		proc_dump_log("signer", f->signer_log[i]);
		return -1;
	}
	return 0;
}

int
engine_fixture_write_conf(struct engine_fixture *f, const struct engine_fixture_conf *c)
{
	char text[8192];
	size_t off;
	unsigned int i;
	int n;

	n = snprintf(text, sizeof(text),
		"# %s: written by engine_fixture.h\n[engine]\nshards = %u\n"
		"poll = backoff\n%s",
		c->tag, c->shards, c->engine_ini != NULL ? c->engine_ini : "");
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	off = (size_t)n;
	for (i = 0; i < c->shards; i++) {
		n = snprintf(text + off, sizeof(text) - off, "[shard.%u]\nsigner = unix:%s\n%s", i,
			f->sock[i], c->shard_ini[i] != NULL ? c->shard_ini[i] : "");
		if (n < 0 || (size_t)n >= sizeof(text) - off)
			return -1;
		off += (size_t)n;
	}
	return proc_write_file(f->conf, text, off, 0600);
}

int
engine_fixture_zcsignd_start(struct engine_fixture *f, const struct engine_fixture_conf *c)
{
	char prog[PATH_MAX], prefix[80], lcores[128], mem[16], ready[32], sock[PATH_MAX];
	char *argv[] = {prog, prefix, (char *)"--no-pci", (char *)"-m", mem, lcores,
		(char *)"--base-virtaddr=" ENGINE_BASE_VIRTADDR,
		(char *)"--log-level=lib.eal:error", (char *)"--no-telemetry", (char *)"--",
		(char *)"--config", f->conf, (char *)"--poll", (char *)"backoff", NULL};
	uint64_t deadline = proc_now_ns() + (uint64_t)ENGINE_START_MS * 1000000u;
	bool started = false;
	size_t i;

	if (proc_build_path(prog, sizeof(prog), "engine/zcsignd") != 0 ||
		engine_telemetry_sock(sock, sizeof(sock), f->prefix) != 0)
		return -1;
	/* Telemetry on: drop --no-telemetry, the rest moves up one. */
	for (i = 0; c->telemetry && argv[i] != NULL; i++)
		if (strcmp(argv[i], "--no-telemetry") == 0)
			memmove(&argv[i], &argv[i + 1], sizeof(argv) - (i + 1) * sizeof(argv[0]));
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s", f->prefix);
	snprintf(lcores, sizeof(lcores), "--lcores=%s", c->lcores);
	snprintf(mem, sizeof(mem), "%u", c->mem_mb);
	snprintf(ready, sizeof(ready), "zcsignd: shard %u -> ", c->shards - 1);
	/* A crashed zcsignd of an earlier run must not leave its pages in our way. */
	engine_eal_cleanup_files(f->prefix);
	/* stdout too: an inherited test-runner pipe would keep the runner waiting. */
	f->pid = proc_spawn_tied(argv, f->log, f->log);
	if (f->pid < 0)
		return -1;
	while (proc_now_ns() < deadline) {
		started = started || proc_file_contains(f->log, ready);
		if (started && (!c->telemetry || access(sock, F_OK) == 0))
			return 0;
		if (!proc_alive(f->pid)) {
			f->pid = -1;
			fprintf(stderr, "zcsignd exited during startup\n");
			proc_dump_log("zcsignd", f->log);
			return -1;
		}
		proc_sleep_ms(10);
	}
	fprintf(stderr, "zcsignd did not start%s within %d ms\n",
		c->telemetry ? " (or open its telemetry socket)" : "", ENGINE_START_MS);
	proc_dump_log("zcsignd", f->log);
	return -1;
}

int
engine_fixture_totals(const struct engine_fixture *f, struct engine_totals *t)
{
	static char text[262144];
	const char *p, *last = NULL;

	if (proc_read_file(f->log, text, sizeof(text)) < 0)
		return -1;
	for (p = text; (p = strstr(p, "zcsignd: stopped: ")) != NULL; p++)
		last = p;
	if (last == NULL)
		return -1;
	return sscanf(last,
		       "zcsignd: stopped: submitted=%" SCNu64 " signed=%" SCNu64 " expired=%" SCNu64
		       " failed=%" SCNu64 " in_flight=%" SCNu64,
		       &t->submitted, &t->signed_ok, &t->expired, &t->failed, &t->in_flight) == 5
		? 0
		: -1;
}

int
engine_fixture_zcsignd_stop(struct engine_fixture *f, struct engine_totals *t)
{
	struct engine_totals tot;
	static char text[262144];
	unsigned int left;
	int st = 0, rc = 0;

	if (f->pid <= 0)
		return 0;
	if (proc_stop(f->pid, SIGTERM, ENGINE_STOP_MS, &st) != 0 || !proc_exited_ok(st)) {
		fprintf(stderr, "zcsignd did not exit 0 on SIGTERM (status 0x%x)\n", st);
		rc = -1;
	}
	f->pid = -1;
	/* A clean stop removes zcsignd's own hugepage files (engine/main.c). */
	left = engine_eal_cleanup_files(f->prefix);
	if (rc == 0 && left != 0) {
		fprintf(stderr, "zcsignd left %u hugepage files behind after a clean stop\n", left);
		rc = -1;
	}
	if (rc == 0 && engine_fixture_totals(f, &tot) != 0) {
		fprintf(stderr, "zcsignd printed no totals line\n");
		rc = -1;
	}
	if (rc == 0 && tot.in_flight != 0) {
		fprintf(stderr, "zcsignd stopped with %" PRIu64 " in flight\n", tot.in_flight);
		rc = -1;
	}
	/* every accepted request, of every client that came and went, completed once */
	if (rc == 0 && tot.submitted != tot.signed_ok + tot.expired + tot.failed) {
		fprintf(stderr,
			"zcsignd totals do not reconcile: submitted=%" PRIu64 " signed=%" PRIu64
			" expired=%" PRIu64 " failed=%" PRIu64 "\n",
			tot.submitted, tot.signed_ok, tot.expired, tot.failed);
		rc = -1;
	}
	if (rc == 0 && proc_read_file(f->log, text, sizeof(text)) >= 0 &&
		proc_sanitizer_report(text))
		rc = -1;
	if (rc != 0)
		proc_dump_log("zcsignd", f->log);
	else if (t != NULL)
		*t = tot;
	return rc;
}

int
engine_fixture_signers_stop(struct engine_fixture *f)
{
	unsigned int i;
	int st, rc = 0;

	for (i = 0; i < f->shards; i++) {
		if (f->signer[i] <= 0)
			continue;
		/* A test that stopped it (SIGSTOP) and failed before SIGCONT. */
		kill(f->signer[i], SIGCONT);
		st = 0;
		if (proc_stop(f->signer[i], SIGTERM, PROC_STOP_MS, &st) != 0 ||
			!proc_exited_ok(st)) {
			fprintf(stderr, "signer %u did not exit 0 on SIGTERM (status 0x%x)\n", i,
				st);
			proc_dump_log("signer", f->signer_log[i]);
			rc = -1;
		}
		f->signer[i] = -1;
	}
	return rc;
}

int
engine_fixture_stop(struct engine_fixture *f, struct engine_totals *t)
{
	int rc = engine_fixture_zcsignd_stop(f, t);

	if (engine_fixture_signers_stop(f) != 0)
		rc = -1;
	if (f->dir[0] != '\0')
		proc_rmtree(f->dir);
	f->dir[0] = '\0';
	zcs_manifest_free(&f->m);
	if (f->ctx != NULL)
		secp256k1_context_destroy(f->ctx);
	f->ctx = NULL;
	return rc;
}

int
engine_fixture_setup(struct engine_fixture *f, const struct engine_fixture_conf *c)
{
	char err[512], name[32], dir[sizeof(f->dir)];
	unsigned int i;

	if (c->shards == 0 || c->shards > ENGINE_FIXTURE_MAX_SHARDS)
		return -1;
	for (i = 0; i < c->shards; i++)
		snprintf(f->signer_attest[i], sizeof(f->signer_attest[i]), "%s",
			c->signer_attest[i] != NULL ? c->signer_attest[i] : "");
	f->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (f->ctx == NULL || proc_tmpdir(f->dir, sizeof(f->dir), c->tag) != 0)
		return -1;
	if (proc_path(f->manifest, sizeof(f->manifest), f->dir, "manifest.json") != 0 ||
		proc_path(f->conf, sizeof(f->conf), f->dir, "zcsignd.ini") != 0 ||
		proc_path(f->log, sizeof(f->log), f->dir, "zcsignd.log") != 0)
		return -1;
	/* A copy: gcc cannot tell that f->dir and f->keys[i] do not overlap (-Wrestrict). */
	memcpy(dir, f->dir, sizeof(dir));
	for (i = 0; i < c->shards; i++) {
		snprintf(name, sizeof(name), "shard-%u.keys", i);
		if (proc_path(f->keys[i], sizeof(f->keys[i]), dir, name) != 0)
			return -1;
		snprintf(name, sizeof(name), "s%u.sock", i);
		if (proc_path(f->sock[i], sizeof(f->sock[i]), dir, name) != 0)
			return -1;
		snprintf(name, sizeof(name), "signer-%u.log", i);
		if (proc_path(f->signer_log[i], sizeof(f->signer_log[i]), dir, name) != 0)
			return -1;
	}
	f->sealed = c->sealed;
	if ((c->sealed ? proc_keygen_sealed(f->dir, c->accounts, c->shards, c->operator_pub)
		       : proc_keygen(f->dir, c->accounts, c->shards)) != 0) {
		fprintf(stderr, "zcsign-keygen failed\n");
		return -1;
	}
	if (zcs_manifest_load(&f->m, err, sizeof(err), f->manifest) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (f->m.count != c->accounts || f->m.shards != c->shards)
		return -1;
	for (i = 0; i < c->shards; i++)
		if (engine_fixture_signer_start(f, i) != 0)
			return -1;
	if (engine_fixture_write_conf(f, c) != 0)
		return -1;
	return engine_fixture_zcsignd_start(f, c);
}

int
engine_fixture_start(struct engine_fixture *f, const struct engine_fixture_conf *c)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->pid = -1;
	f->shards = c->shards;
	for (i = 0; i < ENGINE_FIXTURE_MAX_SHARDS; i++)
		f->signer[i] = -1;
	snprintf(f->prefix, sizeof(f->prefix), "%s", c->prefix);
	if (engine_fixture_setup(f, c) == 0)
		return 0;
	if (f->pid > 0)
		proc_stop(f->pid, SIGKILL, PROC_STOP_MS, NULL);
	f->pid = -1;
	engine_eal_cleanup_files(f->prefix);
	engine_fixture_stop(f, NULL);
	return -1;
}

const struct zcs_manifest_account *
engine_fixture_account_on(const struct engine_fixture *f, unsigned int shard, unsigned int i)
{
	size_t k, seen = 0, total = 0;

	for (k = 0; k < f->m.count; k++)
		total += f->m.accounts[k].shard == shard;
	if (total == 0)
		return NULL;
	i = (unsigned int)(i % total);
	for (k = 0; k < f->m.count; k++)
		if (f->m.accounts[k].shard == shard && seen++ == i)
			return &f->m.accounts[k];
	return NULL;
}

uint64_t
engine_fixture_unknown_account(const struct engine_fixture *f, unsigned int shard)
{
	uint64_t a = f->m.accounts[f->m.count - 1].account + 1;

	while (zcs_shard_of(a, f->shards) != shard)
		a++;
	return a;
}

int
engine_fixture_secondary(const char *name, const char *prefix)
{
	char pfx[96], lcores[256];
	char *argv[] = {(char *)name, (char *)"--proc-type=secondary", pfx, (char *)"--no-pci",
		lcores, (char *)"--no-telemetry", (char *)"--log-level=lib.eal:error", NULL};

	snprintf(pfx, sizeof(pfx), "--file-prefix=%s", prefix);
	if (engine_client_lcores(lcores, sizeof(lcores)) != 0)
		return -1;
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init as a secondary of %s: %s\n", prefix,
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* One request of engine_fixture_sign_verified(). */
struct signed_req {
	const struct zcs_manifest_account *acct;
	unsigned int algo;
	uint8_t hash[32];
};

void
engine_fixture_sign_verified(const struct engine_fixture *f, struct zcs_client *cl,
	const unsigned int *n, unsigned int nshards, const unsigned int *algos, unsigned int nalgos,
	unsigned int first, unsigned int wait_ms)
{
	uint64_t end = proc_now_ns() + (uint64_t)wait_ms * 1000000u;
	struct zcs_request *out[64];
	struct signed_req *reqs;
	unsigned int i, k, s, total = 0, got = 0;

	for (s = 0; s < nshards; s++)
		total += n[s];
	reqs = calloc(total, sizeof(*reqs));
	assert_non_null(reqs);
	for (i = 0, s = 0; i < total; i++) {
		unsigned int below = 0, t;
		struct zcs_sign_args a;

		for (t = 0; t < nshards && i >= below + n[t]; t++)
			below += n[t];
		s = t;
		reqs[i].acct = engine_fixture_account_on(f, s, first + i);
		assert_non_null(reqs[i].acct);
		reqs[i].algo = algos[i % nalgos];
		assert_int_equal(getrandom(reqs[i].hash, 32, 0), 32);
		a = (struct zcs_sign_args){.account = reqs[i].acct->account,
			.cookie = i,
			.algo = reqs[i].algo,
			.hash = reqs[i].hash};
		assert_int_equal(zcs_submit(cl, &a), 0);
	}
	while (got < total) {
		k = zcs_poll(cl, out, RTE_DIM(out));
		if (k == 0) {
			if (proc_now_ns() > end)
				fail_msg("%u of %u completions", got, total);
			proc_sleep_ms(1);
			continue;
		}
		for (i = 0; i < k; i++) {
			const struct signed_req *r = &reqs[out[i]->cookie];
			int v;

			assert_int_equal(out[i]->status, ZCS_OK);
			v = zcs_verify(
				f->ctx, r->algo, r->hash, out[i]->sig, out[i]->recid, r->acct);
			if (v != ZCS_VERIFY_OK)
				fail_msg("cookie %" PRIu64 ": %s", out[i]->cookie,
					zcs_verify_strerror(v));
		}
		zcs_release(cl, out, k);
		got += k;
	}
	free(reqs);
}

int
engine_client_start(struct engine_client *c, const char *name, const char *prefix)
{
	memset(c, 0, sizeof(*c));
	if (engine_fixture_secondary(name, prefix) != 0)
		return -1;
	c->eal = true;
	c->sh = zcs_shards_lookup();
	c->cl = zcs_attach(name);
	return c->sh != NULL && c->cl != NULL ? 0 : -1;
}

void
engine_client_stop(struct engine_client *c)
{
	zcs_detach(c->cl);
	c->cl = NULL;
	c->sh = NULL;
	if (c->eal)
		rte_eal_cleanup();
	c->eal = false;
}

int
engine_group_conf(
	struct engine_group *g, const char *tag, unsigned int shards, unsigned int accounts)
{
	memset(g, 0, sizeof(*g));
	g->f.pid = -1;
	snprintf(g->prefix, sizeof(g->prefix), "zcs_%s_%d", tag, (int)getpid());
	if (zcs_lcores_map(g->lcores, sizeof(g->lcores), 0, shards) != 0)
		return -1;
	g->c.tag = tag;
	g->c.prefix = g->prefix;
	g->c.shards = shards;
	g->c.accounts = accounts;
	g->c.lcores = g->lcores;
	g->c.mem_mb = 128;
	g->c.engine_ini = ENGINE_GROUP_INI;
	return 0;
}

int
engine_group_start(struct engine_group *g, const char *client)
{
	if (engine_fixture_start(&g->f, &g->c) != 0 ||
		engine_client_start(&g->ec, client, g->prefix) != 0) {
		engine_group_stop(g);
		return -1;
	}
	return 0;
}

int
engine_group_stop(struct engine_group *g)
{
	int rc = 0;

	engine_client_stop(&g->ec);
	if (g->f.pid > 0 || g->f.dir[0] != '\0')
		rc = engine_fixture_stop(&g->f, NULL);
	engine_eal_cleanup_files(g->prefix);
	return rc;
}
