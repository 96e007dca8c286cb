/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Manifest loader and signature verifier (see verify.h for the contract).
 *
 * The manifest is read whole into one heap buffer and parsed by a small
 * recursive-descent reader of exactly the schema keygen writes: a general JSON
 * library would accept shapes we then have to check anyway, and would not say
 * which line was wrong. The account array is sized to the file up front (each
 * account is one '{'), so a 10-million-account manifest costs one allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

#include "hex.h"
#include "verify.h"

/* Fields of one account object, as bits: each must appear exactly once. */
#define F_ACCOUNT 0x1u
#define F_SHARD 0x2u
#define F_PUBKEY 0x4u
#define F_XONLY 0x8u
#define F_ALL (F_ACCOUNT | F_SHARD | F_PUBKEY | F_XONLY)

struct parser {
	const char *path;
	const char *start; /* of the file text: line numbers count from here */
	const char *p;
	const char *end;
	char *err;
	size_t errlen;
	const struct zcs_manifest_account *acct; /* being parsed: messages name it */
	unsigned int acct_fields;
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* 1-based line of the parser's position: counted only when there is an error. */
static unsigned long
line_of(const struct parser *ps)
{
	unsigned long line = 1;
	const char *q;

	for (q = ps->start; q < ps->p && q < ps->end; q++)
		line += *q == '\n';
	return line;
}

/* "path:line: [account A: ]what"; returns -EINVAL. */
static int __attribute__((format(printf, 2, 3)))
parse_err(const struct parser *ps, const char *fmt, ...)
{
	char what[160], who[48] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ps->acct != NULL && (ps->acct_fields & F_ACCOUNT))
		snprintf(who, sizeof(who), "account %" PRIu64 ": ", ps->acct->account);
	set_err(ps->err, ps->errlen, "%s:%lu: %s%s", ps->path, line_of(ps), who, what);
	return -EINVAL;
}

/* At end of text: what a truncated file looks like. */
static int
at_end(const struct parser *ps)
{
	return ps->p >= ps->end;
}

