/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zcsign wire protocol: engine <-> signer (and zcsign-cli <-> signer).
 *
 * Binary, little-endian, fixed-size frames over a stream socket (AF_VSOCK in
 * production, AF_UNIX on a dev box). Every frame starts with the same 8-byte
 * header; its length is fixed by its type, and every frame size is a multiple
 * of 8 so frames packed back to back in a buffer stay 8-byte aligned.
 * The layout is these structs: docs/PROTOCOL.md describes the same bytes.
 *
 * Connection: the client sends HELLO, the signer answers HELLO_REPLY (or ERROR
 * and closes); then any number of SIGN / PUBKEY / STATS requests, each answered
 * by a reply carrying the request's sequence number. A frame whose header is
 * malformed (magic, version, type, length) leaves the stream without a frame
 * boundary: the receiver answers ERROR (when it is the signer) and closes.
 * A frame with a sound header but a bad body (algorithm, reserved bytes, field
 * range) is consumed and answered with its status; the connection goes on.
 *
 * Encoders are static inline (the hot path builds frames in place in its send
 * buffer); the decoder copies a frame out of the receive buffer into a union,
 * converts it to host order and validates every field.
 */
#ifndef ZCSIGN_WIRE_H
#define ZCSIGN_WIRE_H

#include <assert.h>
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zcsign/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "ZCS1" as bytes on the wire. */
#define ZCS_WIRE_MAGIC 0x3153435aU
/** The one protocol version this build speaks. */
#define ZCS_WIRE_VERSION 1
/** Bytes of a signer measurement (SHA-384, like a Nitro PCR). */
#define ZCS_MEASUREMENT_LEN 48
/** HELLO shard id that asks for no shard check (zcsign-cli talking to one signer). */
#define ZCS_SHARD_ANY 0xffff
/** Largest frame, in bytes. */
#define ZCS_WIRE_MAX_FRAME 96

/** Frame types. */
enum zcs_frame_type {
	ZCS_FT_HELLO = 1,
	ZCS_FT_HELLO_REPLY = 2,
	ZCS_FT_SIGN = 3,
	ZCS_FT_SIGN_REPLY = 4,
	ZCS_FT_PUBKEY = 5,
	ZCS_FT_PUBKEY_REPLY = 6,
	ZCS_FT_ERROR = 7,
	ZCS_FT_STATS = 8,
	ZCS_FT_STATS_REPLY = 9,
	ZCS_FT_ATTEST = 10,
	ZCS_FT_ATTEST_REPLY = 11,
	ZCS_FT_PROVISION = 12, /**< control connection: attest with a provisioning key */
	ZCS_FT_BUNDLE = 13, /**< control connection: a chunk of a key bundle */
	ZCS_FT_BUNDLE_REPLY = 14, /**< control connection: the bundle's fate */
};

/** Largest attestation document ATTEST_REPLY chunks may carry, in bytes. */
#define ZCS_WIRE_ATTEST_MAX 32768
/** Document bytes per ATTEST_REPLY frame. */
#define ZCS_WIRE_ATTEST_CHUNK 64
/** Largest key bundle BUNDLE chunks may carry, in bytes (about 26 M keys). */
#define ZCS_WIRE_BUNDLE_MAX (UINT32_C(1) << 30)
/** Bundle bytes per BUNDLE frame. */
#define ZCS_WIRE_BUNDLE_CHUNK 64

/** Signature algorithms (over a 32-byte hash, secp256k1). */
enum zcs_algo {
	ZCS_ALGO_ECDSA = 1, /**< low-S, compact r||s */
	ZCS_ALGO_ECDSA_RECOVERABLE = 2, /**< low-S, compact r||s, plus recid */
	ZCS_ALGO_SCHNORR = 3, /**< BIP-340, R.x||s */
};

/** Where a signer's keys came from, reported in HELLO_REPLY and STATS_REPLY. */
enum zcs_key_source {
	ZCS_KEYS_SEALED = 1, /**< none yet: the signer waits to be provisioned */
	ZCS_KEYS_PROVISIONED = 2, /**< from key bundles sealed to its attested key */
	ZCS_KEYS_DEV = 3, /**< from a plaintext file (--insecure-dev-keys): dev boxes only */
};

