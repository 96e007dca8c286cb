/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key store: loads one shard's key file into locked memory. The file format and
 * the loader's contract are in keystore.h.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include <openssl/crypto.h>

#include "bundle.h"
#include "hex.h"
#include "keystore.h"
#include "num.h"

#define HEADER_SYNTAX "'zcsign-keys v1 shard=<id> shards=<count> keys=<n>'"

/*
 * A key line as seen by the first pass. Only public fields: the secret stays in
 * the (locked) file buffer until it is decoded straight into its final slot.
 */
struct entry {
	uint64_t account;
	size_t secret_off; /* offset of the 64 hex digits in the file buffer */
	uint32_t line;
};

/* State shared by the parsing passes, so error reports name file and line. */
struct parse {
	const char *path;
	uint64_t keys; /* the header's keys= */
	char *err;
	size_t errlen;
	const char *buf; /* whole file, in secure memory */
	size_t len;
	size_t pos; /* start of the next unread line */
	uint32_t line; /* number of the line last returned */
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Content error at the current line: "<path>:<line>: <what>". Returns -EINVAL. */
static int __attribute__((format(printf, 2, 3))) line_err(struct parse *ps, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	set_err(ps->err, ps->errlen, "%s:%" PRIu32 ": %s", ps->path, ps->line, what);
	return -EINVAL;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Next line holding content (not blank, not a comment), trimmed of leading and
 * trailing blanks, as [*s, *e). Returns 0 at end of file.
 */
static int
next_line(struct parse *ps, const char **s, const char **e)
{
	while (ps->pos < ps->len) {
		const char *start = ps->buf + ps->pos;
		const char *nl = memchr(start, '\n', ps->len - ps->pos);
		const char *end = nl != NULL ? nl : ps->buf + ps->len;

		ps->pos = (size_t)(end - ps->buf) + (nl != NULL);
		ps->line++;
		while (start < end && is_blank(*start))
			start++;
		while (end > start && is_blank(end[-1]))
			end--;
		if (start == end || *start == '#')
			continue;
		*s = start;
		*e = end;
		return 1;
	}
	return 0;
}

/*
 * Decimal digits at *p (no sign) into *v, advancing *p.
 * Returns 0, -1 if there is no digit, -2 on overflow.
 */
static int
parse_u64(const char **p, const char *e, uint64_t *v)
{
	const char *q = *p;

	while (q < e && *q >= '0' && *q <= '9')
		q++;
	if (q == *p)
		return -1;
	if (zcs_parse_u64_n(*p, (size_t)(q - *p), UINT64_MAX, v) != 0)
		return -2;
	*p = q;
	return 0;
}

/* Consume word at *p if it is there; returns 1 if it was. */
static int
eat(const char **p, const char *e, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(e - *p) < n || memcmp(*p, word, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* Consume one or more blanks; returns 1 if there was at least one. */
static int
eat_blanks(const char **p, const char *e)
{
	const char *q = *p;

	while (q < e && is_blank(*q))
		q++;
	if (q == *p)
		return 0;
	*p = q;
	return 1;
}

static int
parse_header(struct parse *ps, struct zcs_keystore *ks)
{
	const char *p, *e;
	uint64_t id, count, keys;

	if (!next_line(ps, &p, &e)) {
		set_err(ps->err, ps->errlen, "%s: no header line " HEADER_SYNTAX, ps->path);
		return -EINVAL;
	}
	if (!eat(&p, e, "zcsign-keys") || (p < e && !is_blank(*p)))
		return line_err(ps, "missing header line " HEADER_SYNTAX);
	eat_blanks(&p, e);
	if (!eat(&p, e, "v1") || (p < e && !is_blank(*p)))
		return line_err(ps, "unsupported key file version (this signer reads v1)");
	if (!eat_blanks(&p, e) || !eat(&p, e, "shard=") || parse_u64(&p, e, &id) != 0 ||
		!eat_blanks(&p, e) || !eat(&p, e, "shards=") || parse_u64(&p, e, &count) != 0 ||
		!eat_blanks(&p, e) || !eat(&p, e, "keys=") || parse_u64(&p, e, &keys) != 0 ||
		p != e)
		return line_err(ps, "malformed header, expected " HEADER_SYNTAX);
	if (count < 1 || count > ZCS_MAX_SHARDS)
		return line_err(
			ps, "shards=%" PRIu64 " is out of range 1..%d", count, ZCS_MAX_SHARDS);
	if (id >= count)
		return line_err(ps, "shard=%" PRIu64 " is not below shards=%" PRIu64, id, count);
	if (keys > UINT32_MAX)
		return line_err(ps, "keys=%" PRIu64 " is out of range", keys);
	ks->shard_id = (uint16_t)id;
	ks->shard_count = (uint16_t)count;
	ps->keys = keys;
	return 0;
}

/*
 * Syntax of one "<account> <secret>" line and the account's shard. The secret is
 * only measured here; its digits are decoded later, in place.
 */
static int
parse_key_line(struct parse *ps, const struct zcs_keystore *ks, const char *p, const char *e,
	struct entry *ent)
{
	const char *secret;
	uint32_t owner;
	int rc;

	if (*p == '-' || *p == '+')
		return line_err(ps, "account must be an unsigned decimal number");
	rc = parse_u64(&p, e, &ent->account);
	if (rc == -2)
		return line_err(ps, "account does not fit in 64 bits");
	if (rc != 0 || (p < e && !is_blank(*p)))
		return line_err(ps, "account is not a decimal number");
	owner = zcs_shard_of(ent->account, ks->shard_count);
	if (owner != ks->shard_id)
		return line_err(ps, "account %" PRIu64 " belongs to shard %" PRIu32 ", not %u",
			ent->account, owner, (unsigned)ks->shard_id);
	if (!eat_blanks(&p, e))
		return line_err(ps, "missing secret key after account %" PRIu64, ent->account);
	secret = p;
	while (p < e && !is_blank(*p))
		p++;
	if (p - secret != 64)
		return line_err(ps, "secret key is not 64 hex digits");
	if (p != e)
		return line_err(ps, "unexpected text after the secret key");
	ent->secret_off = (size_t)(secret - ps->buf);
	ent->line = ps->line;
	return 0;
}

/* Pass 1: header and every key line, into a growing array of public entries. */
static int
parse_lines(struct parse *ps, struct zcs_keystore *ks, struct entry **out, size_t *n_out)
{
	struct entry *ents = NULL, *grown;
	size_t n = 0, cap = 0;
	const char *p, *e;
	int rc;

	rc = parse_header(ps, ks);
	if (rc != 0)
		return rc;
	while (next_line(ps, &p, &e)) {
		if (n == UINT32_MAX) {
			free(ents);
			return line_err(ps, "too many keys");
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			grown = realloc(ents, cap * sizeof(*ents));
			if (grown == NULL) {
				free(ents);
				set_err(ps->err, ps->errlen, "%s: out of memory", ps->path);
				return -ENOMEM;
			}
			ents = grown;
		}
		rc = parse_key_line(ps, ks, p, e, &ents[n]);
		if (rc != 0) {
			free(ents);
			return rc;
		}
		n++;
	}
	if (n != ps->keys) {
		free(ents);
		set_err(ps->err, ps->errlen,
			"%s: the header says keys=%" PRIu64 " but the file has %zu key lines (%s)",
			ps->path, ps->keys, n, n < ps->keys ? "cut short" : "lines added");
		return -EINVAL;
	}
	*out = ents;
	*n_out = n;
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Pass 2: sort the public entries and refuse duplicates. Sorting these rather
 * than the keys keeps secrets out of qsort, which may copy elements into an
 * unlocked heap buffer it never wipes.
 */
static int
sort_entries(struct parse *ps, struct entry *ents, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(ents, n, sizeof(*ents), cmp_entry);
	for (i = 1; i < n; i++) {
		if (ents[i].account == ents[i - 1].account) {
			ps->line = ents[i].line;
			return line_err(ps,
				"duplicate account %" PRIu64 " (also on line %" PRIu32 ")",
				ents[i].account, ents[i - 1].line);
		}
	}
	return 0;
}

int
zcs_key_derive(const secp256k1_context *ctx, struct zcs_key *k)
{
	secp256k1_pubkey pub;
	secp256k1_xonly_pubkey xonly;
	size_t len = sizeof(k->pub_compressed);

	if (!secp256k1_keypair_create(ctx, &k->keypair, k->seckey) ||
		!secp256k1_keypair_pub(ctx, &pub, &k->keypair) ||
		!secp256k1_ec_pubkey_serialize(
			ctx, k->pub_compressed, &len, &pub, SECP256K1_EC_COMPRESSED) ||
		!secp256k1_keypair_xonly_pub(ctx, &xonly, NULL, &k->keypair) ||
		!secp256k1_xonly_pubkey_serialize(ctx, k->pub_xonly, &xonly))
		return -EINVAL;
	return 0;
}

/* Pass 3, one key: decode the secret into its slot, check it, derive public keys. */
static int
derive_key(
	struct parse *ps, const secp256k1_context *ctx, const struct entry *ent, struct zcs_key *k)
{
	ps->line = ent->line;
	k->account = ent->account;
	if (zcs_hex_decode(ps->buf + ent->secret_off, sizeof(k->seckey), k->seckey) != 0)
		return line_err(ps, "secret key has a non-hex digit");
	if (!secp256k1_ec_seckey_verify(ctx, k->seckey))
		return line_err(ps,
			"secret key is not valid for secp256k1 "
			"(zero, or not below the group order)");
	if (zcs_key_derive(ctx, k) != 0)
		return line_err(ps, "cannot derive the public key");
	return 0;
}

/* Read the whole file into secure memory; *buf is NUL-terminated. */
static int
read_file(const char *path, char **buf, size_t *len, size_t *maplen, char *err, size_t errlen)
{
	struct stat st;
	size_t size, got = 0;
	ssize_t r;
	char *b;
	int fd, rc;

	/* O_NONBLOCK: a FIFO must be refused, not waited on. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "%s: cannot open key file: %s", path, strerror(-rc));
		return rc;
	}
	/* fstat on the open file: the checks apply to what is actually read. */
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		set_err(err, errlen, "%s: cannot stat key file: %s", path, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: key file is not a regular file", path);
		rc = -EINVAL;
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		set_err(err, errlen,
			"%s: key file is readable or writable by group/others (mode %04o); "
			"chmod 600 it",
			path, (unsigned)(st.st_mode & 07777));
		rc = -EACCES;
		goto out;
	}
	if (st.st_size == 0) {
		set_err(err, errlen, "%s: key file is empty", path);
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > ZCS_KEYFILE_MAX) {
		set_err(err, errlen, "%s: key file is too large (%jd bytes, limit %" PRIu64 ")",
			path, (intmax_t)st.st_size, (uint64_t)ZCS_KEYFILE_MAX);
		rc = -EFBIG;
		goto out;
	}
	size = (size_t)st.st_size;
	b = zcs_secure_alloc(size + 1);
	if (b == NULL) {
		rc = -errno;
		set_err(err, errlen, "%s: cannot allocate locked memory for %zu bytes: %s", path,
			size + 1, strerror(-rc));
		goto out;
	}
	while (got < size) {
		r = read(fd, b + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			set_err(err, errlen, "%s: cannot read key file: %s", path, strerror(-rc));
			zcs_secure_free(b, size + 1);
			goto out;
		}
		if (r == 0)
			break; /* shrank since fstat: parse what is there */
		got += (size_t)r;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	*maplen = size + 1;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Passes 2 and 3 on the parsed entries: the sorted keys, in secure memory. */
static int
build_keys(struct parse *ps, struct zcs_keystore *ks, const secp256k1_context *ctx,
	struct entry *ents, size_t n)
{
	size_t i, maplen;
	int rc;

	rc = sort_entries(ps, ents, n);
	if (rc != 0 || n == 0)
		return rc;
	maplen = n * sizeof(*ks->keys);
	ks->keys = zcs_secure_alloc(maplen);
	if (ks->keys == NULL) {
		rc = -errno;
		set_err(ps->err, ps->errlen, "%s: cannot allocate locked memory for %zu keys: %s",
			ps->path, n, strerror(-rc));
		return rc;
	}
	ks->map_len = maplen;
	for (i = 0; i < n; i++) {
		rc = derive_key(ps, ctx, &ents[i], &ks->keys[i]);
		if (rc != 0)
			return rc;
	}
	ks->count = (uint32_t)n;
	return 0;
}

int
zcs_keystore_load(struct zcs_keystore *ks, const secp256k1_context *ctx, const char *path,
	char *err, size_t errlen)
{
	struct parse ps = {.path = path, .err = err, .errlen = errlen};
	struct entry *ents = NULL;
	size_t n = 0, maplen = 0;
	char *buf = NULL;
	int rc;

	memset(ks, 0, sizeof(*ks));
	set_err(err, errlen, "%s", "");
	rc = read_file(path, &buf, &ps.len, &maplen, err, errlen);
	if (rc != 0)
		return rc;
	ps.buf = buf;
	rc = parse_lines(&ps, ks, &ents, &n);
	if (rc == 0)
		rc = build_keys(&ps, ks, ctx, ents, n);
	ks->source = ZCS_KEYS_DEV;
	free(ents);
	zcs_secure_free(buf, maplen);
	if (rc != 0)
		zcs_keystore_wipe(ks);
	return rc;
}

const struct zcs_key *
zcs_keystore_find(const struct zcs_keystore *ks, uint64_t account)
{
	uint32_t lo = 0, hi = ks->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t a = ks->keys[mid].account;

		if (a == account)
			return &ks->keys[mid];
		if (a < account)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void
zcs_keystore_sealed(struct zcs_keystore *ks, uint16_t shard_id, uint16_t shard_count)
{
	memset(ks, 0, sizeof(*ks));
	ks->shard_id = shard_id;
	ks->shard_count = shard_count;
	ks->source = ZCS_KEYS_SEALED;
}

/* One record's key into k: the account, the secret, its public halves. */
static int
record_key(const secp256k1_context *ctx, struct zcs_key *k, const uint8_t *rec, uint32_t i,
	char *err, size_t errlen)
{
	k->account = zcs_bundle_rec_account(rec);
	memcpy(k->seckey, rec + 8, sizeof(k->seckey));
	if (!secp256k1_ec_seckey_verify(ctx, k->seckey) || zcs_key_derive(ctx, k) != 0) {
		set_err(err, errlen,
			"record %" PRIu32 " (account %" PRIu64
			"): not a valid secp256k1 secret key",
			i, k->account);
		return -EINVAL;
	}
	return 0;
}

int
zcs_keystore_merge(struct zcs_keystore *out, struct zcs_keystore_delta *d,
	const struct zcs_keystore *old, const secp256k1_context *ctx, const uint8_t *records,
	uint32_t n, uint64_t generation, char *err, size_t errlen)
{
	uint64_t total = (uint64_t)old->count + n;
	uint32_t i = 0, j = 0, k = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	memset(out, 0, sizeof(*out));
	out->shard_id = old->shard_id;
	out->shard_count = old->shard_count;
	out->source = ZCS_KEYS_PROVISIONED;
	out->generation = generation;
	if (total > UINT32_MAX) {
		set_err(err, errlen, "%" PRIu64 " keys are more than a store holds", total);
		return -E2BIG;
	}
	if (total == 0)
		return 0;
	out->map_len = (size_t)total * sizeof(*out->keys);
	out->keys = zcs_secure_alloc(out->map_len);
	if (out->keys == NULL) {
		rc = -errno;
		set_err(err, errlen, "cannot allocate locked memory for %" PRIu64 " keys: %s",
			total, strerror(-rc));
		out->map_len = 0;
		return rc;
	}
	/* Both inputs are sorted by account: one merge pass keeps out sorted. */
	while (i < old->count || j < n) {
		uint64_t acct_new = UINT64_MAX;
		struct zcs_key *slot = &out->keys[k];

		if (j < n)
			acct_new = zcs_bundle_rec_account(records + (size_t)j * ZCS_BUNDLE_REC_LEN);
		if (j == n || (i < old->count && old->keys[i].account < acct_new)) {
			*slot = old->keys[i++];
			k++;
			continue;
		}
		rc = record_key(
			ctx, slot, records + (size_t)j * ZCS_BUNDLE_REC_LEN, j, err, errlen);
		if (rc != 0) {
			zcs_keystore_wipe(out);
			return rc;
		}
		if (i < old->count && old->keys[i].account == acct_new) {
			if (CRYPTO_memcmp(
				    old->keys[i].seckey, slot->seckey, sizeof(slot->seckey)) == 0)
				d->unchanged++;
			else
				d->rotated++;
			i++;
		} else {
			d->added++;
		}
		j++;
		k++;
		/*
		 * ~20 us a key: give the CPU back every 32 keys, so that a big bundle
		 * never holds a core for long (the control thread may share one with
		 * a serve loop that polls in yield mode).
		 */
		if ((j & 31) == 0)
			sched_yield();
	}
	out->count = k;
	return 0;
}

void
zcs_keystore_wipe(struct zcs_keystore *ks)
{
	zcs_secure_free(ks->keys, ks->map_len);
	explicit_bzero(ks, sizeof(*ks));
}
