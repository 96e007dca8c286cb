/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signing with libsecp256k1, RFC 6979 and hedged paths, verification, and the
 * dev-mode self measurement.
 * The signing calls are constant time in the key (libsecp256k1 guarantees it);
 * nothing here branches on secret data.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <zcsign/status.h>
#include <zcsign/wire.h>

#include "sign.h"

int
zcs_random(uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return 0;
}

secp256k1_context *
zcs_sign_ctx_create(void)
{
	secp256k1_context *ctx;
	uint8_t seed[32];
	uint8_t warm[32];
	int rc;

	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (ctx == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = zcs_random(seed, sizeof(seed));
	if (rc == 0 && !secp256k1_context_randomize(ctx, seed))
		rc = -EINVAL;
	explicit_bzero(seed, sizeof(seed));
	/*
	 * Instantiate OpenSSL's private DRBG now, so the first Schnorr request
	 * does not pay for its setup (allocation, seeding syscalls).
	 */
	if (rc == 0 && RAND_priv_bytes(warm, sizeof(warm)) != 1)
		rc = -EIO;
	OPENSSL_cleanse(warm, sizeof(warm));
	if (rc < 0) {
		secp256k1_context_destroy(ctx);
		errno = -rc;
		return NULL;
	}
	return ctx;
}

void
zcs_sign_ctx_destroy(secp256k1_context *ctx)
{
	if (ctx != NULL)
		secp256k1_context_destroy(ctx);
}

/*
 * Extra nonce data of a mode: NULL for RFC 6979, 32 fresh bytes from the
 * private DRBG for hedged. Returns 0, or -1 when the DRBG failed.
 */
static int
nonce_data(uint8_t buf[32], unsigned int nonce, const uint8_t **data)
{
	*data = NULL;
	if (nonce == ZCS_NONCE_RFC6979)
		return 0;
	if (RAND_priv_bytes(buf, 32) != 1)
		return -1;
	*data = buf;
	return 0;
}

static int
sign_ecdsa(const secp256k1_context *ctx, uint8_t sig64[64], const struct zcs_key *key,
	const uint8_t hash[32], const uint8_t *ndata)
{
	secp256k1_ecdsa_signature sig;

	/* Default nonce function: RFC 6979 (ndata as extra data); the result is low-S. */
	if (!secp256k1_ecdsa_sign(ctx, &sig, hash, key->seckey, NULL, ndata))
		return ZCS_ERR_SIGN_FAILED;
	secp256k1_ecdsa_signature_serialize_compact(ctx, sig64, &sig);
	return ZCS_OK;
}

static int
sign_recoverable(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid,
	const struct zcs_key *key, const uint8_t hash[32], const uint8_t *ndata)
{
	secp256k1_ecdsa_recoverable_signature sig;
	int rid = 0;

	if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, key->seckey, NULL, ndata))
		return ZCS_ERR_SIGN_FAILED;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig64, &rid, &sig);
	*recid = (uint8_t)rid;
	return ZCS_OK;
}

static int
sign_schnorr(const secp256k1_context *ctx, uint8_t sig64[64], const struct zcs_key *key,
	const uint8_t hash[32], const uint8_t *aux)
{
	/* aux NULL: BIP-340's default of 32 zero bytes (deterministic). */
	if (!secp256k1_schnorrsig_sign32(ctx, sig64, hash, &key->keypair, aux))
		return ZCS_ERR_SIGN_FAILED;
	return ZCS_OK;
}

int
zcs_sign(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid, const struct zcs_key *key,
	unsigned int algo, unsigned int nonce, const uint8_t hash[32])
{
	const uint8_t *ndata;
	uint8_t extra[32];
	int st;

	*recid = 0;
	if (nonce != ZCS_NONCE_RFC6979 && nonce != ZCS_NONCE_HEDGED)
		st = ZCS_ERR_INTERNAL;
	else if (!zcs_algo_valid(algo))
		st = ZCS_ERR_BAD_ALGO;
	else if (nonce_data(extra, nonce, &ndata) != 0)
		st = ZCS_ERR_SIGN_FAILED;
	else if (algo == ZCS_ALGO_ECDSA)
		st = sign_ecdsa(ctx, sig64, key, hash, ndata);
	else if (algo == ZCS_ALGO_ECDSA_RECOVERABLE)
		st = sign_recoverable(ctx, sig64, recid, key, hash, ndata);
	else
		st = sign_schnorr(ctx, sig64, key, hash, ndata);
	/* The extra data feeds the nonce: wiped like it. */
	OPENSSL_cleanse(extra, sizeof(extra));
	/* A failed call may leave a partial result: never hand it out. */
	if (st != ZCS_OK) {
		memset(sig64, 0, 64);
		*recid = 0;
	}
	return st;
}

static int
verify_recoverable_var(const secp256k1_context *ctx, const struct zcs_key *key,
	const uint8_t hash[32], const uint8_t sig64[64], uint8_t recid)
{
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_ecdsa_signature sig;
	secp256k1_pubkey pub;
	uint8_t comp[33];
	size_t len = sizeof(comp);

	if (recid > 3 ||
		!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rsig, sig64, recid))
		return 0;
	/* Recovery accepts a high S; the wire promises low-S. */
	if (!secp256k1_ecdsa_recoverable_signature_convert(ctx, &sig, &rsig) ||
		secp256k1_ecdsa_signature_normalize(ctx, NULL, &sig))
		return 0;
	if (!secp256k1_ecdsa_recover(ctx, &pub, &rsig, hash) ||
		!secp256k1_ec_pubkey_serialize(ctx, comp, &len, &pub, SECP256K1_EC_COMPRESSED))
		return 0;
	return memcmp(comp, key->pub_compressed, sizeof(comp)) == 0;
}

int
zcs_sign_verify_var(const secp256k1_context *ctx, const struct zcs_key *key, unsigned int algo,
	const uint8_t hash[32], const uint8_t sig64[64], uint8_t recid)
{
	secp256k1_ecdsa_signature sig;
	secp256k1_xonly_pubkey xpub;
	secp256k1_pubkey pub;

	switch (algo) {
	case ZCS_ALGO_ECDSA:
		return recid == 0 &&
			secp256k1_ec_pubkey_parse(ctx, &pub, key->pub_compressed, 33) &&
			secp256k1_ecdsa_signature_parse_compact(ctx, &sig, sig64) &&
			secp256k1_ecdsa_verify(ctx, &sig, hash, &pub);
	case ZCS_ALGO_ECDSA_RECOVERABLE:
		return verify_recoverable_var(ctx, key, hash, sig64, recid);
	case ZCS_ALGO_SCHNORR:
		return recid == 0 && secp256k1_xonly_pubkey_parse(ctx, &xpub, key->pub_xonly) &&
			secp256k1_schnorrsig_verify(ctx, sig64, hash, 32, &xpub);
	default:
		return 0;
	}
}

int
zcs_measure_self(uint8_t out[48])
{
	return zcs_measure_path("/proc/self/exe", out);
}

int
zcs_measure_path(const char *path, uint8_t out[48])
{
	uint8_t chunk[16 * 1024];
	EVP_MD_CTX *md;
	unsigned int mdlen = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha384(), NULL) != 1) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, chunk, (size_t)n) != 1) {
			rc = -EIO;
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, out, &mdlen) != 1 || mdlen != ZCS_MEASUREMENT_LEN)
		rc = -EIO;
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return rc;
}