static void
skip_ws(struct parser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Skip blanks, then take c; what names the place for the message. */
static int
expect(struct parser *ps, char c, const char *what)
{
	skip_ws(ps);
	if (at_end(ps))
		return parse_err(ps, "unexpected end of file, expected %s (truncated?)", what);
	if (*ps->p != c)
		return parse_err(ps, "expected %s", what);
	ps->p++;
	return 0;
}

/* A string without escapes: *s, *len its contents. */
static int
parse_string(struct parser *ps, const char **s, size_t *len)
{
	const char *q;
	int rc = expect(ps, '"', "a string");

	if (rc != 0)
		return rc;
	for (q = ps->p; q < ps->end && *q != '"'; q++)
		if (*q == '\\' || (unsigned char)*q < 0x20) {
			ps->p = q;
			return parse_err(ps, "escape or control character in a string");
		}
	if (q >= ps->end) {
		ps->p = q;
		return parse_err(ps, "unexpected end of file in a string (truncated?)");
	}
	*s = ps->p;
	*len = (size_t)(q - ps->p);
	ps->p = q + 1;
	return 0;
}

/* A JSON unsigned integer (no sign, fraction or exponent) that fits 64 bits. */
static int
parse_u64(struct parser *ps, const char *field, uint64_t *v)
{
	uint64_t x = 0;
	const char *first;

	skip_ws(ps);
	first = ps->p;
	while (!at_end(ps) && *ps->p >= '0' && *ps->p <= '9') {
		unsigned int d = (unsigned int)(*ps->p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return parse_err(ps, "\"%s\" does not fit 64 bits", field);
		x = x * 10 + d;
		ps->p++;
	}
	if (ps->p == first)
		return at_end(ps) ? parse_err(ps, "unexpected end of file (truncated?)")
				  : parse_err(ps, "\"%s\" must be an unsigned integer", field);
	if (*first == '0' && ps->p - first > 1)
		return parse_err(ps, "\"%s\" has a leading zero", field);
	if (!at_end(ps) && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
		return parse_err(ps, "\"%s\" must be an unsigned integer", field);
	*v = x;
	return 0;
}

/* A string of exactly 2n hex digits into out[n]. */
static int
parse_hex(struct parser *ps, const char *field, uint8_t *out, size_t n)
{
	const char *s;
	size_t len, i;
	int rc = parse_string(ps, &s, &len);

	if (rc != 0)
		return rc;
	if (len != 2 * n)
		return parse_err(
			ps, "\"%s\" must be %zu hex digits, got %zu characters", field, 2 * n, len);
	/* Checked here, not by the decoder: the message says which character. */
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			    (s[i] >= 'A' && s[i] <= 'F')))
			return parse_err(
				ps, "\"%s\": character %zu is not a hex digit", field, i + 1);
	return zcs_hex_decode(s, n, out) == 0 ? 0 : parse_err(ps, "\"%s\": bad hex", field);
}

/* '"key":' with key one of names[]; *idx its index. */
static int
parse_key(struct parser *ps, const char *const *names, size_t nnames, size_t *idx)
{
	const char *s;
	size_t len, i;
	int rc = parse_string(ps, &s, &len);

	if (rc != 0)
		return rc;
	for (i = 0; i < nnames; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			break;
	if (i == nnames)
		return parse_err(ps, "unknown field \"%.*s\"", (int)(len > 32 ? 32 : len), s);
	*idx = i;
	return expect(ps, ':', "':' after a field name");
}

/* After a member: ',' (returns 0, more follow) or close (returns 1). */
static int
member_end(struct parser *ps, char close, const char *what)
{
	skip_ws(ps);
	if (!at_end(ps) && *ps->p == close) {
		ps->p++;
		return 1;
	}
	return expect(ps, ',', what);
}

/* One {"account":A,"shard":I,"pubkey":"..","xonly":".."} into a. */
static int
parse_account(struct parser *ps, struct zcs_manifest_account *a)
{
	static const char *const names[] = {"account", "shard", "pubkey", "xonly"};
	uint64_t v;
	size_t idx;
	int rc;

	memset(a, 0, sizeof(*a));
	ps->acct = a;
	ps->acct_fields = 0;
	rc = expect(ps, '{', "'{' starting an account");
	while (rc == 0) {
		rc = parse_key(ps, names, 4, &idx);
		if (rc != 0)
			break;
		if (ps->acct_fields & (1u << idx)) {
			rc = parse_err(ps, "\"%s\" appears twice", names[idx]);
			break;
		}
		switch (idx) {
		case 0:
			rc = parse_u64(ps, names[idx], &a->account);
			break;
		case 1:
			rc = parse_u64(ps, names[idx], &v);
			if (rc == 0 && v >= ZCS_MAX_SHARDS)
				rc = parse_err(ps, "\"shard\" %" PRIu64 " is out of range", v);
			a->shard = (uint32_t)v;
			break;
		case 2:
			rc = parse_hex(ps, names[idx], a->pubkey, sizeof(a->pubkey));
			break;
		default:
			rc = parse_hex(ps, names[idx], a->xonly, sizeof(a->xonly));
			break;
		}
		if (rc != 0)
			break;
		ps->acct_fields |= 1u << idx;
		rc = member_end(ps, '}', "',' or '}' in an account");
	}
	if (rc < 0)
		return rc;
	if (ps->acct_fields != F_ALL)
		return parse_err(ps, "missing \"%s\"",
			!(ps->acct_fields & F_ACCOUNT)		? "account"
				: !(ps->acct_fields & F_SHARD)	? "shard"
				: !(ps->acct_fields & F_PUBKEY) ? "pubkey"
								: "xonly");
	/* The x-only key is the compressed key's x: a mismatch is a damaged manifest. */
	if (memcmp(a->pubkey + 1, a->xonly, sizeof(a->xonly)) != 0)
		return parse_err(ps, "\"xonly\" is not the x coordinate of \"pubkey\"");
	ps->acct = NULL;
	return 0;
}

/* [account, ...] into m->accounts (room for cap). */
static int
parse_accounts(struct parser *ps, struct zcs_manifest *m, size_t cap)
{
	int rc = expect(ps, '[', "'[' starting \"accounts\"");

	if (rc != 0)
		return rc;
	skip_ws(ps);
	if (!at_end(ps) && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	do {
		if (m->count == cap) /* cannot happen: every account has its '{' */
			return parse_err(ps, "more accounts than objects");
		rc = parse_account(ps, &m->accounts[m->count]);
		if (rc != 0)
			return rc;
		m->count++;
		rc = member_end(ps, ']', "',' or ']' after an account");
	} while (rc == 0);
	return rc < 0 ? rc : 0;
}

/* The top-level object; the cross-account checks follow in check_accounts(). */
static int
parse_manifest(struct parser *ps, struct zcs_manifest *m, size_t cap)
{
	static const char *const names[] = {"version", "shards", "accounts"};
	unsigned int seen = 0;
	uint64_t v;
	size_t idx;
	int rc = expect(ps, '{', "'{' starting the manifest");

	while (rc == 0) {
		rc = parse_key(ps, names, 3, &idx);
		if (rc != 0)
			return rc;
		if (seen & (1u << idx))
			return parse_err(ps, "\"%s\" appears twice", names[idx]);
		seen |= 1u << idx;
		if (idx == 2) {
			rc = parse_accounts(ps, m, cap);
		} else {
			rc = parse_u64(ps, names[idx], &v);
			if (rc == 0 && idx == 0 && v != 1)
				rc = parse_err(
					ps, "version %" PRIu64 " is not supported (1 is)", v);
			if (rc == 0 && idx == 1 && (v < 1 || v > ZCS_MAX_SHARDS))
				rc = parse_err(ps, "\"shards\" must be 1..%d", ZCS_MAX_SHARDS);
			m->shards = (uint32_t)v;
		}
		if (rc == 0)
			rc = member_end(ps, '}', "',' or '}' in the manifest");
	}
	if (rc < 0)
		return rc;
	if (seen != 0x7u)
		return parse_err(ps, "missing \"%s\"",
			!(seen & 1u)	       ? "version"
				: !(seen & 2u) ? "shards"
					       : "accounts");
	skip_ws(ps);
	if (!at_end(ps))
		return parse_err(ps, "text after the manifest");
	return 0;
}

static int
cmp_account(const void *a, const void *b)
{
	uint64_t x = ((const struct zcs_manifest_account *)a)->account;
	uint64_t y = ((const struct zcs_manifest_account *)b)->account;

	return x < y ? -1 : x > y;
}

/* Sort for zcs_manifest_find(), then what needs every account: shards, repeats. */
static int
check_accounts(struct zcs_manifest *m, char *err, size_t errlen, const char *path)
{
	size_t i;

	qsort(m->accounts, m->count, sizeof(m->accounts[0]), cmp_account);
	for (i = 0; i < m->count; i++) {
		const struct zcs_manifest_account *a = &m->accounts[i];
		uint32_t want = zcs_shard_of(a->account, m->shards);

		if (i > 0 && a->account == a[-1].account) {
			set_err(err, errlen, "%s: account %" PRIu64 " appears twice", path,
				a->account);
			return -EINVAL;
		}
		if (a->shard != want) {
			set_err(err, errlen,
				"%s: account %" PRIu64 ": shard %" PRIu32 ", but zcs_shard_of() "
				"puts it in shard %" PRIu32 " of %" PRIu32,
				path, a->account, a->shard, want, m->shards);
			return -EINVAL;
		}
	}
	return 0;
}

/* The whole file into a NUL-terminated heap buffer. */
static int
read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t have = 0;
	char *buf;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		rc = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > ZCS_MANIFEST_MAX) {
		set_err(err, errlen, "%s: %jd bytes, larger than the %" PRIu64 " a manifest may be",
			path, (intmax_t)st.st_size, ZCS_MANIFEST_MAX);
		rc = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		set_err(err, errlen, "%s: no memory for %jd bytes", path, (intmax_t)st.st_size);
		rc = -ENOMEM;
		goto out;
	}
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			set_err(err, errlen, "%s: read: %s", path,
				n < 0 ? strerror(errno) : "file shrank while read");
			free(buf);
			goto out;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	*text = buf;
	*len = have;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int
zcs_manifest_load(struct zcs_manifest *m, char *err, size_t errlen, const char *path)
{
	struct parser ps = {.path = path, .err = err, .errlen = errlen};
	size_t len = 0, cap = 0, i;
	char *text = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = read_file(path, &text, &len, err, errlen);
	if (rc != 0)
		return rc;
	for (i = 0; i < len; i++)
		cap += text[i] == '{';
	m->accounts = calloc(cap + 1, sizeof(m->accounts[0]));
	if (m->accounts == NULL) {
		set_err(err, errlen, "%s: no memory for %zu accounts", path, cap);
		free(text);
		return -ENOMEM;
	}
	ps.start = ps.p = text;
	ps.end = text + len;
	rc = parse_manifest(&ps, m, cap);
	if (rc == 0)
		rc = check_accounts(m, err, errlen, path);
	free(text);
	if (rc != 0)
		zcs_manifest_free(m);
	return rc;
}

const struct zcs_manifest_account *
zcs_manifest_find(const struct zcs_manifest *m, uint64_t account)
{
	struct zcs_manifest_account key = {.account = account};

	if (m->count == 0)
		return NULL;
	return bsearch(&key, m->accounts, m->count, sizeof(m->accounts[0]), cmp_account);
}

void
zcs_manifest_free(struct zcs_manifest *m)
{
	free(m->accounts);
	memset(m, 0, sizeof(*m));
}

/* ECDSA (recid 0) or recoverable ECDSA: low-S, verify, then recovery to the same key. */
static int
verify_ecdsa(const secp256k1_context *ctx, unsigned int algo, const uint8_t hash[32],
	const uint8_t sig[64], unsigned int recid, const struct zcs_manifest_account *acct)
{
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_ecdsa_signature esig, norm;
	secp256k1_pubkey pk, rec;
	uint8_t ser[33];
	size_t serlen = sizeof(ser);

	if (!secp256k1_ec_pubkey_parse(ctx, &pk, acct->pubkey, sizeof(acct->pubkey)))
		return ZCS_VERIFY_BAD_KEY;
	if (!secp256k1_ecdsa_signature_parse_compact(ctx, &esig, sig))
		return ZCS_VERIFY_BAD_SIG;
	/* normalize returns 1 only when s was high: libsecp256k1's verify refuses those. */
	if (secp256k1_ecdsa_signature_normalize(ctx, &norm, &esig))
		return ZCS_VERIFY_HIGH_S;
	if (!secp256k1_ecdsa_verify(ctx, &esig, hash, &pk))
		return ZCS_VERIFY_INVALID;
	if (algo == ZCS_ALGO_ECDSA)
		return recid == 0 ? ZCS_VERIFY_OK : ZCS_VERIFY_BAD_RECID;
	if (recid > 3)
		return ZCS_VERIFY_BAD_RECID;
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, sig, (int)recid))
		return ZCS_VERIFY_BAD_SIG;
	if (!secp256k1_ecdsa_recover(ctx, &rec, &rsig, hash) ||
		!secp256k1_ec_pubkey_serialize(ctx, ser, &serlen, &rec, SECP256K1_EC_COMPRESSED) ||
		memcmp(ser, acct->pubkey, sizeof(ser)) != 0)
		return ZCS_VERIFY_RECOVER;
	return ZCS_VERIFY_OK;
}

