/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire decoder: header first (it decides whether the stream still has frame
 * boundaries), then the body of the one type the header names. Every field a
 * peer can set is checked, so nothing downstream trusts a raw byte.
 */
#include <string.h>
#include <strings.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

static const size_t frame_sizes[] = {
	[ZCS_FT_HELLO] = sizeof(struct zcs_wire_hello),
	[ZCS_FT_HELLO_REPLY] = sizeof(struct zcs_wire_hello_reply),
	[ZCS_FT_SIGN] = sizeof(struct zcs_wire_sign),
	[ZCS_FT_SIGN_REPLY] = sizeof(struct zcs_wire_sign_reply),
	[ZCS_FT_PUBKEY] = sizeof(struct zcs_wire_pubkey),
	[ZCS_FT_PUBKEY_REPLY] = sizeof(struct zcs_wire_pubkey_reply),
	[ZCS_FT_ERROR] = sizeof(struct zcs_wire_error),
	[ZCS_FT_STATS] = sizeof(struct zcs_wire_stats),
	[ZCS_FT_STATS_REPLY] = sizeof(struct zcs_wire_stats_reply),
	[ZCS_FT_ATTEST] = sizeof(struct zcs_wire_attest),
	[ZCS_FT_ATTEST_REPLY] = sizeof(struct zcs_wire_attest_reply),
	[ZCS_FT_PROVISION] = sizeof(struct zcs_wire_provision),
	[ZCS_FT_BUNDLE] = sizeof(struct zcs_wire_bundle),
	[ZCS_FT_BUNDLE_REPLY] = sizeof(struct zcs_wire_bundle_reply),
};

