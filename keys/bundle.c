/* SPDX-License-Identifier: BSD-3-Clause */
/* Key bundles (bundle.h): X25519, HKDF-SHA256 and AES-256-GCM through OpenSSL. */
#include <endian.h>
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

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <zcsign/shard.h>

#include "bundle.h"

#define HKDF_SALT "zcsign key bundle v1"

/* Header offsets (bundle.h). */
#define OFF_VERSION 8
#define OFF_PURPOSE 10
#define OFF_RSV0 11
#define OFF_SHARD 12
#define OFF_SHARDS 14
#define OFF_COUNT 16
#define OFF_RSV1 20
#define OFF_GEN 24
#define OFF_SENDER 32
#define OFF_RECIPIENT 64
#define OFF_NONCE 96
#define OFF_IV 128
#define OFF_RSV2 140

struct zcs_bundle_sealer {
	EVP_CIPHER_CTX *cipher;
	uint64_t left; /* records still due */
};

static int __attribute__((format(printf, 4, 5)))
fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint16_t
get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void
put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static void
put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static bool
zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	while (n-- > 0)
		acc |= *p++;
	return acc == 0;
}

static void
encode_hdr(uint8_t *out, const struct zcs_bundle_hdr *h)
{
	memset(out, 0, ZCS_BUNDLE_HDR_LEN);
	memcpy(out, ZCS_BUNDLE_MAGIC, 8);
	put16(out + OFF_VERSION, ZCS_BUNDLE_VERSION);
	out[OFF_PURPOSE] = h->purpose;
	put16(out + OFF_SHARD, h->shard_id);
	put16(out + OFF_SHARDS, h->shard_count);
	put32(out + OFF_COUNT, h->key_count);
	put64(out + OFF_GEN, h->generation);
	memcpy(out + OFF_SENDER, h->sender_pub, ZCS_BUNDLE_PUB_LEN);
	memcpy(out + OFF_RECIPIENT, h->recipient_pub, ZCS_BUNDLE_PUB_LEN);
	memcpy(out + OFF_NONCE, h->nonce, ZCS_BUNDLE_NONCE_LEN);
	memcpy(out + OFF_IV, h->iv, ZCS_BUNDLE_IV_LEN);
}

int
zcs_bundle_parse(struct zcs_bundle_hdr *h, char *err, size_t errlen, const uint8_t *buf, size_t len)
{
	uint16_t version;
	size_t want;

	memset(h, 0, sizeof(*h));
	if (len < ZCS_BUNDLE_HDR_LEN)
		return fail(-EINVAL, err, errlen,
			"truncated: %zu bytes, shorter than the %d-byte header", len,
			ZCS_BUNDLE_HDR_LEN);
	if (memcmp(buf, ZCS_BUNDLE_MAGIC, 8) != 0)
		return fail(-EINVAL, err, errlen, "not a zcsign key bundle (bad magic)");
	version = get16(buf + OFF_VERSION);
	if (version != ZCS_BUNDLE_VERSION)
		return fail(-EINVAL, err, errlen, "bundle version %u (this build reads %d)",
			version, ZCS_BUNDLE_VERSION);
	h->purpose = buf[OFF_PURPOSE];
	if (h->purpose != ZCS_BUNDLE_AT_REST && h->purpose != ZCS_BUNDLE_TRANSIT)
		return fail(-EINVAL, err, errlen, "unknown bundle purpose %u", h->purpose);
	if (buf[OFF_RSV0] != 0 || !zero(buf + OFF_RSV1, 4) || !zero(buf + OFF_RSV2, 4))
		return fail(-EINVAL, err, errlen, "a reserved header byte is not zero");
	h->shard_id = get16(buf + OFF_SHARD);
	h->shard_count = get16(buf + OFF_SHARDS);
	if (h->shard_count < 1 || h->shard_count > ZCS_MAX_SHARDS || h->shard_id >= h->shard_count)
		return fail(-EINVAL, err, errlen, "shard %u/%u is out of range", h->shard_id,
			h->shard_count);
	h->key_count = get32(buf + OFF_COUNT);
	if (h->key_count > ZCS_BUNDLE_MAX_KEYS)
		return fail(-EINVAL, err, errlen, "%" PRIu32 " keys: more than the %u allowed",
			h->key_count, ZCS_BUNDLE_MAX_KEYS);
	h->generation = get64(buf + OFF_GEN);
	if (h->generation == 0)
		return fail(-EINVAL, err, errlen, "generation 0 (generations start at 1)");
	memcpy(h->sender_pub, buf + OFF_SENDER, ZCS_BUNDLE_PUB_LEN);
	memcpy(h->recipient_pub, buf + OFF_RECIPIENT, ZCS_BUNDLE_PUB_LEN);
	memcpy(h->nonce, buf + OFF_NONCE, ZCS_BUNDLE_NONCE_LEN);
	memcpy(h->iv, buf + OFF_IV, ZCS_BUNDLE_IV_LEN);
	if (h->purpose == ZCS_BUNDLE_AT_REST && !zero(h->nonce, sizeof(h->nonce)))
		return fail(-EINVAL, err, errlen, "an at-rest bundle carries a nonce");
	want = zcs_bundle_size(h->key_count);
	if (len < want)
		return fail(-EINVAL, err, errlen,
			"truncated: %zu bytes, a bundle of %" PRIu32 " keys is %zu", len,
			h->key_count, want);
	if (len > want)
		return fail(-EINVAL, err, errlen,
			"extended: %zu bytes, a bundle of %" PRIu32 " keys is %zu", len,
			h->key_count, want);
	return 0;
}

