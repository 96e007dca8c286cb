/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-cli provision: give an attested signer its keys.
 *
 *   zcsign-cli --signer ADDR [--shard I/N] provision --operator-key FILE
 *       [--root aws|PEMFILE] [--pcr N=HEX]... [--control ADDR] [--json] BUNDLE...
 *
 * 1. Open every BUNDLE (zcsign-keygen's at-rest bundles of one shard) with
 *    the operator's X25519 private key (refused when group or world can read
 *    it) into locked memory, and merge them: in generation order, a later
 *    bundle's key for an account replaces an earlier one's.
 * 2. Ask the signer's control endpoint (ADDR's, unix:PATH.ctl or vsock port
 *    + 1, or --control) for a PROVISION document with a fresh nonce, and
 *    verify it like attest does (the pinned root, every --pcr, the nonce),
 *    plus: its user_data names this shard ("zcsign shard I/N provision") and
 *    its public_key is an X25519 key.
 * 3. Seal the merged keys to that key (a transit bundle carrying the nonce
 *    and the newest generation), wipe the plaintext, send it, and print the
 *    signer's answer: its key count, the accounts added and rotated.
 *
 * Nothing is sent unless the document verified. Exit 0: provisioned (one
 * summary line, or with --json one object, on stdout). 1: refused by either
 * side, one line on stderr naming why. 2: the command line.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <zcsign/wire.h>

#include "addr.h"
#include "attest.h"
#include "bundle.h"
#include "cli.h"
#include "clock.h"
#include "out.h"
#include "secure.h"

#define MAX_BUNDLES 16
#define PROVISION_TIMEOUT_MS 10000

struct prov_args {
	const char *operator_key;
	const char *root;
	const char *control;
	bool json;
	struct zcs_attest_policy pol;
	const char *bundles[MAX_BUNDLES];
	unsigned int nbundles;
};

/* The merged plaintext keys: secure memory, wiped on every path out. */
struct plain {
	uint8_t *rec;
	size_t cap; /* bytes mapped */
	uint32_t n;
	uint64_t generation; /* the newest of the bundles */
	uint16_t shard_id, shard_count;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: " CLI_PROG " --signer ADDR [--shard I/N] provision --operator-key FILE\n"
		"           [--root aws|PEMFILE] [--pcr N=HEX]... [--control ADDR] [--json]\n"
		"           BUNDLE...\n"
		"\n"
		"Open zcsign-keygen's sealed bundles of one shard with the operator's key, check\n"
		"the signer's attestation (a fresh nonce, the root, each --pcr), seal the keys to\n"
		"the key in its document and send them; the signer adds or rotates accounts\n"
		"while it signs.\n"
		"  --operator-key FILE  the operator's X25519 private key (mode 0600)\n"
		"  --root aws|PEMFILE   pinned root: AWS's Nitro root G1 (default) or a dev CA's\n"
		"  --pcr N=HEX          PCR N must have this value (repeatable; give PCR0)\n"
		"  --control ADDR       the signer's control endpoint (default: from --signer:\n"
		"                       unix:PATH.ctl, or vsock port + 1)\n"
		"  --json               one JSON object on stdout\n"
		"Exit status: 0 provisioned, 1 refused (one line naming why), 2 usage.\n");
}

