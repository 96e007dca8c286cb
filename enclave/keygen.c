/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-keygen: secret keys for N accounts, split over S shards.
 *
 *   DIR/shard-<i>.bundle  the accounts zcs_shard_of() maps to shard i, sealed to
 *                         the operator's provisioning key (--operator-pub;
 *                         keys/bundle.h): only zcsign-cli provision, holding
 *                         the private key, opens it, to seal it again to an
 *                         attested signer
 *   DIR/shard-<i>.keys    only with --insecure-plaintext: the same keys in
 *                         plaintext (format in keystore.h, mode 0600), for a
 *                         dev signer's --insecure-dev-keys
 *   DIR/manifest.json     mode 0644, public keys of every account, one per line
 *
 *   zcsign-keygen --new-operator-key PREFIX   writes PREFIX.key (0600) and PREFIX.pub
 *
 * Existing output files are never overwritten: an operator must not lose keys
 * by re-running a command. Keys are generated and written one account at a
 * time, so memory stays small for any N; a secret exists only in locked
 * memory (zcs_secure_alloc) until it is encrypted into its bundle (or, with
 * --insecure-plaintext, written to its file). If anything fails, every file
 * this run created is removed: its keys were never handed out, and a
 * half-written key set must not be mistaken for a whole one.
 *
 * Exit status: 0 done, 1 runtime failure, 2 bad usage.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <zcsign/shard.h>

#include "bundle.h"
#include "clock.h"
#include "hex.h"
#include "keystore.h"
#include "num.h"

#define PROG "zcsign-keygen"
#define MAX_ACCOUNTS 10000000u
/* Longest key line: 20-digit account, space, 64 hex digits, newline. */
#define KEY_LINE_MAX (20 + 1 + 64 + 1)
/* Per-shard buffer of key lines, flushed with write(2) when nearly full. */
#define SHARD_BUF 4096
/* Per-shard buffer of bundle records, encrypted and written when full. */
#define SHARD_RECS 50

_Static_assert((uint64_t)MAX_ACCOUNTS *KEY_LINE_MAX + 256 <= ZCS_KEYFILE_MAX,
	"the largest key file keygen writes must load");

struct opts {
	uint64_t accounts;
	uint64_t first;
	uint32_t shards;
	const char *out;
	const char *operator_pub; /* --operator-pub: write sealed bundles */
	bool plaintext; /* --insecure-plaintext: write plaintext key files */
	uint64_t generation; /* --generation; default the wall clock in ms */
	const char *new_operator_key; /* --new-operator-key PREFIX: only that */
};

/* Locked memory: one line buffer per shard, then the key being generated. */
struct secret_area {
	struct {
		size_t used;
		char buf[SHARD_BUF];
		uint32_t nrec;
		uint8_t rec[SHARD_RECS * ZCS_BUNDLE_REC_LEN];
	} shard[ZCS_MAX_SHARDS];
	struct zcs_key key; /* the account being generated: secret, keypair, public keys */
	unsigned char seed[32];
};