/* The AES-256 key of a bundle: HKDF-SHA256 over X25519(own, peer). */
static int
derive_key(uint8_t key[32], EVP_PKEY *own, const uint8_t peer_pub[ZCS_BUNDLE_PUB_LEN],
	const uint8_t sender_pub[ZCS_BUNDLE_PUB_LEN],
	const uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN])
{
	uint8_t shared[32], info[2 * ZCS_BUNDLE_PUB_LEN];
	size_t shared_len = sizeof(shared);
	EVP_PKEY *peer = NULL;
	EVP_PKEY_CTX *dh = NULL;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	int rc = -EINVAL;

	peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer_pub, ZCS_BUNDLE_PUB_LEN);
	dh = peer != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
	/* OpenSSL refuses an all-zero shared secret (a small-order peer key). */
	if (dh == NULL || EVP_PKEY_derive_init(dh) <= 0 ||
		EVP_PKEY_derive_set_peer(dh, peer) <= 0 ||
		EVP_PKEY_derive(dh, shared, &shared_len) <= 0 || shared_len != sizeof(shared))
		goto out;
	memcpy(info, sender_pub, ZCS_BUNDLE_PUB_LEN);
	memcpy(info + ZCS_BUNDLE_PUB_LEN, recipient_pub, ZCS_BUNDLE_PUB_LEN);
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	if (kctx == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared, shared_len);
	params[2] = OSSL_PARAM_construct_octet_string(
		OSSL_KDF_PARAM_SALT, (char *)HKDF_SALT, sizeof(HKDF_SALT) - 1);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, key, 32, params) > 0)
		rc = 0;
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(dh);
	EVP_PKEY_free(peer);
	return rc;
}

/* Ascending accounts, each of the header's shard. */
static int
check_records(const uint8_t *records, const struct zcs_bundle_hdr *h, char *err, size_t errlen)
{
	uint64_t prev = 0, account;
	uint32_t i, owner;

	for (i = 0; i < h->key_count; i++) {
		account = zcs_bundle_rec_account(records + (size_t)i * ZCS_BUNDLE_REC_LEN);
		if (i > 0 && account <= prev)
			return fail(-EINVAL, err, errlen,
				"record %" PRIu32 ": account %" PRIu64 " %s", i, account,
				account == prev ? "appears twice" : "out of order");
		owner = zcs_shard_of(account, h->shard_count);
		if (owner != h->shard_id)
			return fail(-EINVAL, err, errlen,
				"record %" PRIu32 ": account %" PRIu64 " belongs to shard %" PRIu32
				", not %u",
				i, account, owner, h->shard_id);
		prev = account;
	}
	return 0;
}