/** Signer nonce modes, reported in HELLO_REPLY. */
enum zcs_nonce_mode {
	ZCS_NONCE_RFC6979 = 1, /**< deterministic, libsecp256k1 default */
	ZCS_NONCE_PRECOMPUTED = 2, /**< random nonces, k*G done ahead of the request */
	ZCS_NONCE_HEDGED = 3, /**< RFC 6979 with 32 bytes of fresh randomness */
};

struct zcs_wire_hdr {
	uint32_t magic; /**< ZCS_WIRE_MAGIC */
	uint8_t version; /**< ZCS_WIRE_VERSION */
	uint8_t type; /**< enum zcs_frame_type */
	uint16_t length; /**< whole frame, header included; fixed by type */
};

/** client -> signer, first frame of a connection. */
struct zcs_wire_hello {
	struct zcs_wire_hdr hdr;
	uint16_t shard_id; /**< shard the client wants, or ZCS_SHARD_ANY */
	uint16_t shard_count; /**< shards in the client's map; 0 with ZCS_SHARD_ANY */
	uint32_t reserved;
};

/** signer -> client, answer to HELLO. */
struct zcs_wire_hello_reply {
	struct zcs_wire_hdr hdr;
	uint16_t shard_id; /**< the signer's shard */
	uint16_t shard_count; /**< shard count its key file was made for */
	uint32_t key_count; /**< accounts it holds keys for */
	uint8_t nonce_mode; /**< enum zcs_nonce_mode */
	uint8_t key_source; /**< enum zcs_key_source */
	uint8_t reserved[6];
	uint8_t measurement[ZCS_MEASUREMENT_LEN];
};

/** client -> signer: sign a 32-byte hash with an account's key. */
struct zcs_wire_sign {
	struct zcs_wire_hdr hdr;
	uint64_t seq; /**< echoed in the reply */
	uint64_t account;
	uint8_t algo; /**< enum zcs_algo */
	uint8_t reserved[7];
	uint8_t hash[32];
};

/** signer -> client: the signature, or why not. */
struct zcs_wire_sign_reply {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
	uint16_t status; /**< enum zcs_status */
	uint8_t recid; /**< 0..3 for ZCS_ALGO_ECDSA_RECOVERABLE, else 0 */
	uint8_t reserved[5];
	uint64_t service_ns; /**< signer time from receipt of the frame to signature */
	uint8_t sig[64]; /**< all zero unless status is ZCS_OK */
};

/** client -> signer: public keys of an account. */
struct zcs_wire_pubkey {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
	uint64_t account;
};

/** signer -> client: compressed (33 bytes) and x-only (32 bytes) public keys. */
struct zcs_wire_pubkey_reply {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
	uint16_t status;
	uint8_t reserved[6];
	uint8_t compressed[33];
	uint8_t xonly[32];
	uint8_t pad[7];
};

/** either way: a frame-level error; the sender closes the connection after it. */
struct zcs_wire_error {
	struct zcs_wire_hdr hdr;
	uint64_t seq; /**< sequence of the offending frame if it had one, else 0 */
	uint16_t status;
	uint8_t reserved[6];
};

/** client -> signer: the signer's nonce mode and presignature pool counters. */
struct zcs_wire_stats {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
};

/**
 * signer -> client: counters since the signer started. Pool fields are 0 when
 * the nonce mode is not ZCS_NONCE_PRECOMPUTED (no pools).
 */
struct zcs_wire_stats_reply {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
	uint8_t nonce_mode; /**< enum zcs_nonce_mode */
	uint8_t key_source; /**< enum zcs_key_source: it changes when provisioned */
	uint8_t reserved[2];
	uint32_t key_count; /**< accounts it holds keys for now */
	uint32_t ecdsa_depth; /**< presignatures ready for ECDSA (both kinds) */
	uint32_t ecdsa_capacity; /**< most the ECDSA pool holds; depth <= capacity */
	uint32_t schnorr_depth; /**< presignatures ready for BIP-340 */
	uint32_t schnorr_capacity; /**< most the BIP-340 pool holds */
	uint64_t refilled; /**< presignatures produced, both pools */
	uint64_t misses; /**< requests signed by the RFC 6979 fallback: pool empty */
	uint64_t discards; /**< presignatures thrown away (a libsecp256k1 call returned 0) */
	uint64_t signed_ok; /**< SIGN requests answered ZCS_OK */
};