static int
parse_args(struct prov_args *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{"operator-key", required_argument, NULL, 'k'},
		{"root", required_argument, NULL, 'r'},
		{"pcr", required_argument, NULL, 'p'},
		{"control", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			x->operator_key = optarg;
			break;
		case 'r':
			x->root = optarg;
			break;
		case 'p':
			if (cli_attest_parse_pcr(&x->pol, optarg) != 0)
				return CLI_EXIT_USAGE;
			break;
		case 'c':
			x->control = optarg;
			break;
		case 'j':
			x->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cli_fail(CLI_EXIT_USAGE, "provision: %s needs an argument",
				argv[optind - 1]);
		default:
			return cli_fail(
				CLI_EXIT_USAGE, "provision: unknown option '%s'", argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		if (x->nbundles == MAX_BUNDLES)
			return cli_fail(
				CLI_EXIT_USAGE, "provision: at most %d bundles", MAX_BUNDLES);
		x->bundles[x->nbundles++] = argv[optind];
	}
	if (x->operator_key == NULL)
		return cli_fail(CLI_EXIT_USAGE, "provision: --operator-key FILE is required");
	if (x->nbundles == 0)
		return cli_fail(CLI_EXIT_USAGE, "provision: no BUNDLE given");
	return 0;
}

static void
plain_free(struct plain *p)
{
	zcs_secure_free(p->rec, p->cap);
	p->rec = NULL;
	p->cap = 0;
	p->n = 0;
}

/*
 * p := p merged with the n records at add (both ascending); for an account in
 * both, add's key wins (add is the newer bundle). Into fresh secure memory.
 */
static int
merge_into(struct plain *p, const uint8_t *add, uint32_t n)
{
	size_t cap = ((size_t)p->n + n) * ZCS_BUNDLE_REC_LEN;
	uint32_t i = 0, j = 0, k = 0;
	uint8_t *out;

	out = zcs_secure_alloc(cap ? cap : 1);
	if (out == NULL)
		return -errno;
	while (i < p->n || j < n) {
		const uint8_t *a = p->rec + (size_t)i * ZCS_BUNDLE_REC_LEN;
		const uint8_t *b = add + (size_t)j * ZCS_BUNDLE_REC_LEN;
		const uint8_t *take;

		if (j == n || (i < p->n && zcs_bundle_rec_account(a) < zcs_bundle_rec_account(b))) {
			take = a;
			i++;
		} else {
			if (i < p->n && zcs_bundle_rec_account(a) == zcs_bundle_rec_account(b))
				i++; /* replaced */
			take = b;
			j++;
		}
		memcpy(out + (size_t)k++ * ZCS_BUNDLE_REC_LEN, take, ZCS_BUNDLE_REC_LEN);
	}
	plain_free(p);
	p->rec = out;
	p->cap = cap ? cap : 1;
	p->n = k;
	return 0;
}

/* Open one at-rest bundle of the shard and merge it in. 0, or the exit status. */
static int
open_one(struct plain *p, const struct cli_args *a, EVP_PKEY *op, const char *path, uint8_t *buf,
	size_t len, const struct zcs_bundle_hdr *h)
{
	size_t n = (size_t)h->key_count * ZCS_BUNDLE_REC_LEN;
	char err[256];
	uint8_t *rec;
	int rc;

	if (h->purpose != ZCS_BUNDLE_AT_REST)
		return cli_fail(
			CLI_EXIT_RUNTIME, "provision: %s: not zcsign-keygen's (transit)", path);
	if (h->shard_id != p->shard_id || h->shard_count != p->shard_count)
		return cli_fail(CLI_EXIT_RUNTIME, "provision: %s holds shard %u/%u, not %u/%u%s",
			path, h->shard_id, h->shard_count, p->shard_id, p->shard_count,
			a->shard_given ? " (--shard)" : " (the first bundle's)");
	rec = zcs_secure_alloc(n ? n : 1);
	if (rec == NULL)
		return cli_fail(CLI_EXIT_RUNTIME, "provision: no locked memory for %s", path);
	rc = zcs_bundle_open(rec, err, sizeof(err), h, buf, len, op);
	if (rc != 0) {
		zcs_secure_free(rec, n ? n : 1);
		return cli_fail(CLI_EXIT_RUNTIME, "provision: %s: %s", path, err);
	}
	rc = merge_into(p, rec, h->key_count);
	zcs_secure_free(rec, n ? n : 1);
	if (rc != 0)
		return cli_fail(CLI_EXIT_RUNTIME, "provision: no locked memory to merge %s", path);
	if (h->generation > p->generation)
		p->generation = h->generation;
	return 0;
}

/* Every bundle, oldest generation first, into p. 0, or the exit status. */
static int
open_bundles(struct plain *p, const struct cli_args *a, const struct prov_args *x)
{
	uint8_t *buf[MAX_BUNDLES] = {NULL};
	size_t len[MAX_BUNDLES];
	struct zcs_bundle_hdr h[MAX_BUNDLES];
	bool done[MAX_BUNDLES] = {false};
	unsigned int i, k, next;
	char err[300];
	EVP_PKEY *op;
	int rc = 0;

	op = zcs_bundle_key_load_private(x->operator_key, err, sizeof(err));
	if (op == NULL)
		return cli_fail(CLI_EXIT_RUNTIME, "provision: --operator-key %s", err);
	for (i = 0; rc == 0 && i < x->nbundles; i++)
		if (zcs_bundle_read(&buf[i], &len[i], &h[i], err, sizeof(err), x->bundles[i]) != 0)
			rc = cli_fail(CLI_EXIT_RUNTIME, "provision: %s", err);
	/* The shard: --shard when given, else the first bundle's; all must agree. */
	p->shard_id = a->shard_given ? a->shard_id : h[0].shard_id;
	p->shard_count = a->shard_given ? a->shard_count : h[0].shard_count;
	for (k = 0; rc == 0 && k < x->nbundles; k++) {
		next = MAX_BUNDLES;
		for (i = 0; i < x->nbundles; i++)
			if (!done[i] &&
				(next == MAX_BUNDLES || h[i].generation < h[next].generation))
				next = i;
		done[next] = true;
		rc = open_one(p, a, op, x->bundles[next], buf[next], len[next], &h[next]);
	}
	for (i = 0; i < x->nbundles; i++)
		free(buf[i]);
	EVP_PKEY_free(op);
	return rc;
}

/* What this tool adds to attest's checks: the shard, and a usable key. */
static int
check_document(const struct zcs_attest_doc *d, const struct plain *p, const char *where)
{
	char want[64];

	snprintf(want, sizeof(want), "zcsign shard %u/%u provision", p->shard_id, p->shard_count);
	if (d->user_data.p == NULL || d->user_data.len != strlen(want) ||
		memcmp(d->user_data.p, want, d->user_data.len) != 0)
		return cli_fail(CLI_EXIT_RUNTIME,
			"provision: %s: the document is not a provisioning document of shard "
			"%u/%u (user_data)",
			where, p->shard_id, p->shard_count);
	if (d->public_key.p == NULL || d->public_key.len != ZCS_BUNDLE_PUB_LEN)
		return cli_fail(CLI_EXIT_RUNTIME,
			"provision: %s: the document carries no X25519 public key", where);
	return 0;
}

/* Seal p to pub, send it in BUNDLE chunks, read BUNDLE_REPLY. 0, or the exit status. */
static int
send_bundle(struct cli_conn *c, struct plain *p, const uint8_t pub[ZCS_BUNDLE_PUB_LEN],
	const uint8_t nonce[32], struct zcs_wire_bundle_reply *out)
{
	struct zcs_bundle_hdr h;
	union zcs_wire_frame f;
	struct zcs_wire_bundle *frames;
	uint8_t *sealed = NULL;
	size_t len = 0, off, n, k, batch = 1024;
	char err[200];
	int rc;

	memset(&h, 0, sizeof(h));
	h.purpose = ZCS_BUNDLE_TRANSIT;
	h.shard_id = p->shard_id;
	h.shard_count = p->shard_count;
	h.key_count = p->n;
	h.generation = p->generation;
	memcpy(h.nonce, nonce, sizeof(h.nonce));
	rc = zcs_bundle_seal(&sealed, &len, err, sizeof(err), &h, pub, p->rec);
	plain_free(p); /* the plaintext's last use */
	if (rc != 0)
		return cli_fail(CLI_EXIT_RUNTIME, "provision: %s", err);
	frames = malloc(batch * sizeof(*frames));
	if (frames == NULL) {
		free(sealed);
		return cli_fail(CLI_EXIT_RUNTIME, "provision: out of memory");
	}
	for (off = 0, k = 0; rc == 0 && off < len; off += n) {
		n = len - off < ZCS_WIRE_BUNDLE_CHUNK ? len - off : ZCS_WIRE_BUNDLE_CHUNK;
		zcs_wire_bundle(
			&frames[k++], 1, (uint32_t)len, (uint32_t)off, sealed + off, (uint16_t)n);
		if (k == batch || off + n == len) {
			rc = cli_conn_send(c, frames, k * sizeof(*frames));
			k = 0;
		}
	}
	free(frames);
	free(sealed);
	/* The signer derives every key's public halves before it answers. */
	c->timeout_ms = PROVISION_TIMEOUT_MS + h.key_count / 10;
	if (rc == 0)
		rc = cli_conn_await(c, ZCS_FT_BUNDLE_REPLY, 1, "BUNDLE", &f);
	if (rc == 0)
		*out = f.bundle_reply;
	return rc;
}

static int
report(const struct cli_args *a, const struct prov_args *x, const char *where,
	const struct zcs_wire_bundle_reply *r, uint32_t sent, double ms)
{
	if (r->status != ZCS_OK) {
		if (x->json)
			printf("{\"provisioned\":false,\"status\":\"%s\",\"key_count\":%" PRIu32
			       ",\"generation\":%" PRIu64 "}\n",
				zcs_status_name(r->status), r->key_count, r->generation);
		return cli_fail(CLI_EXIT_RUNTIME,
			"provision: %s refused the bundle: %s (%s); its keys are unchanged "
			"(see its log)",
			where, zcs_strerror(r->status), zcs_status_name(r->status));
	}
	if (x->json)
		printf("{\"provisioned\":true,\"signer\":\"%s\",\"shard\":%u,\"shards\":%u,"
		       "\"sent\":%" PRIu32 ",\"key_count\":%" PRIu32 ",\"added\":%" PRIu32
		       ",\"rotated\":%" PRIu32 ",\"generation\":%" PRIu64 ",\"ms\":%.3f}\n",
			where, a->shard_id, a->shard_count, sent, r->key_count, r->added,
			r->rotated, r->generation, ms);
	else
		printf("provisioned %s (shard %u/%u): sent %" PRIu32 " keys, generation %" PRIu64
		       "; it holds %" PRIu32 " (%" PRIu32 " added, %" PRIu32
		       " rotated) after %.1f ms\n",
			where, a->shard_id, a->shard_count, sent, r->generation, r->key_count,
			r->added, r->rotated, ms);
	return cli_flush_stdout();
}

/* The control endpoint, connected. The fd, or -1 after a message. */
static int
connect_control(const struct cli_args *a, const struct prov_args *x, char *where, size_t cap)
{
	struct zcs_addr sign, ctl;
	char err[256];
	int fd;

	if (x->control != NULL) {
		if (zcs_addr_parse(x->control, false, &ctl, err, sizeof(err)) != 0) {
			cli_fail(CLI_EXIT_USAGE, "provision: --control %s", err);
			return -1;
		}
	} else if (zcs_addr_parse(a->signer, false, &sign, err, sizeof(err)) != 0 ||
		zcs_addr_control(&sign, &ctl) != 0) {
		cli_fail(CLI_EXIT_USAGE,
			"provision: no control address follows --signer %s: give "
			"--control",
			a->signer);
		return -1;
	}
	zcs_addr_format(&ctl, where, cap);
	fd = zcs_addr_connect(&ctl, false, err, sizeof(err));
	if (fd < 0)
		cli_fail(CLI_EXIT_RUNTIME, "provision: %s", err);
	return fd;
}

int
cli_provision_main(struct cli_args *a, int argc, char **argv)
{
	static struct prov_args x;
	static uint8_t buf[ZCS_WIRE_ATTEST_MAX];
	struct zcs_attest_doc *doc = NULL;
	struct zcs_wire_bundle_reply reply = {0};
	struct zcs_wire_provision req;
	struct cli_conn c = {.fd = -1};
	struct plain p = {0};
	uint8_t nonce[32], pub[ZCS_BUNDLE_PUB_LEN], *root_der = NULL;
	char where[160], err[256];
	uint64_t t0;
	uint32_t sent = 0;
	size_t len = 0;
	int rc, fd = -1;

	memset(&x, 0, sizeof(x));
	rc = parse_args(&x, argc, argv);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (a->signer == NULL)
		return cli_fail(CLI_EXIT_USAGE, "provision: --signer ADDR is required");
	if (zcs_secure_heap_init() != 0)
		return cli_fail(CLI_EXIT_RUNTIME, "provision: no OpenSSL secure heap (ulimit -l)");
	rc = cli_attest_load_root(x.root, &x.pol, &root_der);
	if (rc == 0)
		rc = open_bundles(&p, a, &x);
	if (rc == 0) {
		a->shard_id = p.shard_id;
		a->shard_count = p.shard_count;
		sent = p.n;
		if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
			rc = cli_fail(CLI_EXIT_RUNTIME, "provision: getrandom failed");
	}
	t0 = zcs_mono_ns();
	if (rc == 0) {
		fd = connect_control(a, &x, where, sizeof(where));
		rc = fd < 0 ? CLI_EXIT_RUNTIME : 0;
	}
	if (rc == 0) {
		c.fd = fd;
		c.signer = where;
		c.timeout_ms = PROVISION_TIMEOUT_MS;
		zcs_wire_provision(&req, 1, nonce);
		rc = cli_conn_document(&c, &req, sizeof(req), "PROVISION", buf, sizeof(buf), &len);
	}
	if (rc == 0) {
		doc = malloc(sizeof(*doc));
		x.pol.nonce = nonce;
		x.pol.nonce_len = sizeof(nonce);
		if (doc == NULL)
			rc = cli_fail(CLI_EXIT_RUNTIME, "provision: out of memory");
		else if (zcs_attest_check(doc, err, sizeof(err), buf, len, &x.pol) != 0)
			rc = cli_fail(CLI_EXIT_RUNTIME,
				"provision: %s: attestation refused, nothing sent: %s", where, err);
		else
			rc = check_document(doc, &p, where);
	}
	if (rc == 0) {
		memcpy(pub, doc->public_key.p, sizeof(pub));
		rc = send_bundle(&c, &p, pub, nonce, &reply);
	}
	if (rc == 0)
		rc = report(a, &x, where, &reply, sent, (double)(zcs_mono_ns() - t0) / 1e6);
	plain_free(&p);
	free(doc);
	OPENSSL_free(root_der);
	if (fd >= 0)
		close(fd);
	return rc;
}