int
zcs_bundle_open(uint8_t *records, char *err, size_t errlen, const struct zcs_bundle_hdr *h,
	const uint8_t *buf, size_t len, EVP_PKEY *recipient)
{
	size_t body = (size_t)h->key_count * ZCS_BUNDLE_REC_LEN;
	uint8_t key[32], own_pub[ZCS_BUNDLE_PUB_LEN];
	EVP_CIPHER_CTX *c = NULL;
	int outl = 0, rc;
	size_t off;

	if (len != zcs_bundle_size(h->key_count))
		return fail(-EINVAL, err, errlen, "bundle length does not match its header");
	if (zcs_bundle_key_pub(recipient, own_pub) != 0)
		return fail(-EINVAL, err, errlen, "not an X25519 key");
	if (CRYPTO_memcmp(own_pub, h->recipient_pub, sizeof(own_pub)) != 0)
		return fail(-EKEYREJECTED, err, errlen, "sealed to another key");
	if (derive_key(key, recipient, h->sender_pub, h->sender_pub, h->recipient_pub) != 0)
		return fail(-EKEYREJECTED, err, errlen, "key agreement failed (bad sender key)");
	rc = -ENOMEM;
	c = EVP_CIPHER_CTX_new();
	if (c == NULL || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, h->iv) <= 0 ||
		EVP_DecryptUpdate(c, NULL, &outl, buf, ZCS_BUNDLE_HDR_LEN) <= 0)
		goto out;
	/* In pieces: EVP's int lengths, and a bundle may hold millions of keys. */
	for (off = 0; off < body; off += (size_t)outl) {
		size_t n = body - off > (1u << 20) ? (1u << 20) : body - off;

		if (EVP_DecryptUpdate(
			    c, records + off, &outl, buf + ZCS_BUNDLE_HDR_LEN + off, (int)n) <= 0 ||
			(size_t)outl != n)
			goto out;
	}
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, ZCS_BUNDLE_TAG_LEN,
		    (void *)(buf + ZCS_BUNDLE_HDR_LEN + body)) <= 0)
		goto out;
	if (EVP_DecryptFinal_ex(c, records + body, &outl) <= 0) {
		rc = fail(-EBADMSG, err, errlen,
			"not authentic: the AES-GCM tag does not verify (altered, or not made "
			"for this header)");
		goto out;
	}
	rc = check_records(records, h, err, errlen);
out:
	if (rc == -ENOMEM)
		fail(rc, err, errlen, "OpenSSL could not set up AES-256-GCM");
	if (rc != 0)
		OPENSSL_cleanse(records, body);
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	return rc;
}

struct zcs_bundle_sealer *
zcs_bundle_seal_begin(uint8_t hdr_out[ZCS_BUNDLE_HDR_LEN], struct zcs_bundle_hdr *h,
	const uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN], char *err, size_t errlen)
{
	struct zcs_bundle_sealer *s;
	EVP_PKEY *sender;
	uint8_t key[32];
	int outl, ok;

	if (h->generation == 0 || h->key_count > ZCS_BUNDLE_MAX_KEYS) {
		fail(0, err, errlen, "cannot seal: generation 0 or too many keys");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	sender = zcs_bundle_key_new();
	ok = s != NULL && sender != NULL && zcs_bundle_key_pub(sender, h->sender_pub) == 0 &&
		RAND_bytes(h->iv, sizeof(h->iv)) == 1;
	memcpy(h->recipient_pub, recipient_pub, ZCS_BUNDLE_PUB_LEN);
	ok = ok && derive_key(key, sender, recipient_pub, h->sender_pub, h->recipient_pub) == 0;
	/* The sender key's only job was this key agreement. */
	EVP_PKEY_free(sender);
	if (ok) {
		encode_hdr(hdr_out, h);
		s->cipher = EVP_CIPHER_CTX_new();
		ok = s->cipher != NULL &&
			EVP_EncryptInit_ex(s->cipher, EVP_aes_256_gcm(), NULL, key, h->iv) > 0 &&
			EVP_EncryptUpdate(s->cipher, NULL, &outl, hdr_out, ZCS_BUNDLE_HDR_LEN) > 0;
		s->left = h->key_count;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		fail(0, err, errlen, "cannot seal: X25519, HKDF or AES-GCM set-up failed");
		zcs_bundle_seal_abort(s);
		return NULL;
	}
	return s;
}

int
zcs_bundle_seal_update(
	struct zcs_bundle_sealer *s, uint8_t *out, const uint8_t *records, size_t len)
{
	int outl = 0;

	if (len % ZCS_BUNDLE_REC_LEN != 0 || len / ZCS_BUNDLE_REC_LEN > s->left ||
		len > INT32_MAX ||
		EVP_EncryptUpdate(s->cipher, out, &outl, records, (int)len) <= 0 ||
		(size_t)outl != len) {
		zcs_bundle_seal_abort(s);
		return -EINVAL;
	}
	s->left -= len / ZCS_BUNDLE_REC_LEN;
	return 0;
}

int
zcs_bundle_seal_end(
	struct zcs_bundle_sealer *s, uint8_t tag[ZCS_BUNDLE_TAG_LEN], char *err, size_t errlen)
{
	uint8_t none[16];
	int outl = 0, rc = 0;

	if (s->left != 0)
		rc = fail(-EINVAL, err, errlen, "cannot seal: %" PRIu64 " records still due",
			s->left);
	else if (EVP_EncryptFinal_ex(s->cipher, none, &outl) <= 0 || outl != 0 ||
		EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_GET_TAG, ZCS_BUNDLE_TAG_LEN, tag) <= 0)
		rc = fail(-EIO, err, errlen, "cannot seal: AES-GCM final step failed");
	zcs_bundle_seal_abort(s);
	return rc;
}