/** client -> signer: an attestation document that carries this nonce. */
struct zcs_wire_attest {
	struct zcs_wire_hdr hdr;
	uint64_t seq; /**< echoed in every ATTEST_REPLY */
	uint8_t nonce[32]; /**< fresh random bytes of the client */
};

/**
 * signer -> client: one chunk of the document, in order, as many frames as
 * ceil(total / ZCS_WIRE_ATTEST_CHUNK); or one frame with a non-OK status,
 * total, offset and chunk_len 0 (no document: ZCS_ERR_NO_ATTESTATION, ...).
 */
struct zcs_wire_attest_reply {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
	uint16_t status; /**< enum zcs_status */
	uint16_t chunk_len; /**< bytes of data used: 1..ZCS_WIRE_ATTEST_CHUNK */
	uint32_t total; /**< document length: 1..ZCS_WIRE_ATTEST_MAX */
	uint32_t offset; /**< of this chunk in the document */
	uint32_t reserved;
	uint8_t data[ZCS_WIRE_ATTEST_CHUNK]; /**< zero past chunk_len */
};

/**
 * client -> signer, on the control connection: an attestation document (as
 * ATTEST_REPLY chunks) whose public_key is a fresh X25519 key of the signer
 * for one key bundle, and whose nonce is this one.
 */
struct zcs_wire_provision {
	struct zcs_wire_hdr hdr;
	uint64_t seq; /**< echoed in every ATTEST_REPLY and in BUNDLE_REPLY */
	uint8_t nonce[32]; /**< fresh random bytes of the provisioner */
};

/**
 * client -> signer, on the control connection: one chunk of a key bundle
 * sealed to the key of the last PROVISION, in order, as many frames as
 * ceil(total / ZCS_WIRE_BUNDLE_CHUNK).
 */
struct zcs_wire_bundle {
	struct zcs_wire_hdr hdr;
	uint64_t seq; /**< the PROVISION's */
	uint16_t reserved0;
	uint16_t chunk_len; /**< bytes of data used: 1..ZCS_WIRE_BUNDLE_CHUNK */
	uint32_t total; /**< bundle length: 1..ZCS_WIRE_BUNDLE_MAX */
	uint32_t offset; /**< of this chunk in the bundle */
	uint32_t reserved1;
	uint8_t data[ZCS_WIRE_BUNDLE_CHUNK]; /**< zero past chunk_len */
};

/** signer -> client: what the whole bundle did; the store after it. */
struct zcs_wire_bundle_reply {
	struct zcs_wire_hdr hdr;
	uint64_t seq;
	uint16_t status; /**< enum zcs_status: ok, bundle, wrong_shard, stale, ... */
	uint8_t reserved[2];
	uint32_t key_count; /**< keys held after it (before it, when refused) */
	uint32_t added; /**< accounts new to the signer */
	uint32_t rotated; /**< accounts whose key changed (old keys wiped) */
	uint64_t generation; /**< the store's generation after it */
};

/** Any frame, decoded to host order. */
union zcs_wire_frame {
	struct zcs_wire_hdr hdr;
	struct zcs_wire_hello hello;
	struct zcs_wire_hello_reply hello_reply;
	struct zcs_wire_sign sign;
	struct zcs_wire_sign_reply sign_reply;
	struct zcs_wire_pubkey pubkey;
	struct zcs_wire_pubkey_reply pubkey_reply;
	struct zcs_wire_error error;
	struct zcs_wire_stats stats;
	struct zcs_wire_stats_reply stats_reply;
	struct zcs_wire_attest attest;
	struct zcs_wire_attest_reply attest_reply;
	struct zcs_wire_provision provision;
	struct zcs_wire_bundle bundle;
	struct zcs_wire_bundle_reply bundle_reply;
};

