/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli's printers (out.h). Every value printed is a number, a name from
 * a fixed table or hex, so nothing here needs escaping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <zcsign/wire.h>

#include "hex.h"
#include "out.h"

int
cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs(CLI_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(CLI_EXIT_RUNTIME, "stdout: %s", strerror(errno));
	return 0;
}

int
cli_print_sign(const struct cli_args *a, const uint8_t sig[64], unsigned int recid,
	const uint8_t pubkey[33], unsigned int shard, uint64_t service_ns, uint64_t latency_ns)
{
	char sig_hex[129], pub[67], hash[65];

	zcs_hex_encode(a->hash, 32, hash);
	zcs_hex_encode(sig, 64, sig_hex);
	/* BIP-340 verifies against the x-only key: the compressed key without its parity byte. */
	if (a->algo == ZCS_ALGO_SCHNORR)
		zcs_hex_encode(pubkey + 1, 32, pub);
	else
		zcs_hex_encode(pubkey, 33, pub);
	printf("{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"hash\":\"%s\",\"signature\":\"%s\",",
		a->account, zcs_algo_name(a->algo), hash, sig_hex);
	/* Only recoverable ECDSA has a recovery id; a 0 elsewhere would look like one. */
	if (a->algo == ZCS_ALGO_ECDSA_RECOVERABLE)
		printf("\"recid\":%u,", recid);
	else
		printf("\"recid\":null,");
	printf("\"pubkey\":\"%s\",\"shard\":%u,\"service_ns\":%" PRIu64 ",\"latency_ns\":%" PRIu64
	       "}\n",
		pub, shard, service_ns, latency_ns);
	return cli_flush_stdout();
}

int
cli_print_pubkey(const struct cli_args *a, const uint8_t pubkey[33], const uint8_t xonly[32],
	unsigned int shard, uint64_t latency_ns)
{
	char pub[67], x[65];

	zcs_hex_encode(pubkey, 33, pub);
	zcs_hex_encode(xonly, 32, x);
	printf("{\"account\":%" PRIu64 ",\"pubkey\":\"%s\",\"xonly\":\"%s\",\"shard\":%u,"
	       "\"latency_ns\":%" PRIu64 "}\n",
		a->account, pub, x, shard, latency_ns);
	return cli_flush_stdout();
}

int
cli_print_verified(const struct cli_args *a)
{
	printf("{\"account\":%" PRIu64 ",\"algo\":\"%s\",\"valid\":true}\n", a->account,
		zcs_algo_name(a->algo));
	return cli_flush_stdout();
}