void
zcs_bundle_seal_abort(struct zcs_bundle_sealer *s)
{
	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->cipher); /* cleanses the key schedule */
	free(s);
}

int
zcs_bundle_seal(uint8_t **out, size_t *out_len, char *err, size_t errlen, struct zcs_bundle_hdr *h,
	const uint8_t recipient_pub[ZCS_BUNDLE_PUB_LEN], const uint8_t *records)
{
	size_t body = (size_t)h->key_count * ZCS_BUNDLE_REC_LEN, off, n;
	struct zcs_bundle_sealer *s;
	uint8_t *b;
	int rc;

	b = malloc(zcs_bundle_size(h->key_count));
	if (b == NULL)
		return fail(-ENOMEM, err, errlen, "cannot seal: out of memory");
	s = zcs_bundle_seal_begin(b, h, recipient_pub, err, errlen);
	if (s == NULL) {
		free(b);
		return -EINVAL;
	}
	for (off = 0; off < body; off += n) {
		n = body - off > ZCS_BUNDLE_REC_LEN * 25000u ? ZCS_BUNDLE_REC_LEN * 25000u
							     : body - off;
		if (zcs_bundle_seal_update(s, b + ZCS_BUNDLE_HDR_LEN + off, records + off, n) !=
			0) {
			free(b);
			return fail(-EIO, err, errlen, "cannot seal: AES-GCM failed");
		}
	}
	rc = zcs_bundle_seal_end(s, b + ZCS_BUNDLE_HDR_LEN + body, err, errlen);
	if (rc != 0) {
		free(b);
		return rc;
	}
	*out = b;
	*out_len = zcs_bundle_size(h->key_count);
	return 0;
}

EVP_PKEY *
zcs_bundle_key_new(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
}

int
zcs_bundle_key_pub(const EVP_PKEY *k, uint8_t pub[ZCS_BUNDLE_PUB_LEN])
{
	size_t len = ZCS_BUNDLE_PUB_LEN;

	if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_X25519 ||
		EVP_PKEY_get_raw_public_key(k, pub, &len) <= 0 || len != ZCS_BUNDLE_PUB_LEN)
		return -EINVAL;
	return 0;
}

/* An open fd on a regular file, checked: private files must be 0600 or stricter. */
static int
open_checked(const char *path, bool private, const char *what, char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		return fail(-e, err, errlen, "%s: cannot open %s: %s", path, what, strerror(e));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(-EINVAL, err, errlen, "%s: %s is not a regular file", path, what);
	}
	if (private && (st.st_mode & 077) != 0) {
		close(fd);
		return fail(-EACCES, err, errlen,
			"%s: %s is readable or writable by group/others (mode %04o); chmod 600 it",
			path, what, (unsigned)(st.st_mode & 07777));
	}
	return fd;
}

