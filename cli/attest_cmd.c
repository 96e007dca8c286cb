/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli attest: check an attestation document from a file, or fetch one
 * from a signer and check it.
 *
 *   zcsign-cli attest verify --doc FILE [--root aws|PEMFILE] [--at UNIX_MS]
 *       [--pcr N=HEX]... [--nonce HEX] [--json]
 *   zcsign-cli --signer ADDR [--shard I/N] attest [--root aws|PEMFILE]
 *       [--pcr N=HEX]... [--nonce HEX] [--json]
 *
 * From a signer: HELLO, then ATTEST with a nonce (--nonce: 64 hex digits;
 * default 32 fresh random bytes), the document reassembled from its
 * ATTEST_REPLY chunks, then verified like a file, the nonce included.
 *
 * FILE holds the document as raw CBOR or as hex (white space ignored). The
 * root is AWS's Nitro root G1, pinned by its SHA-256 fingerprint (default),
 * or the certificate in PEMFILE (a dev attestation CA's root), which
 * cabundle[0] must equal byte for byte. --at verifies as of that time (ms
 * since the epoch; default now): Nitro leaf certificates live for hours, so
 * an old document verifies only as of its own time. Each --pcr must be in the
 * document with that value; --nonce must be its nonce.
 *
 * Exit 0: valid (a summary, or with --json one object, on stdout). Exit 1:
 * invalid, one line on stderr naming the failed check (and with --json an
 * object with "valid": false on stdout). Exit 2: the command line.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest.h"
#include "cli.h"
#include "hex.h"
#include "num.h"
#include "out.h"

#define DOC_FILE_MAX (4 * ZCS_ATTEST_DOC_MAX + 1024) /* hex of the largest document, and room */

struct attest_args {
	bool fetch; /* from the signer of --signer, not from a file */
	const char *doc;
	const char *root; /* "aws" or a PEM file */
	bool json;
	struct zcs_attest_policy pol;
	uint8_t nonce[ZCS_ATTEST_DATA_MAX];
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: " CLI_PROG " attest verify --doc FILE [--root aws|PEMFILE] [--at UNIX_MS]\n"
		"           [--pcr N=HEX]... [--nonce HEX] [--json]\n"
		"\n"
		"Verify a Nitro-format attestation document (raw CBOR or hex in FILE):\n"
		"  --root aws       the AWS Nitro Enclaves root G1, pinned by its SHA-256\n"
		"                   fingerprint (default)\n"
		"  --root PEMFILE   a dev attestation CA's root certificate\n"
		"  --at UNIX_MS     verify as of this time (ms since the epoch; default now)\n"
		"  --pcr N=HEX      PCR N (0..31) must have this value (repeatable)\n"
		"  --nonce HEX      the document must carry this nonce\n"
		"  --json           one JSON object on stdout\n"
		"Exit status: 0 valid, 1 invalid (one line naming the failed check), 2 usage.\n");
}

int
cli_attest_parse_pcr(struct zcs_attest_policy *pol, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint64_t idx;
	size_t hexlen;

	if (eq == NULL || zcs_parse_u64_n(arg, (size_t)(eq - arg), ZCS_ATTEST_PCRS - 1, &idx) != 0)
		return cli_fail(CLI_EXIT_USAGE, "--pcr '%s': expected N=HEX with N 0..%d", arg,
			ZCS_ATTEST_PCRS - 1);
	hexlen = strlen(eq + 1);
	if ((hexlen != 64 && hexlen != 96 && hexlen != 128) ||
		zcs_hex_decode(eq + 1, hexlen / 2, pol->pcr[idx]) != 0)
		return cli_fail(CLI_EXIT_USAGE,
			"--pcr %u: expected 64, 96 or 128 hex digits (a 32, 48 or 64-byte PCR)",
			(unsigned int)idx);
	pol->pcr_mask |= UINT32_C(1) << idx;
	pol->pcr_len[idx] = (uint8_t)(hexlen / 2);
	return 0;
}