struct outputs {
	int dirfd;
	int keyfd[ZCS_MAX_SHARDS];
	int created[ZCS_MAX_SHARDS]; /* by this run, so ours to remove on failure */
	int bundlefd[ZCS_MAX_SHARDS];
	int bundle_created[ZCS_MAX_SHARDS];
	struct zcs_bundle_sealer *sealer[ZCS_MAX_SHARDS];
	uint8_t operator_pub[ZCS_BUNDLE_PUB_LEN];
	uint64_t size[ZCS_MAX_SHARDS];
	uint64_t due[ZCS_MAX_SHARDS]; /* accounts of each shard, counted before generating */
	FILE *manifest;
	int manifest_created;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --accounts N --shards S --out DIR --operator-pub FILE\n"
		"           [--first-account A] [--generation G] [--insecure-plaintext]\n"
		"       " PROG " --new-operator-key PREFIX\n"
		"\n"
		"Generates secret keys for accounts A..A+N-1 (A defaults to 1).\n"
		"  --accounts N        number of accounts, 1..%u\n"
		"  --shards S          number of shards, 1..%d\n"
		"  --out DIR           output directory, created (mode 0700) if missing\n"
		"  --operator-pub FILE seal each shard's keys to this X25519 public key (PEM):\n"
		"                      DIR/shard-<i>.bundle, opened only by zcsign-cli provision\n"
		"  --first-account A   first account id (default 1)\n"
		"  --generation G      the key set's version, 1.. (default: now, in ms); a signer\n"
		"                      takes a bundle only when it is newer than what it holds\n"
		"  --insecure-plaintext  also (or, without --operator-pub, only) write plaintext\n"
		"                      DIR/shard-<i>.keys for a dev signer's --insecure-dev-keys\n"
		"  --new-operator-key PREFIX  make the operator's provisioning key pair:\n"
		"                      PREFIX.key (private, mode 0600) and PREFIX.pub\n"
		"  --help              this text\n"
		"\n"
		"Writes the bundles (or key files) and DIR/manifest.json (public keys).\n"
		"Refuses to overwrite existing files.\n",
		MAX_ACCOUNTS, ZCS_MAX_SHARDS);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"accounts", required_argument, NULL, 'a'},
		{"shards", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},
		{"first-account", required_argument, NULL, 'f'},
		{"operator-pub", required_argument, NULL, 'p'},
		{"generation", required_argument, NULL, 'g'},
		{"insecure-plaintext", no_argument, NULL, 'P'},
		{"new-operator-key", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int have_accounts = 0, have_shards = 0, c;
	uint64_t v;

	o->first = 1;
	opterr = 0; /* our own messages, one line each */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (zcs_parse_u64(optarg, MAX_ACCOUNTS, &v) != 0 || v < 1) {
				fprintf(stderr, PROG ": --accounts must be 1..%u, got '%s'\n",
					MAX_ACCOUNTS, optarg);
				return 2;
			}
			o->accounts = v;
			have_accounts = 1;
			break;
		case 's':
			if (zcs_parse_u64(optarg, ZCS_MAX_SHARDS, &v) != 0 || v < 1) {
				fprintf(stderr, PROG ": --shards must be 1..%d, got '%s'\n",
					ZCS_MAX_SHARDS, optarg);
				return 2;
			}
			o->shards = (uint32_t)v;
			have_shards = 1;
			break;
		case 'o':
			if (optarg[0] == '\0') {
				fprintf(stderr, PROG ": --out must name a directory\n");
				return 2;
			}
			o->out = optarg;
			break;
		case 'f':
			if (zcs_parse_u64(optarg, UINT64_MAX, &v) != 0) {
				fprintf(stderr,
					PROG ": --first-account must be a decimal account id, "
					     "got '%s'\n",
					optarg);
				return 2;
			}
			o->first = v;
			break;
		case 'p':
			o->operator_pub = optarg;
			break;
		case 'g':
			if (zcs_parse_u64(optarg, UINT64_MAX, &v) != 0 || v < 1) {
				fprintf(stderr, PROG ": --generation must be 1.., got '%s'\n",
					optarg);
				return 2;
			}
			o->generation = v;
			break;
		case 'P':
			o->plaintext = true;
			break;
		case 'n':
			o->new_operator_key = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, PROG ": option '%s' needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		return 2;
	}
	if (o->new_operator_key != NULL) {
		if (have_accounts || have_shards || o->out != NULL || o->operator_pub != NULL) {
			fprintf(stderr, PROG ": --new-operator-key takes no other option\n");
			return 2;
		}
		return 0;
	}
	if (o->operator_pub == NULL && !o->plaintext) {
		fprintf(stderr,
			PROG ": missing --operator-pub FILE (keys are written only sealed; "
			     "--insecure-plaintext writes a dev key file)\n");
		return 2;
	}
	if (o->generation == 0)
		o->generation = zcs_real_ms();
	if (!have_accounts || !have_shards || o->out == NULL) {
		fprintf(stderr, PROG ": missing %s (try --help)\n",
			!have_accounts	       ? "--accounts N"
				: !have_shards ? "--shards S"
					       : "--out DIR");
		return 2;
	}
	if (o->accounts - 1 > UINT64_MAX - o->first) {
		fprintf(stderr,
			PROG ": --first-account %" PRIu64 " with --accounts %" PRIu64
			     " runs past the largest account id\n",
			o->first, o->accounts);
		return 2;
	}
	return 0;
}

/*
 * write(2) and getrandom(2) may both do part of the job or be interrupted by a
 * signal: one loop sees either through. from_rng: fill p from getrandom(2) (fd
 * unused); else write p to fd. Returns 0 or -errno.
 */
