/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-attest-ca: the dev attestation CA, in the shape of AWS Nitro's chain
 * (a P-384 root, a CA intermediate, a short-lived end-entity leaf per signer
 * that signs its attestation documents with ES384).
 *
 *   zcsign-attest-ca init --out DIR [--days N]
 *       DIR/root.pem, root.key, intermediate.pem, intermediate.key
 *   zcsign-attest-ca leaf --ca DIR --out DIR --name NAME [--hours N]
 *       DIR/NAME.pem, NAME.key (the signer's), DIR/NAME.bundle.pem (root first,
 *       as a document's cabundle)
 *
 * Keys are written mode 0600 and a file that exists is not overwritten. The
 * root certificate (root.pem) is what zcsignd and `zcsign-cli attest verify
 * --root` pin on a dev box. This is a dev tool: its root key sits on the host,
 * so its documents prove nothing against a host root (docs/SECURITY.md).
 * Exit status: 0, 1 on a failure (one line naming the file), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "attest.h"
#include "num.h"

#define PROG "zcsign-attest-ca"
#define NAME_MAX_LEN 64

static int
usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: " PROG " init --out DIR [--days N]\n"
		"       " PROG " leaf --ca DIR --out DIR --name NAME [--hours N]\n"
		"  init   a P-384 root (valid --days, default 3650) and an intermediate (a year)\n"
		"  leaf   a signer's document-signing leaf under DIR's intermediate, valid "
		"--hours\n"
		"         (default 720), and its cabundle (root first)\n");
	return rc;
}

static int
fail(const char *what, const char *path)
{
	fprintf(stderr, PROG ": %s %s: %s\n", what, path, errno != 0 ? strerror(errno) : "failed");
	return 1;
}

/* A new file at dir/name, mode, never over an existing one. */
static FILE *
create(const char *dir, const char *name, mode_t mode, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static int
write_key(const char *dir, const char *name, EVP_PKEY *key)
{
	char path[4096];
	FILE *f = create(dir, name, 0600, path, sizeof(path));
	int ok;

	if (f == NULL)
		return fail("cannot create", path);
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || !ok)
		return fail("cannot write", path);
	return 0;
}

static int
write_certs(const char *dir, const char *name, X509 *const *certs, int n)
{
	char path[4096];
	FILE *f = create(dir, name, 0644, path, sizeof(path));
	int i, ok = 1;

	if (f == NULL)
		return fail("cannot create", path);
	for (i = 0; i < n; i++)
		ok &= PEM_write_X509(f, certs[i]);
	if (fclose(f) != 0 || !ok)
		return fail("cannot write", path);
	return 0;
}

static int
read_pair(const char *dir, const char *base, X509 **cert, EVP_PKEY **key)
{
	char path[4096];
	FILE *f;

	errno = 0;
	snprintf(path, sizeof(path), "%s/%s.pem", dir, base);
	f = fopen(path, "r");
	if (f == NULL || (*cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		if (f != NULL)
			fclose(f);
		return fail("cannot read a certificate from", path);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, base);
	f = fopen(path, "r");
	if (f == NULL || (*key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		if (f != NULL)
			fclose(f);
		return fail("cannot read a key from", path);
	}
	fclose(f);
	return 0;
}

static int
cmd_init(const char *out, uint64_t days)
{
	time_t now = time(NULL);
	EVP_PKEY *rk = zcs_attest_p384_new(), *ik = zcs_attest_p384_new();
	X509 *root = NULL, *inter = NULL;
	int rc = 1;

	if (rk != NULL && ik != NULL) {
		root = zcs_attest_cert_new(rk, "zcsign dev attestation root", now - 300,
			now + (int64_t)days * 86400, NULL, NULL, true, -1);
		inter = zcs_attest_cert_new(ik, "zcsign dev attestation intermediate", now - 300,
			now + 365 * 86400, root, rk, true, 0);
	}
	if (root == NULL || inter == NULL)
		fprintf(stderr, PROG ": cannot make the CA's keys and certificates\n");
	else if (write_key(out, "root.key", rk) == 0 &&
		write_certs(out, "root.pem", &root, 1) == 0 &&
		write_key(out, "intermediate.key", ik) == 0 &&
		write_certs(out, "intermediate.pem", &inter, 1) == 0)
		rc = 0;
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	if (rc == 0)
		printf("dev attestation CA in %s: root.pem (pin it), intermediate.pem\n", out);
	return rc;
}

static int
cmd_leaf(const char *ca, const char *out, const char *name, uint64_t hours)
{
	time_t now = time(NULL);
	X509 *root = NULL, *inter = NULL, *leaf = NULL;
	EVP_PKEY *rk = NULL, *ik = NULL, *lk = NULL;
	char file[NAME_MAX_LEN + 16];
	int rc = 1;

	if (read_pair(ca, "root", &root, &rk) != 0 ||
		read_pair(ca, "intermediate", &inter, &ik) != 0)
		goto out;
	lk = zcs_attest_p384_new();
	if (lk != NULL)
		leaf = zcs_attest_cert_new(
			lk, name, now - 300, now + (int64_t)hours * 3600, inter, ik, false, -1);
	if (leaf == NULL) {
		fprintf(stderr, PROG ": cannot make the leaf for %s\n", name);
		goto out;
	}
	snprintf(file, sizeof(file), "%s.key", name);
	if (write_key(out, file, lk) != 0)
		goto out;
	snprintf(file, sizeof(file), "%s.pem", name);
	if (write_certs(out, file, &leaf, 1) != 0)
		goto out;
	snprintf(file, sizeof(file), "%s.bundle.pem", name);
	if (write_certs(out, file, (X509 *const[]){root, inter}, 2) != 0)
		goto out;
	printf("leaf %s in %s: %s.pem, %s.key, %s.bundle.pem (valid %llu h)\n", name, out, name,
		name, name, (unsigned long long)hours);
	rc = 0;
out:
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
	return rc;
}

/* A name that is a plain file name: letters, digits, '-', '_', '.'; not starting with '.'. */
static int
plain_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
			    s[i] == '.'))
			return 0;
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},
		{"ca", required_argument, NULL, 'c'},
		{"name", required_argument, NULL, 'n'},
		{"days", required_argument, NULL, 'd'},
		{"hours", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *ca = NULL, *name = NULL, *cmd;
	uint64_t days = 3650, hours = 720;
	int c;

	if (argc < 2)
		return usage(stderr, 2);
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
		return usage(stdout, 0);
	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'd':
		case 'H':
			if (zcs_parse_u64(optarg, c == 'd' ? 36500 : 87600,
				    c == 'd' ? &days : &hours) != 0 ||
				(c == 'd' ? days : hours) == 0) {
				fprintf(stderr, PROG ": --%s '%s': expected a positive number\n",
					c == 'd' ? "days" : "hours", optarg);
				return 2;
			}
			break;
		case 'h':
			return usage(stdout, 0);
		default:
			fprintf(stderr, PROG ": %s: unknown option or missing value (see --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (out == NULL) {
		fprintf(stderr, PROG ": --out DIR is required\n");
		return 2;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(out, days);
	if (strcmp(cmd, "leaf") == 0) {
		if (ca == NULL || name == NULL || !plain_name(name)) {
			fprintf(stderr,
				PROG ": leaf needs --ca DIR and --name NAME (a plain file name)\n");
			return 2;
		}
		return cmd_leaf(ca, out, name, hours);
	}
	fprintf(stderr, PROG ": unknown command '%s': init or leaf\n", cmd);
	return 2;
}