size_t
zcs_wire_frame_size(unsigned int type)
{
	if (type >= sizeof(frame_sizes) / sizeof(frame_sizes[0]))
		return 0;
	return frame_sizes[type];
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int
check_hello(struct zcs_wire_hello *f)
{
	f->shard_id = le16toh(f->shard_id);
	f->shard_count = le16toh(f->shard_count);
	f->reserved = le32toh(f->reserved);
	if (f->reserved != 0)
		return ZCS_ERR_BAD_RESERVED;
	if (f->shard_id == ZCS_SHARD_ANY)
		return f->shard_count == 0 ? 0 : ZCS_ERR_BAD_REQUEST;
	if (f->shard_count == 0 || f->shard_count > ZCS_MAX_SHARDS || f->shard_id >= f->shard_count)
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

static int
check_hello_reply(struct zcs_wire_hello_reply *f)
{
	f->shard_id = le16toh(f->shard_id);
	f->shard_count = le16toh(f->shard_count);
	f->key_count = le32toh(f->key_count);
	if (!all_zero(f->reserved, sizeof(f->reserved)))
		return ZCS_ERR_BAD_RESERVED;
	if (zcs_nonce_mode_name(f->nonce_mode) == NULL ||
		zcs_key_source_name(f->key_source) == NULL)
		return ZCS_ERR_BAD_REQUEST;
	if (f->shard_count == 0 || f->shard_count > ZCS_MAX_SHARDS || f->shard_id >= f->shard_count)
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

static int
check_sign(struct zcs_wire_sign *f)
{
	f->seq = le64toh(f->seq);
	f->account = le64toh(f->account);
	if (!zcs_algo_valid(f->algo))
		return ZCS_ERR_BAD_ALGO;
	if (!all_zero(f->reserved, sizeof(f->reserved)))
		return ZCS_ERR_BAD_RESERVED;
	return 0;
}

static int
check_sign_reply(struct zcs_wire_sign_reply *f)
{
	f->seq = le64toh(f->seq);
	f->status = le16toh(f->status);
	f->service_ns = le64toh(f->service_ns);
	if (!all_zero(f->reserved, sizeof(f->reserved)))
		return ZCS_ERR_BAD_RESERVED;
	if (f->status >= ZCS_STATUS_MAX || f->recid > 3)
		return ZCS_ERR_BAD_REQUEST;
	if (f->status != ZCS_OK && (f->recid != 0 || !all_zero(f->sig, sizeof(f->sig))))
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

static int
check_pubkey(struct zcs_wire_pubkey *f)
{
	f->seq = le64toh(f->seq);
	f->account = le64toh(f->account);
	return 0;
}

static int
check_pubkey_reply(struct zcs_wire_pubkey_reply *f)
{
	f->seq = le64toh(f->seq);
	f->status = le16toh(f->status);
	if (!all_zero(f->reserved, sizeof(f->reserved)) || !all_zero(f->pad, sizeof(f->pad)))
		return ZCS_ERR_BAD_RESERVED;
	if (f->status >= ZCS_STATUS_MAX)
		return ZCS_ERR_BAD_REQUEST;
	if (f->status == ZCS_OK && f->compressed[0] != 2 && f->compressed[0] != 3)
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

static int
check_error(struct zcs_wire_error *f)
{
	f->seq = le64toh(f->seq);
	f->status = le16toh(f->status);
	if (!all_zero(f->reserved, sizeof(f->reserved)))
		return ZCS_ERR_BAD_RESERVED;
	if (f->status == ZCS_OK || f->status >= ZCS_STATUS_MAX)
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

static int
check_stats(struct zcs_wire_stats *f)
{
	f->seq = le64toh(f->seq);
	return 0;
}

static int
check_stats_reply(struct zcs_wire_stats_reply *f)
{
	f->seq = le64toh(f->seq);
	f->ecdsa_depth = le32toh(f->ecdsa_depth);
	f->ecdsa_capacity = le32toh(f->ecdsa_capacity);
	f->schnorr_depth = le32toh(f->schnorr_depth);
	f->schnorr_capacity = le32toh(f->schnorr_capacity);
	f->refilled = le64toh(f->refilled);
	f->misses = le64toh(f->misses);
	f->discards = le64toh(f->discards);
	f->signed_ok = le64toh(f->signed_ok);
	f->key_count = le32toh(f->key_count);
	if (!all_zero(f->reserved, sizeof(f->reserved)))
		return ZCS_ERR_BAD_RESERVED;
	if (zcs_nonce_mode_name(f->nonce_mode) == NULL ||
		zcs_key_source_name(f->key_source) == NULL)
		return ZCS_ERR_BAD_REQUEST;
	if (f->key_source == ZCS_KEYS_SEALED && f->key_count != 0)
		return ZCS_ERR_BAD_REQUEST;
	if (f->ecdsa_depth > f->ecdsa_capacity || f->schnorr_depth > f->schnorr_capacity)
		return ZCS_ERR_BAD_REQUEST;
	/* Without pools there is nothing to count. */
	if (f->nonce_mode != ZCS_NONCE_PRECOMPUTED &&
		(f->ecdsa_capacity | f->schnorr_capacity | f->refilled | f->misses | f->discards) !=
			0)
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

/*
 * A chunk of a larger object (ATTEST_REPLY, BUNDLE): 64 bytes of data of which
 * chunk_len are used, at offset of total; zero past chunk_len.
 */
static int
check_chunk(
	uint32_t total, uint32_t max, uint32_t offset, uint16_t chunk_len, const uint8_t data[64])
{
	static_assert(ZCS_WIRE_ATTEST_CHUNK == 64 && ZCS_WIRE_BUNDLE_CHUNK == 64, "chunk sizes");
	if (total == 0 || total > max || chunk_len == 0 || chunk_len > 64 || offset >= total ||
		chunk_len > total - offset)
		return ZCS_ERR_BAD_REQUEST;
	if (!all_zero(data + chunk_len, 64u - chunk_len))
		return ZCS_ERR_BAD_RESERVED;
	return 0;
}

static int
check_attest(struct zcs_wire_attest *f)
{
	f->seq = le64toh(f->seq);
	return 0;
}

static int
check_attest_reply(struct zcs_wire_attest_reply *f)
{
	f->seq = le64toh(f->seq);
	f->status = le16toh(f->status);
	f->chunk_len = le16toh(f->chunk_len);
	f->total = le32toh(f->total);
	f->offset = le32toh(f->offset);
	f->reserved = le32toh(f->reserved);
	if (f->reserved != 0 || f->status >= ZCS_STATUS_MAX)
		return ZCS_ERR_BAD_RESERVED;
	if (f->status != ZCS_OK)
		return (f->total | f->offset | f->chunk_len) == 0 &&
				all_zero(f->data, sizeof(f->data))
			? 0
			: ZCS_ERR_BAD_REQUEST;
	return check_chunk(f->total, ZCS_WIRE_ATTEST_MAX, f->offset, f->chunk_len, f->data);
}

static int
check_provision(struct zcs_wire_provision *f)
{
	f->seq = le64toh(f->seq);
	return 0;
}

static int
check_bundle(struct zcs_wire_bundle *f)
{
	f->seq = le64toh(f->seq);
	f->reserved0 = le16toh(f->reserved0);
	f->chunk_len = le16toh(f->chunk_len);
	f->total = le32toh(f->total);
	f->offset = le32toh(f->offset);
	f->reserved1 = le32toh(f->reserved1);
	if ((f->reserved0 | f->reserved1) != 0)
		return ZCS_ERR_BAD_RESERVED;
	return check_chunk(f->total, ZCS_WIRE_BUNDLE_MAX, f->offset, f->chunk_len, f->data);
}

static int
check_bundle_reply(struct zcs_wire_bundle_reply *f)
{
	f->seq = le64toh(f->seq);
	f->status = le16toh(f->status);
	f->key_count = le32toh(f->key_count);
	f->added = le32toh(f->added);
	f->rotated = le32toh(f->rotated);
	f->generation = le64toh(f->generation);
	if (!all_zero(f->reserved, sizeof(f->reserved)))
		return ZCS_ERR_BAD_RESERVED;
	if (f->status >= ZCS_STATUS_MAX)
		return ZCS_ERR_BAD_REQUEST;
	/* A refused bundle changed nothing. */
	if (f->status != ZCS_OK && (f->added | f->rotated) != 0)
		return ZCS_ERR_BAD_REQUEST;
	return 0;
}

int
zcs_wire_decode(const void *buf, size_t len, union zcs_wire_frame *out, size_t *consumed)
{
	struct zcs_wire_hdr h;
	size_t size;

	if (len < sizeof(h))
		return ZCS_WIRE_NEED_MORE;
	memcpy(&h, buf, sizeof(h));
	h.magic = le32toh(h.magic);
	h.length = le16toh(h.length);
	if (h.magic != ZCS_WIRE_MAGIC)
		return ZCS_ERR_BAD_MAGIC;
	if (h.version != ZCS_WIRE_VERSION)
		return ZCS_ERR_BAD_VERSION;
	size = zcs_wire_frame_size(h.type);
	if (size == 0)
		return ZCS_ERR_BAD_TYPE;
	if (h.length != size)
		return ZCS_ERR_BAD_LENGTH;
	if (len < size)
		return ZCS_WIRE_NEED_MORE;

	memcpy(out, buf, size);
	out->hdr = h;
	*consumed = size;
	switch (h.type) {
	case ZCS_FT_HELLO:
		return check_hello(&out->hello);
	case ZCS_FT_HELLO_REPLY:
		return check_hello_reply(&out->hello_reply);
	case ZCS_FT_SIGN:
		return check_sign(&out->sign);
	case ZCS_FT_SIGN_REPLY:
		return check_sign_reply(&out->sign_reply);
	case ZCS_FT_PUBKEY:
		return check_pubkey(&out->pubkey);
	case ZCS_FT_PUBKEY_REPLY:
		return check_pubkey_reply(&out->pubkey_reply);
	case ZCS_FT_ERROR:
		return check_error(&out->error);
	case ZCS_FT_STATS:
		return check_stats(&out->stats);
	case ZCS_FT_STATS_REPLY:
		return check_stats_reply(&out->stats_reply);
	case ZCS_FT_ATTEST:
		return check_attest(&out->attest);
	case ZCS_FT_ATTEST_REPLY:
		return check_attest_reply(&out->attest_reply);
	case ZCS_FT_PROVISION:
		return check_provision(&out->provision);
	case ZCS_FT_BUNDLE:
		return check_bundle(&out->bundle);
	case ZCS_FT_BUNDLE_REPLY:
		return check_bundle_reply(&out->bundle_reply);
	}
	return ZCS_ERR_BAD_TYPE; /* unreachable: frame_size() knew the type */
}

static const char *const algo_names[] = {
	[ZCS_ALGO_ECDSA] = "ecdsa",
	[ZCS_ALGO_ECDSA_RECOVERABLE] = "ecdsa-recoverable",
	[ZCS_ALGO_SCHNORR] = "schnorr",
};

static const char *const nonce_names[] = {
	[ZCS_NONCE_RFC6979] = "rfc6979",
	[ZCS_NONCE_PRECOMPUTED] = "precomputed",
	[ZCS_NONCE_HEDGED] = "hedged",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *
name_of(const char *const *names, size_t n, unsigned int v)
{
	return v < n ? names[v] : NULL;
}

static unsigned int
parse_name(const char *const *names, size_t n, const char *s)
{
	unsigned int i;

	for (i = 1; s != NULL && i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return i;
	return 0;
}

const char *
zcs_algo_name(unsigned int algo)
{
	return name_of(algo_names, NELEM(algo_names), algo);
}

unsigned int
zcs_algo_parse(const char *name)
{
	return parse_name(algo_names, NELEM(algo_names), name);
}

const char *
zcs_nonce_mode_name(unsigned int mode)
{
	return name_of(nonce_names, NELEM(nonce_names), mode);
}

unsigned int
zcs_nonce_mode_parse(const char *name)
{
	return parse_name(nonce_names, NELEM(nonce_names), name);
}

static const char *const key_source_names[] = {
	[ZCS_KEYS_SEALED] = "sealed",
	[ZCS_KEYS_PROVISIONED] = "provisioned",
	[ZCS_KEYS_DEV] = "insecure-dev",
};

const char *
zcs_key_source_name(unsigned int source)
{
	return name_of(key_source_names, NELEM(key_source_names), source);
}