static int
full_io(bool from_rng, int fd, unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = from_rng ? getrandom(p, n, 0) : write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_all(int fd, char *p, size_t n)
{
	return full_io(false, fd, (unsigned char *)p, n);
}

static int
fill_random(unsigned char *p, size_t n)
{
	return full_io(true, -1, p, n);
}

/* hex.c indexes a table by each nibble; a secret must not pick cache lines. */
static void
hex_encode_ct(const unsigned char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned hi = in[i] >> 4, lo = in[i] & 0xf;

		/* (9 - x) >> 8 is all ones exactly when x > 9 */
		out[2 * i] = (char)('0' + hi + (((9u - hi) >> 8) & ('a' - '0' - 10)));
		out[2 * i + 1] = (char)('0' + lo + (((9u - lo) >> 8) & ('a' - '0' - 10)));
	}
}

/* Returns how many files it removed. */
static int
remove_created(const struct opts *o, struct outputs *out)
{
	char name[32];
	uint32_t i;
	int removed = 0;

	for (i = 0; i < o->shards; i++) {
		if (out->keyfd[i] >= 0)
			close(out->keyfd[i]);
		out->keyfd[i] = -1;
		if (out->created[i]) {
			snprintf(name, sizeof(name), "shard-%" PRIu32 ".keys", i);
			removed += unlinkat(out->dirfd, name, 0) == 0;
		}
		if (out->bundlefd[i] >= 0)
			close(out->bundlefd[i]);
		out->bundlefd[i] = -1;
		zcs_bundle_seal_abort(out->sealer[i]);
		out->sealer[i] = NULL;
		if (out->bundle_created[i]) {
			snprintf(name, sizeof(name), "shard-%" PRIu32 ".bundle", i);
			removed += unlinkat(out->dirfd, name, 0) == 0;
		}
	}
	if (out->manifest != NULL)
		fclose(out->manifest);
	out->manifest = NULL;
	if (out->manifest_created)
		removed += unlinkat(out->dirfd, "manifest.json", 0) == 0;
	return removed;
}

/* Create one output file; an existing one is refused, never truncated. */
static int
create_file(const struct opts *o, int dirfd, const char *name, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr,
				PROG ": %s/%s already exists; refusing to overwrite key files "
				     "(move the old set away first)\n",
				o->out, name);
		else
			fprintf(stderr, PROG ": cannot create %s/%s: %s\n", o->out, name,
				strerror(errno));
		return -1;
	}
	/* The mode is part of the contract, whatever the umask says. */
	if (fchmod(fd, mode) != 0) {
		fprintf(stderr, PROG ": cannot chmod %s/%s: %s\n", o->out, name, strerror(errno));
		close(fd);
		unlinkat(dirfd, name, 0);
		return -1;
	}
	return fd;
}

static int
open_dir(const struct opts *o)
{
	int fd;

	if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": cannot create directory %s: %s\n", o->out, strerror(errno));
		return -1;
	}
	fd = open(o->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, PROG ": cannot open directory %s: %s\n", o->out, strerror(errno));
	return fd;
}

