/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kept signatures and their verification after the run (see records.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>

#include <zcsign/wire.h>

#include "records.h"
#include "report.h"

/* Failures described one by one before the log only counts them. */
#define LOG_FAILURES 5

static_assert(sizeof(struct zcs_bench_record) == 112, "record size in the header comment");

int
zcs_bench_records_init(struct zcs_bench_records *s, uint64_t cap, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	if (cap == 0)
		return -EINVAL;
	if (cap > SIZE_MAX / sizeof(*s->rec))
		return -ENOMEM;
	s->rec = malloc(cap * sizeof(*s->rec));
	if (s->rec == NULL)
		return -ENOMEM;
	/* Touch every page now: a first-touch fault inside the run costs microseconds. */
	memset(s->rec, 0, cap * sizeof(*s->rec));
	s->cap = cap;
	zcs_bench_rng_seed(&s->rng, seed);
	return 0;
}

void
zcs_bench_records_add(struct zcs_bench_records *s, const struct zcs_request *r)
{
	struct zcs_bench_record *d;
	uint64_t j;

	s->seen++;
	if (s->kept < s->cap) {
		d = &s->rec[s->kept++];
	} else {
		/* Algorithm R: the i-th item stays with probability cap / i. */
		j = zcs_bench_rng_below(&s->rng, s->seen);
		if (j >= s->cap)
			return;
		d = &s->rec[j];
	}
	d->account = r->account;
	memcpy(d->hash, r->hash, sizeof(d->hash));
	memcpy(d->sig, r->sig, sizeof(d->sig));
	d->algo = r->algo;
	d->recid = r->recid;
}

int64_t
zcs_bench_records_verify(const struct zcs_bench_records *s, uint64_t *failed,
	const struct zcs_manifest *m, FILE *log)
{
	const struct zcs_manifest_account *acct;
	secp256k1_context *ctx;
	int64_t ok = 0;
	uint64_t i;
	int rc;

	*failed = 0;
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (ctx == NULL)
		return -ENOMEM;
	for (i = 0; i < s->kept; i++) {
		const struct zcs_bench_record *r = &s->rec[i];

		acct = zcs_manifest_find(m, r->account);
		if (acct == NULL) {
			if (log != NULL && *failed < LOG_FAILURES)
				fprintf(log, "verify: account %" PRIu64 " is not in the manifest\n",
					r->account);
			(*failed)++;
			continue;
		}
		rc = zcs_verify(ctx, r->algo, r->hash, r->sig, r->recid, acct);
		if (rc == ZCS_VERIFY_OK) {
			ok++;
			continue;
		}
		if (log != NULL && *failed < LOG_FAILURES)
			fprintf(log, "verify: account %" PRIu64 " %s: %s\n", r->account,
				zcs_bench_algo_name(r->algo), zcs_verify_strerror(rc));
		(*failed)++;
	}
	secp256k1_context_destroy(ctx);
	return ok;
}

void
zcs_bench_records_free(struct zcs_bench_records *s)
{
	free(s->rec);
	memset(s, 0, sizeof(*s));
}
