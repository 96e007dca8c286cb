/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fixture of the tests that talk to a live signer (test_enclave, test_cli):
 * keys for N accounts in one shard from the real zcsign-keygen, its
 * manifest.json loaded with verify/verify.h (to check every signature against),
 * and one zcsign-enclave listening on a unix socket in a private temp dir.
 *
 * signer_fixture_stop() is the check a group teardown makes: the signer must
 * exit 0 on SIGTERM (a sanitizer report makes it exit non-zero) and remove its
 * socket. In the test-support library.
 */
#ifndef ZCS_TESTS_SIGNER_FIXTURE_H
#define ZCS_TESTS_SIGNER_FIXTURE_H

#include <secp256k1.h>

#include "proc_util.h"
#include "verify.h"

struct signer_fixture {
	char dir[64];
	char keys[PATH_MAX]; /* dir/shard-0.keys */
	char sock[PATH_MAX]; /* dir/signer.sock */
	char log[PATH_MAX]; /* the signer's stderr */
	pid_t pid; /* the signer; -1 before start */
	secp256k1_context *ctx; /* for zcs_verify() */
	struct zcs_manifest m;
};

/* SIGTERM the signer (it must exit 0 and remove its socket), then remove everything; 0 or -1. */
int signer_fixture_stop(struct signer_fixture *f);

int fixture_start(struct signer_fixture *f, const char *tag, unsigned int accounts);

/*
 * Keys for accounts in a fresh /tmp/zcs-<tag>-XXXXXX, the manifest, a listening
 * signer. Returns 0, or -1 with everything made so far removed again (cmocka
 * runs no group teardown after a failed group setup).
 */
int signer_fixture_start(struct signer_fixture *f, const char *tag, unsigned int accounts);

/* An account the signer does not hold: one past the manifest's largest (it is sorted). */
uint64_t signer_fixture_unknown_account(const struct signer_fixture *f);

#endif /* ZCS_TESTS_SIGNER_FIXTURE_H */