/* Shard i's bundle file, its header written: the sealer then takes its records. */
static int
open_bundle(const struct opts *o, struct outputs *out, uint32_t i)
{
	struct zcs_bundle_hdr h;
	uint8_t hdr[ZCS_BUNDLE_HDR_LEN];
	char name[32], err[200];

	snprintf(name, sizeof(name), "shard-%" PRIu32 ".bundle", i);
	out->bundlefd[i] = create_file(o, out->dirfd, name, 0600);
	if (out->bundlefd[i] < 0)
		return -1;
	out->bundle_created[i] = 1;
	memset(&h, 0, sizeof(h));
	h.purpose = ZCS_BUNDLE_AT_REST;
	h.shard_id = (uint16_t)i;
	h.shard_count = (uint16_t)o->shards;
	h.key_count = (uint32_t)out->due[i];
	h.generation = o->generation;
	out->sealer[i] = zcs_bundle_seal_begin(hdr, &h, out->operator_pub, err, sizeof(err));
	if (out->sealer[i] == NULL) {
		fprintf(stderr, PROG ": %s/%s: %s\n", o->out, name, err);
		return -1;
	}
	if (write_all(out->bundlefd[i], (char *)hdr, sizeof(hdr)) != 0) {
		fprintf(stderr, PROG ": cannot write %s/%s: %s\n", o->out, name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create every output file and write the key-file headers and manifest start. */
static int
open_outputs(const struct opts *o, struct outputs *out)
{
	char name[32], head[256];
	uint32_t i;
	int fd, n;

	for (i = 0; i < o->shards; i++) {
		if (o->operator_pub != NULL && open_bundle(o, out, i) != 0)
			return -1;
		if (!o->plaintext)
			continue;
		snprintf(name, sizeof(name), "shard-%" PRIu32 ".keys", i);
		out->keyfd[i] = create_file(o, out->dirfd, name, 0600);
		if (out->keyfd[i] < 0)
			return -1;
		out->created[i] = 1;
		n = snprintf(head, sizeof(head),
			"# SECRET, INSECURE: zcsign secret keys of shard %" PRIu32 " of %" PRIu32
			" in plaintext, for a dev signer only (--insecure-dev-keys).\n"
			"zcsign-keys v1 shard=%" PRIu32 " shards=%" PRIu32 " keys=%" PRIu64 "\n",
			i, o->shards, i, o->shards, out->due[i]);
		if (write_all(out->keyfd[i], head, (size_t)n) != 0) {
			fprintf(stderr, PROG ": cannot write %s/%s: %s\n", o->out, name,
				strerror(errno));
			return -1;
		}
	}
	fd = create_file(o, out->dirfd, "manifest.json", 0644);
	if (fd < 0)
		return -1;
	out->manifest_created = 1;
	out->manifest = fdopen(fd, "w");
	if (out->manifest == NULL) {
		fprintf(stderr, PROG ": cannot open %s/manifest.json: %s\n", o->out,
			strerror(errno));
		close(fd);
		return -1;
	}
	fprintf(out->manifest, "{\"version\":1,\"shards\":%" PRIu32 ",\"accounts\":[\n", o->shards);
	return 0;
}

/* Encrypt shard i's pending records into its bundle. */
static int
flush_records(const struct opts *o, struct outputs *out, struct secret_area *sa, uint32_t i)
{
	uint8_t ct[sizeof(sa->shard[i].rec)];
	size_t len = (size_t)sa->shard[i].nrec * ZCS_BUNDLE_REC_LEN;
	int rc;

	if (out->sealer[i] == NULL)
		return 0;
	rc = zcs_bundle_seal_update(out->sealer[i], ct, sa->shard[i].rec, len);
	explicit_bzero(sa->shard[i].rec, len);
	sa->shard[i].nrec = 0;
	if (rc != 0)
		out->sealer[i] = NULL; /* freed by the failed update */
	if (rc == 0)
		rc = write_all(out->bundlefd[i], (char *)ct, len);
	if (rc != 0) {
		fprintf(stderr, PROG ": cannot seal %s/shard-%" PRIu32 ".bundle: %s\n", o->out, i,
			strerror(rc < 0 ? -rc : EIO));
		return -1;
	}
	return 0;
}

static int
flush_shard(const struct opts *o, struct outputs *out, struct secret_area *sa, uint32_t i)
{
	int rc;

	if (flush_records(o, out, sa, i) != 0)
		return -1;
	if (out->keyfd[i] < 0)
		return 0;
	rc = write_all(out->keyfd[i], sa->shard[i].buf, sa->shard[i].used);

	explicit_bzero(sa->shard[i].buf, sa->shard[i].used);
	sa->shard[i].used = 0;
	if (rc != 0) {
		fprintf(stderr, PROG ": cannot write %s/shard-%" PRIu32 ".keys: %s\n", o->out, i,
			strerror(-rc));
		return -1;
	}
	return 0;
}

/* One account: a fresh valid secret, its key line, its manifest entry. */
static int
gen_account(const struct opts *o, struct outputs *out, struct secret_area *sa,
	const secp256k1_context *ctx, uint64_t account, int last)
{
	uint32_t i = zcs_shard_of(account, o->shards);
	char pubhex[67], xonlyhex[65], *line;
	int rc, n;

	do {
		rc = fill_random(sa->key.seckey, sizeof(sa->key.seckey));
		if (rc != 0) {
			fprintf(stderr, PROG ": getrandom: %s\n", strerror(-rc));
			return -1;
		}
	} while (!secp256k1_ec_seckey_verify(ctx, sa->key.seckey));
	if (zcs_key_derive(ctx, &sa->key) != 0) {
		fprintf(stderr, PROG ": cannot derive the public key of account %" PRIu64 "\n",
			account);
		return -1;
	}

	if ((SHARD_BUF - sa->shard[i].used < KEY_LINE_MAX + 1 || sa->shard[i].nrec == SHARD_RECS) &&
		flush_shard(o, out, sa, i) != 0)
		return -1;
	if (o->plaintext) {
		line = sa->shard[i].buf + sa->shard[i].used;
		n = snprintf(line, KEY_LINE_MAX + 1, "%" PRIu64 " ", account);
		hex_encode_ct(sa->key.seckey, sizeof(sa->key.seckey), line + n);
		line[n + 64] = '\n';
		sa->shard[i].used += (size_t)n + 65;
	}
	if (o->operator_pub != NULL) {
		uint64_t le = htole64(account);
		uint8_t *rec = sa->shard[i].rec + (size_t)sa->shard[i].nrec * ZCS_BUNDLE_REC_LEN;

		memcpy(rec, &le, sizeof(le));
		memcpy(rec + 8, sa->key.seckey, sizeof(sa->key.seckey));
		sa->shard[i].nrec++;
	}
	out->size[i]++;
	zcs_hex_encode(sa->key.pub_compressed, sizeof(sa->key.pub_compressed), pubhex);
	zcs_hex_encode(sa->key.pub_xonly, sizeof(sa->key.pub_xonly), xonlyhex);
	explicit_bzero(&sa->key, sizeof(sa->key));

	fprintf(out->manifest,
		"{\"account\":%" PRIu64 ",\"shard\":%" PRIu32
		",\"pubkey\":\"%s\",\"xonly\":\"%s\"}%s\n",
		account, i, pubhex, xonlyhex, last ? "" : ",");
	return 0;
}

/* The tag after the last record, then fsync and close. */
static int
finish_bundle(const struct opts *o, struct outputs *out, uint32_t i)
{
	uint8_t tag[ZCS_BUNDLE_TAG_LEN];
	char err[200];
	int rc;

	if (out->sealer[i] == NULL)
		return 0;
	rc = zcs_bundle_seal_end(out->sealer[i], tag, err, sizeof(err));
	out->sealer[i] = NULL;
	if (rc != 0) {
		fprintf(stderr, PROG ": %s/shard-%" PRIu32 ".bundle: %s\n", o->out, i, err);
		return -1;
	}
	rc = write_all(out->bundlefd[i], (char *)tag, sizeof(tag));
	if (rc != 0 || fsync(out->bundlefd[i]) != 0 || close(out->bundlefd[i]) != 0) {
		out->bundlefd[i] = -1;
		fprintf(stderr, PROG ": cannot write %s/shard-%" PRIu32 ".bundle: %s\n", o->out, i,
			strerror(errno));
		return -1;
	}
	out->bundlefd[i] = -1;
	return 0;
}

/* Flush, fsync and close every file, then the directory: keys must be durable. */
static int
finish_outputs(const struct opts *o, struct outputs *out, struct secret_area *sa)
{
	uint32_t i;
	int fd;

	for (i = 0; i < o->shards; i++) {
		if (flush_shard(o, out, sa, i) != 0 || finish_bundle(o, out, i) != 0)
			return -1;
		if (out->keyfd[i] < 0)
			continue;
		if (fsync(out->keyfd[i]) != 0 || close(out->keyfd[i]) != 0) {
			out->keyfd[i] = -1;
			fprintf(stderr, PROG ": cannot sync %s/shard-%" PRIu32 ".keys: %s\n",
				o->out, i, strerror(errno));
			return -1;
		}
		out->keyfd[i] = -1;
	}
	fputs("]}\n", out->manifest);
	fd = fileno(out->manifest);
	if (fflush(out->manifest) != 0 || ferror(out->manifest) || fsync(fd) != 0) {
		fprintf(stderr, PROG ": cannot write %s/manifest.json: %s\n", o->out,
			strerror(errno));
		return -1;
	}
	if (fclose(out->manifest) != 0) {
		out->manifest = NULL;
		fprintf(stderr, PROG ": cannot write %s/manifest.json: %s\n", o->out,
			strerror(errno));
		return -1;
	}
	out->manifest = NULL;
	if (fsync(out->dirfd) != 0) {
		fprintf(stderr, PROG ": cannot sync directory %s: %s\n", o->out, strerror(errno));
		return -1;
	}
	return 0;
}

static int
generate(const struct opts *o, struct outputs *out, struct secret_area *sa,
	const secp256k1_context *ctx)
{
	char err[200];
	uint64_t k;

	if (o->operator_pub != NULL &&
		zcs_bundle_key_load_public(out->operator_pub, err, sizeof(err), o->operator_pub) !=
			0) {
		fprintf(stderr, PROG ": --operator-pub %s\n", err);
		return -1;
	}
	/* A bundle's header carries its key count: count each shard's accounts first. */
	for (k = 0; k < o->accounts; k++)
		out->due[zcs_shard_of(o->first + k, o->shards)]++;
	for (k = 0; k < o->shards; k++)
		if (out->due[k] > ZCS_BUNDLE_MAX_KEYS) {
			fprintf(stderr,
				PROG ": shard %" PRIu64 " would hold %" PRIu64
				     " keys, more than a bundle's %u\n",
				k, out->due[k], ZCS_BUNDLE_MAX_KEYS);
			return -1;
		}
	if (open_outputs(o, out) != 0)
		return -1;
	for (k = 0; k < o->accounts; k++) {
		if (gen_account(o, out, sa, ctx, o->first + k, k + 1 == o->accounts) != 0)
			return -1;
	}
	return finish_outputs(o, out, sa);
}

static void
print_summary(const struct opts *o, const struct outputs *out)
{
	uint32_t i;

	printf(PROG ": %" PRIu64 " accounts in %" PRIu32 " shard%s -> %s (shard sizes", o->accounts,
		o->shards, o->shards == 1 ? "" : "s", o->out);
	for (i = 0; i < o->shards; i++)
		printf(" %" PRIu64, out->size[i]);
	printf("), generation %" PRIu64 ":%s%s\n", o->generation,
		o->operator_pub != NULL ? " sealed bundles shard-<i>.bundle" : "",
		o->plaintext ? " INSECURE plaintext shard-<i>.keys" : "");
}

/* --new-operator-key PREFIX: the operator's X25519 provisioning key pair. */
static int
new_operator_key(const char *prefix)
{
	EVP_PKEY *k;
	char err[300];
	int rc;

	if (zcs_secure_heap_init() != 0) {
		fprintf(stderr, PROG ": cannot set up OpenSSL's secure heap (ulimit -l)\n");
		return 1;
	}
	k = zcs_bundle_key_new();
	if (k == NULL) {
		fprintf(stderr, PROG ": cannot make an X25519 key\n");
		return 1;
	}
	rc = zcs_bundle_key_write(prefix, k, err, sizeof(err));
	EVP_PKEY_free(k);
	if (rc != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	printf(PROG ": operator provisioning key: %s.key (private, mode 0600: keep it off the "
		    "signer hosts), %s.pub (for --operator-pub)\n",
		prefix, prefix);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	struct outputs out = {.dirfd = -1};
	struct secret_area *sa;
	secp256k1_context *ctx;
	uint32_t i;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (o.new_operator_key != NULL)
		return new_operator_key(o.new_operator_key);
	for (i = 0; i < ZCS_MAX_SHARDS; i++)
		out.keyfd[i] = out.bundlefd[i] = -1;

	sa = zcs_secure_alloc(sizeof(*sa));
	if (sa == NULL) {
		fprintf(stderr, PROG ": cannot allocate locked memory: %s\n", strerror(errno));
		return 1;
	}
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	/* Blinding protects the scalar multiplications from side channels. */
	if (ctx == NULL || fill_random(sa->seed, sizeof(sa->seed)) != 0 ||
		!secp256k1_context_randomize(ctx, sa->seed)) {
		fprintf(stderr, PROG ": cannot set up a randomized secp256k1 context\n");
		rc = 1;
		goto done;
	}
	explicit_bzero(sa->seed, sizeof(sa->seed));

	out.dirfd = open_dir(&o);
	if (out.dirfd < 0) {
		rc = 1;
		goto done;
	}
	if (generate(&o, &out, sa, ctx) != 0) {
		if (remove_created(&o, &out))
			fprintf(stderr, PROG ": removed the files this run had created in %s\n",
				o.out);
		rc = 1;
		goto done;
	}
	print_summary(&o, &out);
	rc = 0;
done:
	if (out.dirfd >= 0)
		close(out.dirfd);
	if (ctx != NULL)
		secp256k1_context_destroy(ctx);
	zcs_secure_free(sa, sizeof(*sa));
	return rc;
}