/* The layout is the protocol: pin every size and offset. */
static_assert(sizeof(struct zcs_wire_hdr) == 8, "hdr size");
static_assert(offsetof(struct zcs_wire_hdr, version) == 4, "hdr.version");
static_assert(offsetof(struct zcs_wire_hdr, type) == 5, "hdr.type");
static_assert(offsetof(struct zcs_wire_hdr, length) == 6, "hdr.length");
static_assert(sizeof(struct zcs_wire_hello) == 16, "hello size");
static_assert(offsetof(struct zcs_wire_hello, shard_id) == 8, "hello.shard_id");
static_assert(offsetof(struct zcs_wire_hello, shard_count) == 10, "hello.shard_count");
static_assert(offsetof(struct zcs_wire_hello, reserved) == 12, "hello.reserved");
static_assert(sizeof(struct zcs_wire_hello_reply) == 72, "hello_reply size");
static_assert(offsetof(struct zcs_wire_hello_reply, shard_id) == 8, "hello_reply.shard_id");
static_assert(offsetof(struct zcs_wire_hello_reply, shard_count) == 10, "hello_reply.count");
static_assert(offsetof(struct zcs_wire_hello_reply, key_count) == 12, "hello_reply.key_count");
static_assert(offsetof(struct zcs_wire_hello_reply, nonce_mode) == 16, "hello_reply.nonce");
static_assert(offsetof(struct zcs_wire_hello_reply, key_source) == 17, "hello_reply.source");
static_assert(offsetof(struct zcs_wire_hello_reply, reserved) == 18, "hello_reply.reserved");
static_assert(offsetof(struct zcs_wire_hello_reply, measurement) == 24, "hello_reply.meas");
static_assert(sizeof(struct zcs_wire_sign) == 64, "sign size");
static_assert(offsetof(struct zcs_wire_sign, seq) == 8, "sign.seq");
static_assert(offsetof(struct zcs_wire_sign, account) == 16, "sign.account");
static_assert(offsetof(struct zcs_wire_sign, algo) == 24, "sign.algo");
static_assert(offsetof(struct zcs_wire_sign, reserved) == 25, "sign.reserved");
static_assert(offsetof(struct zcs_wire_sign, hash) == 32, "sign.hash");
static_assert(sizeof(struct zcs_wire_sign_reply) == 96, "sign_reply size");
static_assert(offsetof(struct zcs_wire_sign_reply, seq) == 8, "sign_reply.seq");
static_assert(offsetof(struct zcs_wire_sign_reply, status) == 16, "sign_reply.status");
static_assert(offsetof(struct zcs_wire_sign_reply, recid) == 18, "sign_reply.recid");
static_assert(offsetof(struct zcs_wire_sign_reply, reserved) == 19, "sign_reply.reserved");
static_assert(offsetof(struct zcs_wire_sign_reply, service_ns) == 24, "sign_reply.service_ns");
static_assert(offsetof(struct zcs_wire_sign_reply, sig) == 32, "sign_reply.sig");
static_assert(sizeof(struct zcs_wire_pubkey) == 24, "pubkey size");
static_assert(offsetof(struct zcs_wire_pubkey, seq) == 8, "pubkey.seq");
static_assert(offsetof(struct zcs_wire_pubkey, account) == 16, "pubkey.account");
static_assert(sizeof(struct zcs_wire_pubkey_reply) == 96, "pubkey_reply size");
static_assert(offsetof(struct zcs_wire_pubkey_reply, seq) == 8, "pubkey_reply.seq");
static_assert(offsetof(struct zcs_wire_pubkey_reply, status) == 16, "pubkey_reply.status");
static_assert(offsetof(struct zcs_wire_pubkey_reply, reserved) == 18, "pubkey_reply.reserved");
static_assert(offsetof(struct zcs_wire_pubkey_reply, compressed) == 24, "pubkey_reply.comp");
static_assert(offsetof(struct zcs_wire_pubkey_reply, xonly) == 57, "pubkey_reply.xonly");
static_assert(offsetof(struct zcs_wire_pubkey_reply, pad) == 89, "pubkey_reply.pad");
static_assert(sizeof(struct zcs_wire_error) == 24, "error size");
static_assert(offsetof(struct zcs_wire_error, seq) == 8, "error.seq");
static_assert(offsetof(struct zcs_wire_error, status) == 16, "error.status");
static_assert(offsetof(struct zcs_wire_error, reserved) == 18, "error.reserved");
static_assert(sizeof(struct zcs_wire_stats) == 16, "stats size");
static_assert(offsetof(struct zcs_wire_stats, seq) == 8, "stats.seq");
static_assert(sizeof(struct zcs_wire_stats_reply) == 72, "stats_reply size");
static_assert(offsetof(struct zcs_wire_stats_reply, seq) == 8, "stats_reply.seq");
static_assert(offsetof(struct zcs_wire_stats_reply, nonce_mode) == 16, "stats_reply.nonce");
static_assert(offsetof(struct zcs_wire_stats_reply, key_source) == 17, "stats_reply.source");
static_assert(offsetof(struct zcs_wire_stats_reply, reserved) == 18, "stats_reply.reserved");
static_assert(offsetof(struct zcs_wire_stats_reply, key_count) == 20, "stats_reply.key_count");
static_assert(offsetof(struct zcs_wire_stats_reply, ecdsa_depth) == 24, "stats_reply.e_depth");
static_assert(offsetof(struct zcs_wire_stats_reply, ecdsa_capacity) == 28, "stats_reply.e_cap");
static_assert(offsetof(struct zcs_wire_stats_reply, schnorr_depth) == 32, "stats_reply.s_depth");
static_assert(offsetof(struct zcs_wire_stats_reply, schnorr_capacity) == 36, "stats_reply.s_cap");
static_assert(offsetof(struct zcs_wire_stats_reply, refilled) == 40, "stats_reply.refilled");
static_assert(offsetof(struct zcs_wire_stats_reply, misses) == 48, "stats_reply.misses");
static_assert(offsetof(struct zcs_wire_stats_reply, discards) == 56, "stats_reply.discards");
static_assert(offsetof(struct zcs_wire_stats_reply, signed_ok) == 64, "stats_reply.signed_ok");
static_assert(sizeof(struct zcs_wire_stats) % 8 == 0, "stats size multiple of 8");
static_assert(sizeof(struct zcs_wire_stats_reply) % 8 == 0, "stats_reply size multiple of 8");
static_assert(sizeof(struct zcs_wire_attest) == 48, "attest size");
static_assert(offsetof(struct zcs_wire_attest, seq) == 8, "attest.seq");
static_assert(offsetof(struct zcs_wire_attest, nonce) == 16, "attest.nonce");
static_assert(sizeof(struct zcs_wire_attest_reply) == 96, "attest_reply size");
static_assert(offsetof(struct zcs_wire_attest_reply, seq) == 8, "attest_reply.seq");
static_assert(offsetof(struct zcs_wire_attest_reply, status) == 16, "attest_reply.status");
static_assert(offsetof(struct zcs_wire_attest_reply, chunk_len) == 18, "attest_reply.chunk");
static_assert(offsetof(struct zcs_wire_attest_reply, total) == 20, "attest_reply.total");
static_assert(offsetof(struct zcs_wire_attest_reply, offset) == 24, "attest_reply.offset");
static_assert(offsetof(struct zcs_wire_attest_reply, reserved) == 28, "attest_reply.reserved");
static_assert(offsetof(struct zcs_wire_attest_reply, data) == 32, "attest_reply.data");
static_assert(sizeof(struct zcs_wire_provision) == 48, "provision size");
static_assert(offsetof(struct zcs_wire_provision, nonce) == 16, "provision.nonce");
static_assert(sizeof(struct zcs_wire_bundle) == 96, "bundle size");
static_assert(offsetof(struct zcs_wire_bundle, chunk_len) == 18, "bundle.chunk_len");
static_assert(offsetof(struct zcs_wire_bundle, total) == 20, "bundle.total");
static_assert(offsetof(struct zcs_wire_bundle, offset) == 24, "bundle.offset");
static_assert(offsetof(struct zcs_wire_bundle, reserved1) == 28, "bundle.reserved1");
static_assert(offsetof(struct zcs_wire_bundle, data) == 32, "bundle.data");
static_assert(sizeof(struct zcs_wire_bundle_reply) == 40, "bundle_reply size");
static_assert(offsetof(struct zcs_wire_bundle_reply, status) == 16, "bundle_reply.status");
static_assert(offsetof(struct zcs_wire_bundle_reply, key_count) == 20, "bundle_reply.keys");
static_assert(offsetof(struct zcs_wire_bundle_reply, added) == 24, "bundle_reply.added");
static_assert(offsetof(struct zcs_wire_bundle_reply, rotated) == 28, "bundle_reply.rotated");
static_assert(offsetof(struct zcs_wire_bundle_reply, generation) == 32, "bundle_reply.gen");
static_assert(sizeof(union zcs_wire_frame) == ZCS_WIRE_MAX_FRAME, "max frame");

