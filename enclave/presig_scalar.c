/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Presignatures, the arithmetic: pure math over secp256k1 scalars mod n, with
 * no pool, thread or syscall in it. Read top to bottom: constant-time
 * helpers on 32-byte big-endian scalars, building an entry from a nonce's R,
 * Montgomery's batch inversion, and the two online steps (ECDSA, BIP-340).
 * Declarations and contracts in presig_internal.h.
 *
 * Every secret goes through libsecp256k1's seckey functions (constant time)
 * or through the branch-free helpers below. Branches are taken only on public
 * values (the hash, e, the exponent n - 2) or on a libsecp256k1 failure, which
 * is a probability-2^-128 event and is answered by discarding the entry.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <secp256k1.h>

#include "keystore.h"
#include "presig_internal.h"

/* The group order n, Fermat's exponent n - 2, and floor(n / 2), big-endian. */
const uint8_t presig_order_n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf,
	0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t order_n_minus_2[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
	0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x3f};
const uint8_t presig_half_n[32] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9,
	0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

static const char challenge_tag[] = PRESIG_CHALLENGE_TAG;

/* ---- constant-time helpers on 32-byte big-endian scalars ---- */

/* out = a - b mod 2^256; returns the borrow (1 when a < b). */
static uint32_t
sub_be32(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	uint32_t borrow = 0;
	int i;

	for (i = 31; i >= 0; i--) {
		uint32_t d = (uint32_t)a[i] - b[i] - borrow;

		out[i] = (uint8_t)d;
		borrow = d >> 31;
	}
	return borrow;
}

/* The volatile keeps the compiler from turning the mask back into a branch. */
void
presig_cmov32(uint8_t dst[32], const uint8_t src[32], uint32_t flag)
{
	volatile uint32_t vflag = flag;
	uint8_t mask = (uint8_t)(0u - vflag);
	int i;

	for (i = 0; i < 32; i++)
		dst[i] ^= (uint8_t)(mask & (dst[i] ^ src[i]));
}

uint32_t
presig_is_zero32(const uint8_t a[32])
{
	uint32_t acc = 0;
	int i;

	for (i = 0; i < 32; i++)
		acc |= a[i];
	return (acc - 1) >> 31;
}

uint32_t
presig_reduce_mod_n(uint8_t out[32], const uint8_t in[32])
{
	uint8_t t[32];
	uint32_t ge = sub_be32(t, in, presig_order_n) ^ 1;

	if (out != in)
		memcpy(out, in, 32);
	presig_cmov32(out, t, ge);
	explicit_bzero(t, sizeof(t));
	return ge;
}

uint32_t
presig_is_high(const uint8_t s[32])
{
	uint8_t t[32];
	uint32_t high = sub_be32(t, presig_half_n, s);

	explicit_bzero(t, sizeof(t));
	return high;
}

int
presig_inverse_mod_n(const secp256k1_context *ctx, uint8_t out[32], const uint8_t a[32])
{
	uint8_t sq[32];
	int ok = 1;
	int bit;

	/* Bit 255 of n - 2 is set: start from a. */
	memcpy(out, a, 32);
	for (bit = 254; bit >= 0; bit--) {
		memcpy(sq, out, 32);
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, out, sq);
		if ((order_n_minus_2[31 - bit / 8] >> (bit % 8)) & 1)
			ok &= secp256k1_ec_seckey_tweak_mul(ctx, out, a);
	}
	explicit_bzero(sq, sizeof(sq));
	return ok;
}

/* ---- entries from a nonce's R ---- */

int
presig_ecdsa_entry_r(struct presig_entry *e, const uint8_t r33[33])
{
	uint32_t over = presig_reduce_mod_n(e->rx, r33 + 1);

	e->recid = (uint8_t)((r33[0] & 1) | (over << 1));
	return !presig_is_zero32(e->rx);
}

int
presig_schnorr_entry(const secp256k1_context *ctx, struct presig_entry *e, const uint8_t k[32],
	const uint8_t r33[33])
{
	uint8_t neg[32];
	int ok;

	memcpy(e->k, k, 32);
	memcpy(neg, k, 32);
	ok = secp256k1_ec_seckey_negate(ctx, neg);
	presig_cmov32(e->k, neg, r33[0] & 1);
	memcpy(e->rx, r33 + 1, 32);
	e->recid = 0;
	explicit_bzero(neg, sizeof(neg));
	return ok;
}

