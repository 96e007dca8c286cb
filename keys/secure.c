/* SPDX-License-Identifier: BSD-3-Clause */
/* Secure memory (secure.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "secure.h"

/* OpenSSL's secure heap: room for a few dozen X25519 and P-384 keys. */
#define SECURE_HEAP_SIZE (64 * 1024)
#define SECURE_HEAP_MIN 32

static size_t
page_round(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) & ~(page - 1);
}

void *
zcs_secure_alloc(size_t len)
{
	size_t maplen;
	void *p;
	int saved;

	if (len == 0 || len > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	maplen = page_round(len);
	p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/*
	 * Each of these is a promise made in secure.h; losing one is an error.
	 * mlock goes through syscall(2): AddressSanitizer replaces mlock() with a
	 * no-op that reports success, and sanitizer builds must not quietly let
	 * secrets swap.
	 */
	if (syscall(SYS_mlock, p, maplen) != 0 || madvise(p, maplen, MADV_DONTDUMP) != 0 ||
		madvise(p, maplen, MADV_WIPEONFORK) != 0) {
		saved = errno;
		munmap(p, maplen);
		errno = saved;
		return NULL;
	}
	return p;
}

void
zcs_secure_free(void *p, size_t len)
{
	size_t maplen;

	if (p == NULL || len == 0)
		return;
	maplen = page_round(len);
	explicit_bzero(p, maplen);
	/* munmap drops the lock too; no munlock, which sanitizers would skip anyway */
	munmap(p, maplen);
}

int
zcs_secure_heap_init(void)
{
	if (CRYPTO_secure_malloc_initialized())
		return 0;
	/* 1: the heap is up; 2: up, but without its guard pages (still locked). */
	return CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, SECURE_HEAP_MIN) != 0 ? 0 : -1;
}
