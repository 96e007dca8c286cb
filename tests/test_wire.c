/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wire codec: every frame type round-trips, the bytes are the documented
 * little-endian layout, and every malformed frame is refused with its own
 * status: fatal for header faults, non-fatal (frame consumed) for body faults.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include <zcsign/shard.h>
#include <zcsign/wire.h>

static uint8_t hash32[32];
static uint8_t meas48[ZCS_MEASUREMENT_LEN];

static int
setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++)
		hash32[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < ZCS_MEASUREMENT_LEN; i++)
		meas48[i] = (uint8_t)(i * 7);
	return 0;
}

static int
decode(const void *buf, size_t len, union zcs_wire_frame *f, size_t *used)
{
	*used = 0;
	return zcs_wire_decode(buf, len, f, used);
}

static void
hdr_bytes_are_little_endian(void **state)
{
	struct zcs_wire_sign s;
	const uint8_t *b = (const uint8_t *)&s;

	(void)state;
	zcs_wire_sign(&s, 0x0102030405060708ULL, 0x1112131415161718ULL, ZCS_ALGO_SCHNORR, hash32);
	assert_memory_equal(b, "ZCS1", 4);
	assert_int_equal(b[4], ZCS_WIRE_VERSION);
	assert_int_equal(b[5], ZCS_FT_SIGN);
	assert_int_equal(b[6], 64);
	assert_int_equal(b[7], 0);
	assert_int_equal(b[8], 0x08); /* seq, least significant byte first */
	assert_int_equal(b[15], 0x01);
	assert_int_equal(b[16], 0x18);
	assert_int_equal(b[24], ZCS_ALGO_SCHNORR);
	assert_memory_equal(b + 32, hash32, 32);
}

static void
hello_round_trip(void **state)
{
	struct zcs_wire_hello h;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	zcs_wire_hello(&h, 3, 4);
	assert_int_equal(decode(&h, sizeof(h), &f, &used), 0);
	assert_int_equal(used, sizeof(h));
	assert_int_equal(f.hdr.type, ZCS_FT_HELLO);
	assert_int_equal(f.hello.shard_id, 3);
	assert_int_equal(f.hello.shard_count, 4);

	zcs_wire_hello(&h, ZCS_SHARD_ANY, 0);
	assert_int_equal(decode(&h, sizeof(h), &f, &used), 0);
	assert_int_equal(f.hello.shard_id, ZCS_SHARD_ANY);
}