/**
 * Size of a frame of the given type.
 *
 * @return
 *   Bytes, or 0 for an unknown type.
 */
size_t zcs_wire_frame_size(unsigned int type);

/** Return value of zcs_wire_decode() when the buffer holds no whole frame yet. */
#define ZCS_WIRE_NEED_MORE (-1)

/**
 * Decode and validate the frame at the start of a receive buffer.
 *
 * @param buf
 *   Received bytes; no alignment needed.
 * @param len
 *   Number of bytes in buf.
 * @param out
 *   The frame in host byte order; valid when 0 is returned, and for a non-fatal
 *   status (its header and sequence fields are then usable for the reply).
 * @param consumed
 *   Bytes the frame occupied: set when 0 or a non-fatal status is returned.
 * @return
 *   - 0: one valid frame decoded.
 *   - ZCS_WIRE_NEED_MORE: fewer bytes than the header or the frame; call again
 *     with more.
 *   - a zcs_status: the frame is malformed. ZCS_ERR_BAD_MAGIC, _BAD_VERSION,
 *     _BAD_TYPE and _BAD_LENGTH are fatal (zcs_wire_status_fatal()): the stream has
 *     no frame boundary any more. ZCS_ERR_BAD_ALGO, _BAD_RESERVED and
 *     _BAD_REQUEST are not: the frame was consumed and can be answered.
 */