static int
parse_args(struct attest_args *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{"doc", required_argument, NULL, 'd'},
		{"root", required_argument, NULL, 'r'},
		{"at", required_argument, NULL, 't'},
		{"pcr", required_argument, NULL, 'p'},
		{"nonce", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	size_t n;
	int c;

	/* "attest verify ..." reads a file; with --signer, "attest ..." asks the signer. */
	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		argc--;
		argv++;
	} else if (!x->fetch) {
		return cli_fail(CLI_EXIT_USAGE,
			"attest: expected 'attest verify --doc FILE ...', or --signer ADDR "
			"(see attest --help)");
	}
	/* argv[0] ("verify", or "attest" itself) is getopt's program name. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			x->doc = optarg;
			break;
		case 'r':
			x->root = optarg;
			break;
		case 't':
			if (zcs_parse_u64(optarg, UINT64_MAX, &x->pol.at_ms) != 0 ||
				x->pol.at_ms == 0)
				return cli_fail(CLI_EXIT_USAGE,
					"--at: expected a time in ms since the epoch, got '%s'",
					optarg);
			break;
		case 'p':
			if (cli_attest_parse_pcr(&x->pol, optarg) != 0)
				return CLI_EXIT_USAGE;
			break;
		case 'n':
			n = strlen(optarg);
			if (n % 2 != 0 || n / 2 > sizeof(x->nonce) ||
				zcs_hex_decode(optarg, n / 2, x->nonce) != 0)
				return cli_fail(CLI_EXIT_USAGE,
					"--nonce: expected an even number of hex digits, at most "
					"%zu",
					2 * sizeof(x->nonce));
			x->pol.nonce = x->nonce;
			x->pol.nonce_len = n / 2;
			break;
		case 'j':
			x->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cli_fail(CLI_EXIT_USAGE, "attest verify: %s needs an argument",
				argv[optind - 1]);
		default:
			return cli_fail(CLI_EXIT_USAGE, "attest verify: unknown option '%s'",
				argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail(
			CLI_EXIT_USAGE, "attest verify: unexpected argument '%s'", argv[optind]);
	if (x->fetch && x->doc != NULL)
		return cli_fail(CLI_EXIT_USAGE, "attest: --doc and --signer exclude each other");
	if (x->fetch && x->pol.nonce != NULL && x->pol.nonce_len != 32)
		return cli_fail(CLI_EXIT_USAGE, "attest: --nonce for a signer is 64 hex digits");
	if (!x->fetch && x->doc == NULL)
		return cli_fail(CLI_EXIT_USAGE, "attest verify: --doc FILE is required");
	return 0;
}

/* The whole file; hex text decoded. Returns its length, or 0 after a message. */
static size_t
read_doc(const char *path, uint8_t *out, size_t cap)
{
	static char text[DOC_FILE_MAX];
	size_t n, i, k = 0;
	bool hex = true;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		cli_fail(CLI_EXIT_RUNTIME, "attest verify: cannot open %s", path);
		return 0;
	}
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (n == 0 || n == sizeof(text)) {
		cli_fail(CLI_EXIT_RUNTIME, "attest verify: %s is %s", path,
			n == 0 ? "empty" : "too large for a document");
		return 0;
	}
	for (i = 0; i < n && hex; i++)
		hex = isxdigit((unsigned char)text[i]) || isspace((unsigned char)text[i]);
	if (!hex) {
		if (n > cap) {
			cli_fail(CLI_EXIT_RUNTIME, "attest verify: %s is too large", path);
			return 0;
		}
		memcpy(out, text, n);
		return n;
	}
	for (i = 0; i < n; i++)
		if (!isspace((unsigned char)text[i]))
			text[k++] = text[i];
	if (k % 2 != 0 || k / 2 > cap || zcs_hex_decode(text, k / 2, out) != 0) {
		cli_fail(CLI_EXIT_RUNTIME, "attest verify: %s: not an even number of hex digits",
			path);
		return 0;
	}
	return k / 2;
}

int
cli_attest_load_root(const char *root, struct zcs_attest_policy *pol, uint8_t **der)
{
	char why[300];
	int len;

	if (root == NULL || strcmp(root, "aws") == 0) {
		pol->root_sha256 = zcs_attest_aws_root_g1_sha256;
		return 0;
	}
	len = zcs_attest_pem_der(root, der, why, sizeof(why));
	if (len < 0)
		return cli_fail(CLI_EXIT_RUNTIME, "attest: --root %s", why);
	pol->root_der = *der;
	pol->root_der_len = (size_t)len;
	return 0;
}

