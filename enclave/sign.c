/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signing with libsecp256k1, RFC 6979 path, and the dev-mode self measurement.
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

/* Fill buf from getrandom(), retrying on a signal. Returns 0 or -errno. */
static int
fill_random(uint8_t *buf, size_t len)
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
	rc = fill_random(seed, sizeof(seed));
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

static int
sign_ecdsa(const secp256k1_context *ctx, uint8_t sig64[64], const struct zcs_key *key,
	const uint8_t hash[32])
{
	secp256k1_ecdsa_signature sig;

	/* Default nonce function: RFC 6979; the result is already low-S. */
	if (!secp256k1_ecdsa_sign(ctx, &sig, hash, key->seckey, NULL, NULL))
		return ZCS_ERR_SIGN_FAILED;
	secp256k1_ecdsa_signature_serialize_compact(ctx, sig64, &sig);
	return ZCS_OK;
}

static int
sign_recoverable(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid,
	const struct zcs_key *key, const uint8_t hash[32])
{
	secp256k1_ecdsa_recoverable_signature sig;
	int rid = 0;

	if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, hash, key->seckey, NULL, NULL))
		return ZCS_ERR_SIGN_FAILED;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, sig64, &rid, &sig);
	*recid = (uint8_t)rid;
	return ZCS_OK;
}

static int
sign_schnorr(const secp256k1_context *ctx, uint8_t sig64[64], const struct zcs_key *key,
	const uint8_t hash[32])
{
	uint8_t aux[32];
	int ok;

	/*
	 * BIP-340 auxiliary randomness: fresh per signature, from the private
	 * DRBG (userspace, no syscall); wiped since it feeds the nonce.
	 */
	if (RAND_priv_bytes(aux, sizeof(aux)) != 1)
		return ZCS_ERR_SIGN_FAILED;
	ok = secp256k1_schnorrsig_sign32(ctx, sig64, hash, &key->keypair, aux);
	OPENSSL_cleanse(aux, sizeof(aux));
	return ok ? ZCS_OK : ZCS_ERR_SIGN_FAILED;
}

int
zcs_sign(const secp256k1_context *ctx, uint8_t sig64[64], uint8_t *recid, const struct zcs_key *key,
	unsigned int algo, const uint8_t hash[32])
{
	int st;

	*recid = 0;
	switch (algo) {
	case ZCS_ALGO_ECDSA:
		st = sign_ecdsa(ctx, sig64, key, hash);
		break;
	case ZCS_ALGO_ECDSA_RECOVERABLE:
		st = sign_recoverable(ctx, sig64, recid, key, hash);
		break;
	case ZCS_ALGO_SCHNORR:
		st = sign_schnorr(ctx, sig64, key, hash);
		break;
	default:
		st = ZCS_ERR_BAD_ALGO;
		break;
	}
	/* A failed call may leave a partial result: never hand it out. */
	if (st != ZCS_OK) {
		memset(sig64, 0, 64);
		*recid = 0;
	}
	return st;
}

int
zcs_measure_self(uint8_t out[48])
{
	uint8_t chunk[16 * 1024];
	EVP_MD_CTX *md;
	unsigned int mdlen = 0;
	int fd, rc = 0;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
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