int zcs_wire_decode(const void *buf, size_t len, union zcs_wire_frame *out, size_t *consumed);

/** True when a decode status leaves the stream without a frame boundary. */
static inline int
zcs_wire_status_fatal(int st)
{
	return st == ZCS_ERR_BAD_MAGIC || st == ZCS_ERR_BAD_VERSION || st == ZCS_ERR_BAD_TYPE ||
		st == ZCS_ERR_BAD_LENGTH;
}

/** True for a valid enum zcs_algo value. */
static inline int
zcs_algo_valid(unsigned int algo)
{
	return algo >= ZCS_ALGO_ECDSA && algo <= ZCS_ALGO_SCHNORR;
}

/** Name of an algorithm as spelled on the command line ("ecdsa", ...), or NULL. */
const char *zcs_algo_name(unsigned int algo);

/** Algorithm from its command-line name; 0 when unknown. */
unsigned int zcs_algo_parse(const char *name);

/** Name of a nonce mode ("rfc6979", "precomputed", "hedged"), or NULL. */
const char *zcs_nonce_mode_name(unsigned int mode);

/** Nonce mode from its name; 0 when unknown. */
unsigned int zcs_nonce_mode_parse(const char *name);

/** Name of a key source ("sealed", "provisioned", "insecure-dev"), or NULL. */
const char *zcs_key_source_name(unsigned int source);

/*
 * Encoders. Each fills a whole frame in place (reserved bytes zeroed, fields
 * little-endian). The destination must be aligned like the struct: frames packed
 * from the start of an 8-byte-aligned send buffer are.
 */