static void
hello_bad_fields(void **state)
{
	struct zcs_wire_hello h;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	zcs_wire_hello(&h, 4, 4); /* id must be < count */
	assert_int_equal(decode(&h, sizeof(h), &f, &used), ZCS_ERR_BAD_REQUEST);
	assert_int_equal(used, sizeof(h));
	zcs_wire_hello(&h, 0, 0);
	assert_int_equal(decode(&h, sizeof(h), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_hello(&h, 0, ZCS_MAX_SHARDS + 1);
	assert_int_equal(decode(&h, sizeof(h), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_hello(&h, ZCS_SHARD_ANY, 2); /* ANY takes no count */
	assert_int_equal(decode(&h, sizeof(h), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_hello(&h, 0, 1);
	h.reserved = 1;
	assert_int_equal(decode(&h, sizeof(h), &f, &used), ZCS_ERR_BAD_RESERVED);
}

static void
hello_reply_round_trip(void **state)
{
	struct zcs_wire_hello_reply r;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	zcs_wire_hello_reply(&r, 1, 2, 500, ZCS_NONCE_RFC6979, ZCS_KEYS_PROVISIONED, meas48);
	assert_int_equal(((const uint8_t *)&r)[17], ZCS_KEYS_PROVISIONED);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(used, 72);
	assert_int_equal(f.hello_reply.shard_id, 1);
	assert_int_equal(f.hello_reply.shard_count, 2);
	assert_int_equal(f.hello_reply.key_count, 500);
	assert_int_equal(f.hello_reply.nonce_mode, ZCS_NONCE_RFC6979);
	assert_int_equal(f.hello_reply.key_source, ZCS_KEYS_PROVISIONED);
	assert_memory_equal(f.hello_reply.measurement, meas48, ZCS_MEASUREMENT_LEN);

	zcs_wire_hello_reply(&r, 1, 2, 500, 9, ZCS_KEYS_DEV, meas48);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_hello_reply(&r, 2, 2, 500, ZCS_NONCE_HEDGED, ZCS_KEYS_DEV, meas48);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	/* A key source the protocol does not know. */
	zcs_wire_hello_reply(&r, 1, 2, 500, ZCS_NONCE_HEDGED, 0, meas48);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_hello_reply(&r, 1, 2, 500, ZCS_NONCE_HEDGED, 4, meas48);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_hello_reply(&r, 0, 2, 500, ZCS_NONCE_PRECOMPUTED, ZCS_KEYS_SEALED, meas48);
	r.reserved[5] = 0x80;
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_RESERVED);
}

static void
sign_round_trip_every_algo(void **state)
{
	struct zcs_wire_sign s;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	for (unsigned int algo = ZCS_ALGO_ECDSA; algo <= ZCS_ALGO_SCHNORR; algo++) {
		zcs_wire_sign(&s, UINT64_MAX - algo, 42 + algo, (uint8_t)algo, hash32);
		assert_int_equal(decode(&s, sizeof(s), &f, &used), 0);
		assert_int_equal(used, 64);
		assert_true(f.sign.seq == UINT64_MAX - algo);
		assert_true(f.sign.account == 42 + algo);
		assert_int_equal(f.sign.algo, algo);
		assert_memory_equal(f.sign.hash, hash32, 32);
	}
}

static void
sign_bad_algo_and_reserved_are_not_fatal(void **state)
{
	struct zcs_wire_sign s;
	union zcs_wire_frame f;
	size_t used;
	int st;

	(void)state;
	zcs_wire_sign(&s, 77, 1, 0, hash32);
	st = decode(&s, sizeof(s), &f, &used);
	assert_int_equal(st, ZCS_ERR_BAD_ALGO);
	assert_false(zcs_wire_status_fatal(st));
	assert_int_equal(used, sizeof(s)); /* consumed: the stream goes on */
	assert_true(f.sign.seq == 77); /* and the reply can name it */

	zcs_wire_sign(&s, 78, 1, 4, hash32);
	assert_int_equal(decode(&s, sizeof(s), &f, &used), ZCS_ERR_BAD_ALGO);
	zcs_wire_sign(&s, 79, 1, 0xff, hash32);
	assert_int_equal(decode(&s, sizeof(s), &f, &used), ZCS_ERR_BAD_ALGO);

	for (size_t i = 0; i < sizeof(s.reserved); i++) {
		zcs_wire_sign(&s, 80, 1, ZCS_ALGO_ECDSA, hash32);
		s.reserved[i] = 1;
		st = decode(&s, sizeof(s), &f, &used);
		assert_int_equal(st, ZCS_ERR_BAD_RESERVED);
		assert_false(zcs_wire_status_fatal(st));
		assert_true(f.sign.seq == 80);
	}
}

static void
sign_reply_round_trip(void **state)
{
	struct zcs_wire_sign_reply r;
	union zcs_wire_frame f;
	uint8_t sig[64];
	size_t used;

	(void)state;
	for (int i = 0; i < 64; i++)
		sig[i] = (uint8_t)(255 - i);
	zcs_wire_sign_reply(&r, 9, ZCS_OK, 3, 18500, sig);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(used, 96);
	assert_true(f.sign_reply.seq == 9);
	assert_int_equal(f.sign_reply.status, ZCS_OK);
	assert_int_equal(f.sign_reply.recid, 3);
	assert_true(f.sign_reply.service_ns == 18500);
	assert_memory_equal(f.sign_reply.sig, sig, 64);

	zcs_wire_sign_reply(&r, 10, ZCS_ERR_UNKNOWN_ACCOUNT, 0, 0, NULL);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(f.sign_reply.status, ZCS_ERR_UNKNOWN_ACCOUNT);

	zcs_wire_sign_reply(&r, 11, ZCS_OK, 4, 0, sig); /* recid is 0..3 */
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_sign_reply(&r, 12, ZCS_STATUS_MAX, 0, 0, NULL);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_sign_reply(&r, 13, ZCS_ERR_SIGN_FAILED, 0, 0, sig); /* error with a sig */
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_sign_reply(&r, 14, ZCS_OK, 0, 0, sig);
	r.reserved[0] = 2;
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_RESERVED);
}

static void
pubkey_round_trip(void **state)
{
	struct zcs_wire_pubkey q;
	struct zcs_wire_pubkey_reply r;
	union zcs_wire_frame f;
	uint8_t comp[33], x[32];
	size_t used;

	(void)state;
	zcs_wire_pubkey(&q, 5, 1234);
	assert_int_equal(decode(&q, sizeof(q), &f, &used), 0);
	assert_int_equal(used, 24);
	assert_true(f.pubkey.seq == 5 && f.pubkey.account == 1234);

	comp[0] = 3;
	for (int i = 1; i < 33; i++)
		comp[i] = (uint8_t)i;
	for (int i = 0; i < 32; i++)
		x[i] = (uint8_t)(i + 1);
	zcs_wire_pubkey_reply(&r, 5, ZCS_OK, comp, x);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(used, 96);
	assert_memory_equal(f.pubkey_reply.compressed, comp, 33);
	assert_memory_equal(f.pubkey_reply.xonly, x, 32);

	comp[0] = 4; /* not a compressed key prefix */
	zcs_wire_pubkey_reply(&r, 5, ZCS_OK, comp, x);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	comp[0] = 2;
	zcs_wire_pubkey_reply(&r, 5, ZCS_OK, comp, x);
	r.pad[6] = 1;
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_RESERVED);
	zcs_wire_pubkey_reply(&r, 6, ZCS_ERR_UNKNOWN_ACCOUNT, NULL, NULL);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(f.pubkey_reply.status, ZCS_ERR_UNKNOWN_ACCOUNT);
}

static void
error_round_trip(void **state)
{
	struct zcs_wire_error e;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	zcs_wire_error(&e, 31, ZCS_ERR_BUSY);
	assert_int_equal(decode(&e, sizeof(e), &f, &used), 0);
	assert_int_equal(used, 24);
	assert_true(f.error.seq == 31);
	assert_int_equal(f.error.status, ZCS_ERR_BUSY);
	zcs_wire_error(&e, 31, ZCS_OK); /* an error frame must carry an error */
	assert_int_equal(decode(&e, sizeof(e), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_error(&e, 31, 999);
	assert_int_equal(decode(&e, sizeof(e), &f, &used), ZCS_ERR_BAD_REQUEST);
}

static void
stats_round_trip(void **state)
{
	struct zcs_wire_stats q;
	union zcs_wire_frame f;
	size_t used;
	const uint8_t *b = (const uint8_t *)&q;

	(void)state;
	zcs_wire_stats(&q, 0x0102030405060708ULL);
	assert_int_equal(b[5], ZCS_FT_STATS);
	assert_int_equal(b[5], 8);
	assert_int_equal(b[6], 16);
	assert_int_equal(b[8], 0x08);
	assert_int_equal(decode(&q, sizeof(q), &f, &used), 0);
	assert_int_equal(used, 16);
	assert_int_equal(f.hdr.type, ZCS_FT_STATS);
	assert_true(f.stats.seq == 0x0102030405060708ULL);
}

/* Counters as a precomputed-mode signer reports them, host order. */
static void
stats_sample(struct zcs_wire_stats_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->nonce_mode = ZCS_NONCE_PRECOMPUTED;
	r->ecdsa_depth = 1000;
	r->ecdsa_capacity = 4096;
	r->schnorr_depth = 4096;
	r->schnorr_capacity = 4096;
	r->refilled = 0x1122334455667788ULL;
	r->misses = 3;
	r->discards = 1;
	r->signed_ok = 0x0a0b0c0d0e0f1011ULL;
	r->key_source = ZCS_KEYS_PROVISIONED;
	r->key_count = 0x01020304;
}

static void
stats_reply_round_trip(void **state)
{
	struct zcs_wire_stats_reply in, r;
	union zcs_wire_frame f;
	size_t used;
	const uint8_t *b = (const uint8_t *)&r;

	(void)state;
	stats_sample(&in);
	zcs_wire_stats_reply(&r, 77, &in);
	/* The documented bytes: type 9, length 72, little-endian fields at their offsets. */
	assert_int_equal(b[5], 9);
	assert_int_equal(b[6], 72);
	assert_int_equal(b[7], 0);
	assert_int_equal(b[8], 77);
	assert_int_equal(b[16], ZCS_NONCE_PRECOMPUTED);
	assert_int_equal(b[17], ZCS_KEYS_PROVISIONED);
	assert_int_equal(b[20], 0x04);
	assert_int_equal(b[23], 0x01);
	assert_int_equal(b[24], 1000 & 0xff);
	assert_int_equal(b[25], 1000 >> 8);
	assert_int_equal(b[29], 4096 >> 8);
	assert_int_equal(b[40], 0x88);
	assert_int_equal(b[47], 0x11);
	assert_int_equal(b[48], 3);
	assert_int_equal(b[56], 1);
	assert_int_equal(b[64], 0x11);
	assert_int_equal(b[71], 0x0a);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(used, 72);
	assert_int_equal(f.hdr.type, ZCS_FT_STATS_REPLY);
	assert_true(f.stats_reply.seq == 77);
	assert_int_equal(f.stats_reply.nonce_mode, ZCS_NONCE_PRECOMPUTED);
	assert_int_equal(f.stats_reply.ecdsa_depth, 1000);
	assert_int_equal(f.stats_reply.ecdsa_capacity, 4096);
	assert_int_equal(f.stats_reply.schnorr_depth, 4096);
	assert_int_equal(f.stats_reply.schnorr_capacity, 4096);
	assert_true(f.stats_reply.refilled == 0x1122334455667788ULL);
	assert_true(f.stats_reply.misses == 3);
	assert_true(f.stats_reply.discards == 1);
	assert_true(f.stats_reply.signed_ok == 0x0a0b0c0d0e0f1011ULL);
	assert_int_equal(f.stats_reply.key_source, ZCS_KEYS_PROVISIONED);
	assert_int_equal(f.stats_reply.key_count, 0x01020304);

	/* Without pools: every pool field zero, signed_ok still counted. */
	memset(&in, 0, sizeof(in));
	in.nonce_mode = ZCS_NONCE_HEDGED;
	in.key_source = ZCS_KEYS_SEALED;
	in.signed_ok = 5;
	zcs_wire_stats_reply(&r, 78, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(f.stats_reply.nonce_mode, ZCS_NONCE_HEDGED);
	assert_true(f.stats_reply.signed_ok == 5);
}

/* A document as ATTEST_REPLY frames: in order, each decodable, the last one short. */
static void
attest_doc_frames(void **state)
{
	struct zcs_wire_attest_reply out[ZCS_WIRE_ATTEST_FRAMES(150)];
	union zcs_wire_frame f;
	uint8_t doc[150];
	size_t used, i;

	(void)state;
	for (i = 0; i < sizeof(doc); i++)
		doc[i] = (uint8_t)i;
	assert_int_equal(ZCS_WIRE_ATTEST_FRAMES(150), 3);
	assert_int_equal(ZCS_WIRE_ATTEST_FRAMES(128), 2);
	assert_int_equal(zcs_wire_attest_doc(out, 7, doc, sizeof(doc)), 3 * sizeof(out[0]));
	for (i = 0; i < 3; i++) {
		assert_int_equal(decode(&out[i], sizeof(out[i]), &f, &used), 0);
		assert_true(f.attest_reply.seq == 7);
		assert_int_equal(f.attest_reply.status, ZCS_OK);
		assert_int_equal(f.attest_reply.total, 150);
		assert_int_equal(f.attest_reply.offset, 64 * i);
		assert_int_equal(f.attest_reply.chunk_len, i < 2 ? 64 : 22);
		assert_memory_equal(f.attest_reply.data, doc + 64 * i, f.attest_reply.chunk_len);
	}
}

/* The control endpoint's frames: PROVISION, BUNDLE chunks, BUNDLE_REPLY. */
static void
provision_frames(void **state)
{
	struct zcs_wire_provision p;
	struct zcs_wire_bundle b;
	struct zcs_wire_bundle_reply r, in;
	union zcs_wire_frame f;
	uint8_t nonce[32], data[64];
	size_t used;

	(void)state;
	memset(nonce, 0x5a, sizeof(nonce));
	memset(data, 0xc3, sizeof(data));
	zcs_wire_provision(&p, 9, nonce);
	assert_int_equal(decode(&p, sizeof(p), &f, &used), 0);
	assert_int_equal(used, 48);
	assert_int_equal(f.hdr.type, ZCS_FT_PROVISION);
	assert_true(f.provision.seq == 9);
	assert_memory_equal(f.provision.nonce, nonce, 32);

	zcs_wire_bundle(&b, 9, 200, 192, data, 8);
	assert_int_equal(((const uint8_t *)&b)[18], 8);
	assert_int_equal(((const uint8_t *)&b)[20], 200);
	assert_int_equal(((const uint8_t *)&b)[24], 192);
	assert_int_equal(decode(&b, sizeof(b), &f, &used), 0);
	assert_int_equal(used, 96);
	assert_int_equal(f.bundle.total, 200);
	assert_int_equal(f.bundle.offset, 192);
	assert_int_equal(f.bundle.chunk_len, 8);
	assert_memory_equal(f.bundle.data, data, 8);
	/* A chunk past the total, an empty or oversized chunk, data past chunk_len. */
	zcs_wire_bundle(&b, 9, 200, 193, data, 8);
	assert_int_equal(decode(&b, sizeof(b), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_bundle(&b, 9, 200, 0, data, 0);
	assert_int_equal(decode(&b, sizeof(b), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_bundle(&b, 9, 200, 0, data, 8);
	b.chunk_len = htole16(65);
	assert_int_equal(decode(&b, sizeof(b), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_bundle(&b, 9, 200, 0, data, 8);
	b.data[8] = 1;
	assert_int_equal(decode(&b, sizeof(b), &f, &used), ZCS_ERR_BAD_RESERVED);
	zcs_wire_bundle(&b, 9, 200, 0, data, 8);
	b.reserved1 = 1;
	assert_int_equal(decode(&b, sizeof(b), &f, &used), ZCS_ERR_BAD_RESERVED);

	memset(&in, 0, sizeof(in));
	in.status = ZCS_OK;
	in.key_count = 600;
	in.added = 100;
	in.rotated = 3;
	in.generation = 0x1122334455667788ULL;
	zcs_wire_bundle_reply(&r, 9, &in);
	assert_int_equal(((const uint8_t *)&r)[6], 40);
	assert_int_equal(((const uint8_t *)&r)[32], 0x88);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(used, 40);
	assert_int_equal(f.bundle_reply.key_count, 600);
	assert_int_equal(f.bundle_reply.added, 100);
	assert_int_equal(f.bundle_reply.rotated, 3);
	assert_true(f.bundle_reply.generation == 0x1122334455667788ULL);
	/* A refusal that claims to have changed something. */
	in.status = ZCS_ERR_STALE;
	zcs_wire_bundle_reply(&r, 9, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	in.added = in.rotated = 0;
	zcs_wire_bundle_reply(&r, 9, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(f.bundle_reply.status, ZCS_ERR_STALE);
}

static void
stats_reply_bad_fields(void **state)
{
	struct zcs_wire_stats_reply in, r;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	stats_sample(&in);
	zcs_wire_stats_reply(&r, 1, &in);
	r.reserved[1] = 1;
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_RESERVED);
	assert_int_equal(used, 72); /* a body fault: consumed, not fatal */

	/* An unknown key source; a sealed signer that claims keys. */
	in.key_source = 0;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	in.key_source = ZCS_KEYS_SEALED;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	stats_sample(&in);

	in.nonce_mode = 0;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	in.nonce_mode = 4;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);

	stats_sample(&in);
	in.ecdsa_depth = in.ecdsa_capacity + 1; /* deeper than the pool */
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	stats_sample(&in);
	in.schnorr_depth = in.schnorr_capacity + 1;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);

	/* Pool counters from a signer that has no pools. */
	stats_sample(&in);
	in.nonce_mode = ZCS_NONCE_RFC6979;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	memset(&in, 0, sizeof(in));
	in.nonce_mode = ZCS_NONCE_RFC6979;
	in.key_source = ZCS_KEYS_DEV;
	in.misses = 1;
	zcs_wire_stats_reply(&r, 1, &in);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);

	/* A STATS_REPLY length on a STATS header, and the reverse: fatal. */
	zcs_wire_stats_reply(&r, 1, &in);
	r.hdr.type = ZCS_FT_STATS;
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_LENGTH);
	{
		struct zcs_wire_stats q;

		zcs_wire_stats(&q, 1);
		q.hdr.type = ZCS_FT_STATS_REPLY;
		assert_int_equal(decode(&q, sizeof(q), &f, &used), ZCS_ERR_BAD_LENGTH);
	}
}

static void
header_faults_are_fatal(void **state)
{
	struct zcs_wire_sign s;
	union zcs_wire_frame f;
	size_t used;
	uint8_t *b = (uint8_t *)&s;
	int st;

	(void)state;
	zcs_wire_sign(&s, 1, 1, ZCS_ALGO_ECDSA, hash32);
	b[0] ^= 0x20;
	st = decode(&s, sizeof(s), &f, &used);
	assert_int_equal(st, ZCS_ERR_BAD_MAGIC);
	assert_true(zcs_wire_status_fatal(st));
	assert_int_equal(used, 0);

	zcs_wire_sign(&s, 1, 1, ZCS_ALGO_ECDSA, hash32);
	b[4] = ZCS_WIRE_VERSION + 1;
	st = decode(&s, sizeof(s), &f, &used);
	assert_int_equal(st, ZCS_ERR_BAD_VERSION);
	assert_true(zcs_wire_status_fatal(st));

	for (unsigned int t = 0; t < 256; t++) {
		if (zcs_wire_frame_size(t) != 0)
			continue;
		zcs_wire_sign(&s, 1, 1, ZCS_ALGO_ECDSA, hash32);
		b[5] = (uint8_t)t;
		st = decode(&s, sizeof(s), &f, &used);
		assert_int_equal(st, ZCS_ERR_BAD_TYPE);
		assert_true(zcs_wire_status_fatal(st));
	}

	/* a length that is not the type's size, shorter or longer */
	const uint16_t lens[] = {0, 8, 63, 65, 96, 0xffff};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		zcs_wire_sign(&s, 1, 1, ZCS_ALGO_ECDSA, hash32);
		s.hdr.length = htole16(lens[i]);
		st = decode(&s, sizeof(s), &f, &used);
		assert_int_equal(st, ZCS_ERR_BAD_LENGTH);
		assert_true(zcs_wire_status_fatal(st));
	}
}

static void
short_buffers_need_more(void **state)
{
	struct zcs_wire_sign s;
	union zcs_wire_frame f;
	size_t used;

	(void)state;
	zcs_wire_sign(&s, 1, 1, ZCS_ALGO_ECDSA, hash32);
	for (size_t n = 0; n < sizeof(s); n++) {
		assert_int_equal(decode(&s, n, &f, &used), ZCS_WIRE_NEED_MORE);
		assert_int_equal(used, 0);
	}
	/* a bad magic is seen as soon as the header is in, not later */
	((uint8_t *)&s)[1] = 'X';
	assert_int_equal(decode(&s, 8, &f, &used), ZCS_ERR_BAD_MAGIC);
}

static void
back_to_back_frames_unaligned(void **state)
{
	/* frames packed in a stream, starting at an odd offset */
	uint8_t buf[1 + 16 + 64 + 24 + 64];
	struct zcs_wire_hello h;
	struct zcs_wire_sign s1, s2;
	struct zcs_wire_pubkey p;
	union zcs_wire_frame f;
	size_t off = 1, used;

	(void)state;
	zcs_wire_hello(&h, 0, 1);
	zcs_wire_sign(&s1, 100, 7, ZCS_ALGO_ECDSA, hash32);
	zcs_wire_pubkey(&p, 101, 7);
	zcs_wire_sign(&s2, 102, 8, ZCS_ALGO_SCHNORR, hash32);
	memcpy(buf + 1, &h, 16);
	memcpy(buf + 17, &s1, 64);
	memcpy(buf + 81, &p, 24);
	memcpy(buf + 105, &s2, 64);

	const uint8_t types[] = {ZCS_FT_HELLO, ZCS_FT_SIGN, ZCS_FT_PUBKEY, ZCS_FT_SIGN};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(decode(buf + off, sizeof(buf) - off, &f, &used), 0);
		assert_int_equal(f.hdr.type, types[i]);
		off += used;
	}
	assert_int_equal(off, sizeof(buf));
	assert_true(f.sign.seq == 102 && f.sign.account == 8);
}

static void
random_bytes_never_crash(void **state)
{
	/* decoding noise must end in a status, and a decoded frame must be valid */
	uint8_t buf[ZCS_WIRE_MAX_FRAME];
	union zcs_wire_frame f;
	size_t used;
	unsigned int seed = 12345;
	int ok = 0;

	(void)state;
	for (int iter = 0; iter < 200000; iter++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rand_r(&seed);
		if (iter & 1) { /* a valid header over a random body */
			unsigned int t = 1 + (unsigned int)rand_r(&seed) % ZCS_FT_STATS_REPLY;
			zcs_wire_hdr_init((struct zcs_wire_hdr *)buf, t, zcs_wire_frame_size(t));
		}
		int st = decode(buf, sizeof(buf), &f, &used);
		assert_true(st == 0 || (st > 0 && st < ZCS_STATUS_MAX));
		if (st == 0) {
			ok++;
			assert_int_equal(used, zcs_wire_frame_size(f.hdr.type));
		}
	}
	assert_true(ok > 0); /* some random bodies are valid (e.g. PUBKEY) */
}

static void
names_round_trip(void **state)
{
	(void)state;
	for (unsigned int a = ZCS_ALGO_ECDSA; a <= ZCS_ALGO_SCHNORR; a++)
		assert_int_equal(zcs_algo_parse(zcs_algo_name(a)), a);
	assert_string_equal(zcs_algo_name(ZCS_ALGO_ECDSA_RECOVERABLE), "ecdsa-recoverable");
	assert_int_equal(zcs_algo_parse("rsa"), 0);
	assert_int_equal(zcs_algo_parse(NULL), 0);
	assert_null(zcs_algo_name(0));
	assert_null(zcs_algo_name(99));
	for (unsigned int m = ZCS_NONCE_RFC6979; m <= ZCS_NONCE_HEDGED; m++)
		assert_int_equal(zcs_nonce_mode_parse(zcs_nonce_mode_name(m)), m);
	assert_int_equal(zcs_nonce_mode_parse("random"), 0);
}

/* ATTEST and ATTEST_REPLY: the documented bytes, and every field checked. */
static void
attest_round_trip(void **state)
{
	struct zcs_wire_attest a;
	struct zcs_wire_attest_reply r;
	union zcs_wire_frame f;
	uint8_t nonce[32], chunk[ZCS_WIRE_ATTEST_CHUNK];
	const uint8_t *b = (const uint8_t *)&r;
	size_t used;

	(void)state;
	memset(nonce, 0x5a, sizeof(nonce));
	zcs_wire_attest(&a, 9, nonce);
	assert_int_equal(decode(&a, sizeof(a), &f, &used), 0);
	assert_int_equal(used, 48);
	assert_int_equal(f.hdr.type, ZCS_FT_ATTEST);
	assert_true(f.attest.seq == 9);
	assert_memory_equal(f.attest.nonce, nonce, 32);

	memset(chunk, 0xc3, sizeof(chunk));
	zcs_wire_attest_reply(&r, 9, ZCS_OK, 200, 128, chunk, 50);
	assert_int_equal(b[5], ZCS_FT_ATTEST_REPLY);
	assert_int_equal(b[6], 96);
	assert_int_equal(b[18], 50); /* chunk_len */
	assert_int_equal(b[20], 200); /* total */
	assert_int_equal(b[24], 128); /* offset */
	assert_int_equal(b[32], 0xc3);
	assert_int_equal(b[32 + 50], 0); /* zero past chunk_len */
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(f.attest_reply.total, 200);
	assert_int_equal(f.attest_reply.offset, 128);
	assert_int_equal(f.attest_reply.chunk_len, 50);
	/* Past the end of the document, empty, too long, too large: refused. */
	zcs_wire_attest_reply(&r, 9, ZCS_OK, 200, 160, chunk, 50);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_attest_reply(&r, 9, ZCS_OK, 200, 0, chunk, 0);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	zcs_wire_attest_reply(&r, 9, ZCS_OK, ZCS_WIRE_ATTEST_MAX + 1, 0, chunk, 64);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	r.chunk_len = htole16(65);
	r.total = htole32(200);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
	/* A byte past chunk_len, a reserved field: refused. */
	zcs_wire_attest_reply(&r, 9, ZCS_OK, 200, 0, chunk, 10);
	r.data[10] = 1;
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_RESERVED);
	zcs_wire_attest_reply(&r, 9, ZCS_OK, 200, 0, chunk, 10);
	r.reserved = htole32(1);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_RESERVED);
	/* A refusal carries no document. */
	zcs_wire_attest_reply(&r, 9, ZCS_ERR_NO_ATTESTATION, 0, 0, NULL, 0);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), 0);
	assert_int_equal(f.attest_reply.status, ZCS_ERR_NO_ATTESTATION);
	zcs_wire_attest_reply(&r, 9, ZCS_ERR_NO_ATTESTATION, 100, 0, NULL, 0);
	assert_int_equal(decode(&r, sizeof(r), &f, &used), ZCS_ERR_BAD_REQUEST);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hdr_bytes_are_little_endian),
		cmocka_unit_test(hello_round_trip),
		cmocka_unit_test(hello_bad_fields),
		cmocka_unit_test(hello_reply_round_trip),
		cmocka_unit_test(sign_round_trip_every_algo),
		cmocka_unit_test(sign_bad_algo_and_reserved_are_not_fatal),
		cmocka_unit_test(sign_reply_round_trip),
		cmocka_unit_test(pubkey_round_trip),
		cmocka_unit_test(error_round_trip),
		cmocka_unit_test(stats_round_trip),
		cmocka_unit_test(stats_reply_round_trip),
		cmocka_unit_test(stats_reply_bad_fields),
		cmocka_unit_test(provision_frames),
		cmocka_unit_test(attest_round_trip),
		cmocka_unit_test(attest_doc_frames),
		cmocka_unit_test(header_faults_are_fatal),
		cmocka_unit_test(short_buffers_need_more),
		cmocka_unit_test(back_to_back_frames_unaligned),
		cmocka_unit_test(random_bytes_never_crash),
		cmocka_unit_test(names_round_trip),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
