/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Secure memory for secrets (the signer's key store, zcsign-keygen, the
 * provisioner): anonymous mmap, mlock'ed, MADV_DONTDUMP, MADV_WIPEONFORK,
 * zero-filled; wiped before it is unmapped.
 */
#ifndef ZCS_SECURE_H
#define ZCS_SECURE_H

#include <stddef.h>

/*
 * len bytes of secure memory. Returns NULL with errno set (mlock failure
 * included: secrets must not be swappable).
 */
void *zcs_secure_alloc(size_t len);

/* Wipe (a clear the compiler cannot drop), then munmap (which unlocks). NULL is a no-op. */
void zcs_secure_free(void *p, size_t len);

/*
 * OpenSSL's secure heap (CRYPTO_secure_malloc_init: locked, MADV_DONTDUMP,
 * guard pages) for the private keys OpenSSL itself allocates: the X25519
 * keys of provisioning live there, not on the ordinary heap. Once per
 * process, before the first key; idempotent. 0, or -1 (logged by the caller).
 */
int zcs_secure_heap_init(void);

#endif /* ZCS_SECURE_H */