/* ---- Montgomery's batch inversion ---- */

int
presig_batch_prefix(const secp256k1_context *ctx, struct presig_scratch *s, unsigned int i)
{
	memcpy(s->prefix[i], i == 0 ? s->k[0] : s->prefix[i - 1], 32);
	return i == 0 || secp256k1_ec_seckey_tweak_mul(ctx, s->prefix[i], s->k[i]);
}

int
presig_invert_batch(const secp256k1_context *ctx, const struct presig_scratch *s,
	struct presig_pool *p, uint64_t head, unsigned int n)
{
	uint8_t inv[32];
	unsigned int i;
	int ok;

	ok = presig_inverse_mod_n(ctx, inv, s->prefix[n - 1]);
	for (i = n - 1; i > 0; i--) {
		struct presig_entry *e = ring_slot(p, head + i);

		/* k_i^-1 = (k_0 ... k_{i-1}) * (k_0 ... k_i)^-1 */
		memcpy(e->k, s->prefix[i - 1], 32);
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, e->k, inv);
		/* (k_0 ... k_{i-1})^-1 for the next step */
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, inv, s->k[i]);
	}
	memcpy(ring_slot(p, head)->k, inv, 32);
	explicit_bzero(inv, sizeof(inv));
	return ok ? 0 : -EIO;
}

/* ---- the online steps ---- */

int
presig_ecdsa_online(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid,
	const struct presig_entry *e, const uint8_t seckey[32], const uint8_t hash[32])
{
	uint8_t z[32], t[32], neg[32];
	uint32_t high;
	int ok;

	presig_reduce_mod_n(z, hash);
	memcpy(t, seckey, 32);
	ok = secp256k1_ec_seckey_tweak_mul(ctx, t, e->rx);
	/* z is public; libsecp256k1 refuses a zero tweak, and adding 0 is nothing. */
	if (!presig_is_zero32(z))
		ok &= secp256k1_ec_seckey_tweak_add(ctx, t, z);
	ok &= secp256k1_ec_seckey_tweak_mul(ctx, t, e->k);
	memcpy(neg, t, 32);
	ok &= secp256k1_ec_seckey_negate(ctx, neg);
	high = presig_is_high(t);
	presig_cmov32(t, neg, high);
	if (likely(ok)) {
		memcpy(sig64, e->rx, 32);
		memcpy(sig64 + 32, t, 32);
		/* s -> n - s is k -> -k: R.y flips. */
		*recid = (uint8_t)(e->recid ^ high);
	}
	explicit_bzero(t, sizeof(t));
	explicit_bzero(neg, sizeof(neg));
	return ok;
}

int
presig_even_y_seckey(const secp256k1_context *ctx, uint8_t out[32], const struct zcs_key *key)
{
	uint8_t neg[32];
	int ok;

	memcpy(out, key->seckey, 32);
	memcpy(neg, key->seckey, 32);
	ok = secp256k1_ec_seckey_negate(ctx, neg);
	presig_cmov32(out, neg, key->pub_compressed[0] & 1);
	explicit_bzero(neg, sizeof(neg));
	return ok;
}

int
presig_schnorr_online(const secp256k1_context *ctx, uint8_t sig64[64], const struct presig_entry *e,
	const struct zcs_key *key, const uint8_t hash[32])
{
	uint8_t msg[96], ch[32], t[32];
	int ok;

	memcpy(msg, e->rx, 32);
	memcpy(msg + 32, key->pub_xonly, 32);
	memcpy(msg + 64, hash, 32);
	ok = secp256k1_tagged_sha256(ctx, ch, (const unsigned char *)challenge_tag,
		sizeof(challenge_tag) - 1, msg, sizeof(msg));
	presig_reduce_mod_n(ch, ch);
	if (unlikely(presig_is_zero32(ch))) {
		/* e is public; e = 0 makes s = k (and a zero tweak is refused). */
		memcpy(t, e->k, 32);
	} else {
		ok &= presig_even_y_seckey(ctx, t, key);
		ok &= secp256k1_ec_seckey_tweak_mul(ctx, t, ch);
		ok &= secp256k1_ec_seckey_tweak_add(ctx, t, e->k);
	}
	if (likely(ok)) {
		memcpy(sig64, e->rx, 32);
		memcpy(sig64 + 32, t, 32);
	}
	explicit_bzero(t, sizeof(t));
	return ok;
}