static inline void
zcs_wire_hdr_init(struct zcs_wire_hdr *h, unsigned int type, size_t size)
{
	h->magic = htole32(ZCS_WIRE_MAGIC);
	h->version = ZCS_WIRE_VERSION;
	h->type = (uint8_t)type;
	h->length = htole16((uint16_t)size);
}

static inline void
zcs_wire_hello(struct zcs_wire_hello *f, uint16_t shard_id, uint16_t shard_count)
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_HELLO, sizeof(*f));
	f->shard_id = htole16(shard_id);
	f->shard_count = htole16(shard_count);
	f->reserved = 0;
}

static inline void
zcs_wire_hello_reply(struct zcs_wire_hello_reply *f, uint16_t shard_id, uint16_t shard_count,
	uint32_t key_count, uint8_t nonce_mode, uint8_t key_source,
	const uint8_t measurement[ZCS_MEASUREMENT_LEN])
{
	memset(f, 0, sizeof(*f));
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_HELLO_REPLY, sizeof(*f));
	f->shard_id = htole16(shard_id);
	f->shard_count = htole16(shard_count);
	f->key_count = htole32(key_count);
	f->nonce_mode = nonce_mode;
	f->key_source = key_source;
	memcpy(f->measurement, measurement, ZCS_MEASUREMENT_LEN);
}

static inline void
zcs_wire_sign(struct zcs_wire_sign *f, uint64_t seq, uint64_t account, uint8_t algo,
	const uint8_t hash[32])
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_SIGN, sizeof(*f));
	f->seq = htole64(seq);
	f->account = htole64(account);
	f->algo = algo;
	memset(f->reserved, 0, sizeof(f->reserved));
	memcpy(f->hash, hash, 32);
}

/** @param sig NULL for an error reply (signature bytes zeroed). */
static inline void
zcs_wire_sign_reply(struct zcs_wire_sign_reply *f, uint64_t seq, uint16_t status, uint8_t recid,
	uint64_t service_ns, const uint8_t sig[64])
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_SIGN_REPLY, sizeof(*f));
	f->seq = htole64(seq);
	f->status = htole16(status);
	f->recid = recid;
	memset(f->reserved, 0, sizeof(f->reserved));
	f->service_ns = htole64(service_ns);
	if (sig != NULL)
		memcpy(f->sig, sig, 64);
	else
		memset(f->sig, 0, 64);
}

static inline void
zcs_wire_pubkey(struct zcs_wire_pubkey *f, uint64_t seq, uint64_t account)
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_PUBKEY, sizeof(*f));
	f->seq = htole64(seq);
	f->account = htole64(account);
}

/** @param compressed, xonly NULL for an error reply (key bytes zeroed). */
static inline void
zcs_wire_pubkey_reply(struct zcs_wire_pubkey_reply *f, uint64_t seq, uint16_t status,
	const uint8_t compressed[33], const uint8_t xonly[32])
{
	memset(f, 0, sizeof(*f));
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_PUBKEY_REPLY, sizeof(*f));
	f->seq = htole64(seq);
	f->status = htole16(status);
	if (compressed != NULL)
		memcpy(f->compressed, compressed, 33);
	if (xonly != NULL)
		memcpy(f->xonly, xonly, 32);
}

static inline void
zcs_wire_error(struct zcs_wire_error *f, uint64_t seq, uint16_t status)
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_ERROR, sizeof(*f));
	f->seq = htole64(seq);
	f->status = htole16(status);
	memset(f->reserved, 0, sizeof(f->reserved));
}

static inline void
zcs_wire_stats(struct zcs_wire_stats *f, uint64_t seq)
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_STATS, sizeof(*f));
	f->seq = htole64(seq);
}

static inline void
zcs_wire_attest(struct zcs_wire_attest *f, uint64_t seq, const uint8_t nonce[32])
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_ATTEST, sizeof(*f));
	f->seq = htole64(seq);
	memcpy(f->nonce, nonce, 32);
}