/* "hex" or null, into the JSON. */
static void
json_bytes(const char *key, const struct zcs_attest_bytes *b)
{
	char hex[2 * ZCS_ATTEST_PUBKEY_MAX + 1];

	if (b->p == NULL) {
		printf(",\"%s\":null", key);
		return;
	}
	zcs_hex_encode(b->p, b->len, hex);
	printf(",\"%s\":\"%s\"", key, hex);
}

static void
print_valid(const struct attest_args *x, const struct zcs_attest_doc *d)
{
	char hex[129];
	unsigned int i, listed = 0;

	if (!x->json) {
		printf("valid: module %s, timestamp %" PRIu64 " ms, %u PCRs, %u CA certificates\n",
			d->module_id, d->timestamp_ms,
			(unsigned int)__builtin_popcount(d->pcr_mask), d->cabundle_count);
		for (i = 0; i < ZCS_ATTEST_PCRS; i++)
			if (d->pcr_mask & (UINT32_C(1) << i)) {
				zcs_hex_encode(d->pcr[i], d->pcr_len[i], hex);
				printf("PCR%u %s\n", i, hex);
			}
		return;
	}
	printf("{\"valid\":true,\"module_id\":\"%s\",\"timestamp_ms\":%" PRIu64
	       ",\"digest\":\"SHA384\",\"root\":\"%s\",\"cabundle\":%u,\"pcrs\":{",
		d->module_id, d->timestamp_ms, x->pol.root_der != NULL ? "file" : "aws",
		d->cabundle_count);
	for (i = 0; i < ZCS_ATTEST_PCRS; i++)
		if (d->pcr_mask & (UINT32_C(1) << i)) {
			zcs_hex_encode(d->pcr[i], d->pcr_len[i], hex);
			printf("%s\"%u\":\"%s\"", listed++ ? "," : "", i, hex);
		}
	printf("}");
	json_bytes("public_key", &d->public_key);
	json_bytes("user_data", &d->user_data);
	json_bytes("nonce", &d->nonce);
	printf("}\n");
}

int
cli_attest_main(const struct cli_args *a, int argc, char **argv)
{
	static struct attest_args x;
	static uint8_t buf[2 * ZCS_ATTEST_DOC_MAX];
	struct zcs_attest_doc *doc = NULL;
	uint8_t *root_der = NULL;
	char err[256];
	size_t len;
	int rc;

	memset(&x, 0, sizeof(x));
	x.fetch = a->signer != NULL;
	rc = parse_args(&x, argc, argv);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (x.fetch) {
		if (x.pol.nonce == NULL) {
			if (getrandom(x.nonce, 32, 0) != 32)
				return cli_fail(CLI_EXIT_RUNTIME, "attest: getrandom failed");
			x.pol.nonce = x.nonce;
			x.pol.nonce_len = 32;
		}
		x.doc = a->signer;
		rc = cli_signer_attest(a, x.pol.nonce, buf, sizeof(buf), &len);
		if (rc != 0)
			return rc;
	} else {
		len = read_doc(x.doc, buf, sizeof(buf));
		if (len == 0)
			return CLI_EXIT_RUNTIME;
	}
	rc = cli_attest_load_root(x.root, &x.pol, &root_der);
	doc = rc == 0 ? malloc(sizeof(*doc)) : NULL;
	if (rc == 0 && doc == NULL)
		rc = cli_fail(CLI_EXIT_RUNTIME, "attest verify: out of memory");
	if (rc == 0) {
		rc = zcs_attest_check(doc, err, sizeof(err), buf, len, &x.pol);
		if (rc == 0) {
			print_valid(&x, doc);
		} else {
			if (x.json)
				printf("{\"valid\":false,\"check\":\"%s\"}\n",
					zcs_attest_result_name(rc));
			rc = cli_fail(CLI_EXIT_RUNTIME, "attest verify: %s: %s", x.doc, err);
		}
	}
	free(doc);
	OPENSSL_free(root_der);
	return rc == 0 ? cli_flush_stdout() : rc;
}
