/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli verify: one signature (sign's output, passed straight through)
 * checked against zcsign-keygen's public manifest with libsecp256k1
 * (verify/verify.h). No signer, no engine: a script can check what either
 * path printed. Exit 0 valid; 1 invalid, unknown account or unreadable
 * manifest, each one line naming the account or the file.
 */
#include <inttypes.h>
#include <stdint.h>

#include <secp256k1.h>

#include "cli.h"
#include "out.h"
#include "verify.h"

int
cli_verify_run(const struct cli_args *a)
{
	const struct zcs_manifest_account *acct;
	struct zcs_manifest m;
	secp256k1_context *ctx;
	char err[512];
	int rc;

	rc = zcs_manifest_load(&m, err, sizeof(err), a->manifest);
	if (rc != 0)
		return cli_fail(CLI_EXIT_RUNTIME, "%s", err);
	acct = zcs_manifest_find(&m, a->account);
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (acct == NULL)
		rc = cli_fail(CLI_EXIT_RUNTIME, "account %" PRIu64 ": not in %s", a->account,
			a->manifest);
	else if (ctx == NULL)
		rc = cli_fail(CLI_EXIT_RUNTIME, "cannot create a libsecp256k1 context");
	else
		rc = zcs_verify(ctx, a->algo, a->hash, a->sig, a->recid, acct);
	if (rc < 0)
		rc = cli_fail(CLI_EXIT_RUNTIME,
			"account %" PRIu64 ": signature does not verify (%s)", a->account,
			zcs_verify_strerror(rc));
	if (rc == 0)
		rc = cli_print_verified(a);
	secp256k1_context_destroy(ctx);
	zcs_manifest_free(&m);
	return rc;
}