/** One chunk of a document (status ZCS_OK), or a refusal (data NULL, total 0). */
static inline void
zcs_wire_attest_reply(struct zcs_wire_attest_reply *f, uint64_t seq, uint16_t status,
	uint32_t total, uint32_t offset, const uint8_t *data, uint16_t chunk_len)
{
	memset(f, 0, sizeof(*f));
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_ATTEST_REPLY, sizeof(*f));
	f->seq = htole64(seq);
	f->status = htole16(status);
	f->chunk_len = htole16(chunk_len);
	f->total = htole32(total);
	f->offset = htole32(offset);
	if (data != NULL)
		memcpy(f->data, data, chunk_len);
}

/** @param r the counters in host order; hdr, seq and reserved are ignored. */
static inline void
zcs_wire_stats_reply(
	struct zcs_wire_stats_reply *f, uint64_t seq, const struct zcs_wire_stats_reply *r)
{
	memset(f, 0, sizeof(*f));
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_STATS_REPLY, sizeof(*f));
	f->seq = htole64(seq);
	f->nonce_mode = r->nonce_mode;
	f->key_source = r->key_source;
	f->key_count = htole32(r->key_count);
	f->ecdsa_depth = htole32(r->ecdsa_depth);
	f->ecdsa_capacity = htole32(r->ecdsa_capacity);
	f->schnorr_depth = htole32(r->schnorr_depth);
	f->schnorr_capacity = htole32(r->schnorr_capacity);
	f->refilled = htole64(r->refilled);
	f->misses = htole64(r->misses);
	f->discards = htole64(r->discards);
	f->signed_ok = htole64(r->signed_ok);
}

/** ATTEST_REPLY frames a document of len bytes takes. */
#define ZCS_WIRE_ATTEST_FRAMES(len) (((len) + ZCS_WIRE_ATTEST_CHUNK - 1) / ZCS_WIRE_ATTEST_CHUNK)

/**
 * A whole document (status ok) as ZCS_WIRE_ATTEST_FRAMES(len) ATTEST_REPLY
 * frames, back to back at out, ready for one send.
 * @return
 *   Bytes written.
 */
static inline size_t
zcs_wire_attest_doc(struct zcs_wire_attest_reply *out, uint64_t seq, const uint8_t *doc, size_t len)
{
	size_t off, n, k = 0;

	for (off = 0; off < len; off += n) {
		n = len - off < ZCS_WIRE_ATTEST_CHUNK ? len - off : ZCS_WIRE_ATTEST_CHUNK;
		zcs_wire_attest_reply(&out[k++], seq, ZCS_OK, (uint32_t)len, (uint32_t)off,
			doc + off, (uint16_t)n);
	}
	return k * sizeof(*out);
}

static inline void
zcs_wire_provision(struct zcs_wire_provision *f, uint64_t seq, const uint8_t nonce[32])
{
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_PROVISION, sizeof(*f));
	f->seq = htole64(seq);
	memcpy(f->nonce, nonce, 32);
}

static inline void
zcs_wire_bundle(struct zcs_wire_bundle *f, uint64_t seq, uint32_t total, uint32_t offset,
	const uint8_t *data, uint16_t chunk_len)
{
	memset(f, 0, sizeof(*f));
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_BUNDLE, sizeof(*f));
	f->seq = htole64(seq);
	f->chunk_len = htole16(chunk_len);
	f->total = htole32(total);
	f->offset = htole32(offset);
	memcpy(f->data, data, chunk_len);
}

/** @param r the result in host order; hdr, seq and reserved are ignored. */
static inline void
zcs_wire_bundle_reply(
	struct zcs_wire_bundle_reply *f, uint64_t seq, const struct zcs_wire_bundle_reply *r)
{
	memset(f, 0, sizeof(*f));
	zcs_wire_hdr_init(&f->hdr, ZCS_FT_BUNDLE_REPLY, sizeof(*f));
	f->seq = htole64(seq);
	f->status = htole16(r->status);
	f->key_count = htole32(r->key_count);
	f->added = htole32(r->added);
	f->rotated = htole32(r->rotated);
	f->generation = htole64(r->generation);
}

#ifdef __cplusplus
}
#endif

#endif /* ZCSIGN_WIRE_H */
