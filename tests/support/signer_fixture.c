/* SPDX-License-Identifier: BSD-3-Clause */
/* Test support: see signer_fixture.h. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "signer_fixture.h"

int
signer_fixture_stop(struct signer_fixture *f)
{
	int st = 0, rc = 0;

	if (f->pid > 0) {
		if (proc_stop(f->pid, SIGTERM, PROC_STOP_MS, &st) != 0 || !proc_exited_ok(st)) {
			fprintf(stderr, "signer did not exit 0 on SIGTERM (status 0x%x)\n", st);
			proc_dump_log("signer", f->log);
			rc = -1;
		}
		f->pid = -1;
		if (access(f->sock, F_OK) == 0) {
			fprintf(stderr, "signer left its socket %s behind\n", f->sock);
			rc = -1;
		}
	}
	if (f->dir[0] != '\0')
		proc_rmtree(f->dir);
	f->dir[0] = '\0';
	zcs_manifest_free(&f->m);
	secp256k1_context_destroy(f->ctx);
	f->ctx = NULL;
	return rc;
}

int
fixture_start(struct signer_fixture *f, const char *tag, unsigned int accounts)
{
	char manifest[PATH_MAX], err[512];

	memset(f, 0, sizeof(*f));
	f->pid = -1;
	f->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (f->ctx == NULL || proc_tmpdir(f->dir, sizeof(f->dir), tag) != 0)
		return -1;
	if (proc_path(f->keys, sizeof(f->keys), f->dir, "shard-0.keys") != 0 ||
		proc_path(f->sock, sizeof(f->sock), f->dir, "signer.sock") != 0 ||
		proc_path(f->log, sizeof(f->log), f->dir, "signer.log") != 0 ||
		proc_path(manifest, sizeof(manifest), f->dir, "manifest.json") != 0)
		return -1;
	if (proc_keygen(f->dir, accounts, 1) != 0) {
		fprintf(stderr, "zcsign-keygen failed\n");
		return -1;
	}
	if (zcs_manifest_load(&f->m, err, sizeof(err), manifest) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (f->m.count != accounts || f->m.shards != 1) {
		fprintf(stderr, "manifest: %zu accounts, %u shards\n", f->m.count, f->m.shards);
		return -1;
	}
	f->pid = proc_signer_start(f->keys, f->sock, f->log);
	if (f->pid < 0) {
		proc_dump_log("signer", f->log);
		return -1;
	}
	return 0;
}

int
signer_fixture_start(struct signer_fixture *f, const char *tag, unsigned int accounts)
{
	if (fixture_start(f, tag, accounts) == 0)
		return 0;
	signer_fixture_stop(f);
	return -1;
}

uint64_t
signer_fixture_unknown_account(const struct signer_fixture *f)
{
	assert_true(f->m.count > 0); /* a started fixture's manifest */
	return f->m.accounts[f->m.count - 1].account + 1;
}