int
zcs_verify(const secp256k1_context *ctx, unsigned int algo, const uint8_t hash[32],
	const uint8_t sig[64], unsigned int recid, const struct zcs_manifest_account *acct)
{
	secp256k1_xonly_pubkey xpk;

	if (algo == ZCS_ALGO_ECDSA || algo == ZCS_ALGO_ECDSA_RECOVERABLE)
		return verify_ecdsa(ctx, algo, hash, sig, recid, acct);
	if (algo != ZCS_ALGO_SCHNORR)
		return ZCS_VERIFY_BAD_ALGO;
	if (recid != 0)
		return ZCS_VERIFY_BAD_RECID;
	if (!secp256k1_xonly_pubkey_parse(ctx, &xpk, acct->xonly))
		return ZCS_VERIFY_BAD_KEY;
	return secp256k1_schnorrsig_verify(ctx, sig, hash, 32, &xpk) ? ZCS_VERIFY_OK
								     : ZCS_VERIFY_INVALID;
}

const char *
zcs_verify_strerror(int result)
{
	switch (result) {
	case ZCS_VERIFY_OK:
		return "valid";
	case ZCS_VERIFY_BAD_KEY:
		return "manifest key does not parse";
	case ZCS_VERIFY_BAD_SIG:
		return "malformed signature";
	case ZCS_VERIFY_HIGH_S:
		return "high S";
	case ZCS_VERIFY_INVALID:
		return "invalid";
	case ZCS_VERIFY_RECOVER:
		return "recovers another key";
	case ZCS_VERIFY_BAD_RECID:
		return "bad recid";
	case ZCS_VERIFY_BAD_ALGO:
		return "unknown algorithm";
	default:
		return "unknown reason";
	}
}