EVP_PKEY *
zcs_bundle_key_load_private(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;
	BIO *bio;
	int fd;

	fd = open_checked(path, true, "private key", err, errlen);
	if (fd < 0)
		return NULL;
	bio = BIO_new_fd(fd, BIO_CLOSE);
	if (bio == NULL)
		close(fd);
	else
		k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL) {
		fail(0, err, errlen, "%s: not a PEM private key", path);
		return NULL;
	}
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_X25519) {
		EVP_PKEY_free(k);
		fail(0, err, errlen, "%s: not an X25519 key (zcsign-keygen --new-operator-key)",
			path);
		return NULL;
	}
	return k;
}

int
zcs_bundle_key_load_public(
	uint8_t pub[ZCS_BUNDLE_PUB_LEN], char *err, size_t errlen, const char *path)
{
	EVP_PKEY *k = NULL;
	BIO *bio;
	int fd, rc;

	fd = open_checked(path, false, "public key", err, errlen);
	if (fd < 0)
		return fd;
	bio = BIO_new_fd(fd, BIO_CLOSE);
	if (bio == NULL)
		close(fd);
	else
		k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	rc = zcs_bundle_key_pub(k, pub);
	EVP_PKEY_free(k);
	if (rc != 0)
		return fail(-EINVAL, err, errlen, "%s: not a PEM X25519 public key", path);
	return 0;
}

/* PREFIX + suffix, created exclusively with mode; the fd, or -errno. */
static int
create_file(char *path, size_t cap, const char *prefix, const char *suffix, mode_t mode)
{
	int fd;

	if ((size_t)snprintf(path, cap, "%s%s", prefix, suffix) >= cap)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) != 0) { /* past the umask */
		int e = errno;

		close(fd);
		unlink(path);
		return -e;
	}
	return fd;
}

int
zcs_bundle_key_write(const char *prefix, EVP_PKEY *k, char *err, size_t errlen)
{
	char priv_path[4096], pub_path[4096];
	int fd, ok;
	BIO *bio;

	fd = create_file(priv_path, sizeof(priv_path), prefix, ".key", 0600);
	if (fd < 0)
		return fail(fd, err, errlen, "%s.key: cannot create: %s", prefix, strerror(-fd));
	bio = BIO_new_fd(fd, BIO_CLOSE);
	ok = bio != NULL && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) > 0 &&
		BIO_flush(bio) > 0;
	if (bio == NULL)
		close(fd);
	BIO_free(bio);
	if (!ok) {
		unlink(priv_path);
		return fail(-EIO, err, errlen, "%s: cannot write the private key", priv_path);
	}
	fd = create_file(pub_path, sizeof(pub_path), prefix, ".pub", 0644);
	if (fd < 0) {
		unlink(priv_path);
		return fail(fd, err, errlen, "%s.pub: cannot create: %s", prefix, strerror(-fd));
	}
	bio = BIO_new_fd(fd, BIO_CLOSE);
	ok = bio != NULL && PEM_write_bio_PUBKEY(bio, k) > 0 && BIO_flush(bio) > 0;
	if (bio == NULL)
		close(fd);
	BIO_free(bio);
	if (!ok) {
		unlink(priv_path);
		unlink(pub_path);
		return fail(-EIO, err, errlen, "%s: cannot write the public key", pub_path);
	}
	return 0;
}

int
zcs_bundle_read(uint8_t **buf, size_t *len, struct zcs_bundle_hdr *h, char *err, size_t errlen,
	const char *path)
{
	char why[200];
	struct stat st;
	size_t got = 0;
	uint8_t *b;
	ssize_t r;
	int fd, rc;

	fd = open_checked(path, false, "key bundle", err, errlen);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > zcs_bundle_size(ZCS_BUNDLE_MAX_KEYS)) {
		close(fd);
		return fail(-EFBIG, err, errlen, "%s: larger than any key bundle", path);
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		close(fd);
		return fail(-ENOMEM, err, errlen, "%s: out of memory", path);
	}
	while ((r = read(fd, b + got, (size_t)st.st_size + 1 - got)) > 0 ||
		(r < 0 && errno == EINTR))
		if (r > 0)
			got += (size_t)r;
	close(fd);
	rc = r < 0 ? -EIO : zcs_bundle_parse(h, why, sizeof(why), b, got);
	if (rc != 0) {
		free(b);
		return fail(rc, err, errlen, "%s: %s", path, r < 0 ? "read failed" : why);
	}
	*buf = b;
	*len = got;
	return 0;
}
