/* SPDX-License-Identifier: BSD-3-Clause */
/* The signer's control endpoint: provisioning (provision.h). */
#define _GNU_SOURCE /* accept4, CPU_SET */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <zcsign/wire.h>

#include "attest.h"
#include "attest_source.h"
#include "bundle.h"
#include "clock.h"
#include "presig.h"
#include "provision.h"
#include "serve.h"
#include "wire_io.h"

#define LOG_PREFIX "zcsign-enclave: control: "
#define ACCEPT_POLL_MS 100

struct zcs_provisioner {
	struct zcs_provision_conf conf;
	pthread_t thread;
	_Atomic uint64_t accepted, refused;
};

/* One control connection's provisioning session. */
struct session {
	EVP_PKEY *key; /* the ephemeral key of the last PROVISION; NULL: none */
	uint8_t pub[ZCS_BUNDLE_PUB_LEN];
	uint8_t nonce[32];
	uint64_t seq;
	struct zcs_attest_chunks in; /* the bundle being received */
};

static void
session_end(struct session *s)
{
	EVP_PKEY_free(s->key); /* OpenSSL wipes the private half */
	free(s->in.buf);
	memset(s, 0, sizeof(*s));
}

static int
send_bundle_reply(int fd, uint64_t seq, uint16_t status, const struct zcs_keystore *ks,
	const struct zcs_keystore_delta *d)
{
	struct zcs_wire_bundle_reply f, r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	r.key_count = ks->count;
	r.generation = ks->generation;
	if (status == ZCS_OK) {
		r.added = d->added;
		r.rotated = d->rotated;
	}
	zcs_wire_bundle_reply(&f, seq, &r);
	return zcs_wire_send_all(fd, &f, sizeof(f));
}

/* PROVISION: a fresh key, and a document that binds it to this signer and the nonce. */
static int
on_provision(
	struct zcs_provisioner *p, struct session *s, int fd, const struct zcs_wire_provision *req)
{
	static uint8_t doc[ZCS_WIRE_ATTEST_MAX];
	static struct zcs_wire_attest_reply frames[ZCS_WIRE_ATTEST_FRAMES(ZCS_WIRE_ATTEST_MAX)];
	struct zcs_wire_attest_reply f;
	size_t len = 0;
	char err[256];

	session_end(s); /* a second PROVISION replaces the first session */
	if (p->conf.attest == NULL) {
		fprintf(stderr, LOG_PREFIX "PROVISION refused: no attestation source (--attest)\n");
		zcs_wire_attest_reply(&f, req->seq, ZCS_ERR_NO_ATTESTATION, 0, 0, NULL, 0);
		return zcs_wire_send_all(fd, &f, sizeof(f));
	}
	s->key = zcs_bundle_key_new();
	if (s->key == NULL || zcs_bundle_key_pub(s->key, s->pub) != 0 ||
		zcs_attest_source_document(p->conf.attest, doc, sizeof(doc), &len, req->nonce,
			"provision", s->pub, sizeof(s->pub), err, sizeof(err)) != 0) {
		fprintf(stderr, LOG_PREFIX "PROVISION failed: %s\n",
			s->key == NULL ? "no X25519 key" : err);
		session_end(s);
		zcs_wire_attest_reply(&f, req->seq, ZCS_ERR_INTERNAL, 0, 0, NULL, 0);
		return zcs_wire_send_all(fd, &f, sizeof(f));
	}
	s->seq = req->seq;
	memcpy(s->nonce, req->nonce, sizeof(s->nonce));
	return zcs_wire_send_all(fd, frames, zcs_wire_attest_doc(frames, req->seq, doc, len));
}

/*
 * The bundle is whole: check it against the session and the store, open it,
 * merge, publish. Returns the status for BUNDLE_REPLY; *why says a refusal.
 */
static uint16_t
apply_bundle(struct zcs_provisioner *p, struct session *s, struct zcs_keystore_delta *d, char *why,
	size_t whylen)
{
	struct zcs_keystore *cur = p->conf.keys, *next;
	struct zcs_bundle_hdr h;
	uint8_t *records = NULL;
	size_t rec_len;
	uint16_t st;
	char err[200];

	if (zcs_bundle_parse(&h, err, sizeof(err), s->in.buf, s->in.total) != 0) {
		snprintf(why, whylen, "malformed bundle: %s", err);
		return ZCS_ERR_BUNDLE;
	}
	if (h.purpose != ZCS_BUNDLE_TRANSIT) {
		snprintf(why, whylen, "an at-rest bundle: only the provisioner opens those");
		return ZCS_ERR_BUNDLE;
	}
	if (h.shard_id != cur->shard_id || h.shard_count != cur->shard_count) {
		snprintf(why, whylen, "bundle for shard %u/%u, this signer holds shard %u/%u",
			h.shard_id, h.shard_count, cur->shard_id, cur->shard_count);
		return ZCS_ERR_WRONG_SHARD;
	}
	if (CRYPTO_memcmp(h.nonce, s->nonce, sizeof(s->nonce)) != 0 ||
		CRYPTO_memcmp(h.recipient_pub, s->pub, sizeof(s->pub)) != 0) {
		snprintf(why, whylen,
			"bundle made for another provisioning session (replayed or foreign)");
		return ZCS_ERR_BUNDLE;
	}
	if (h.generation <= cur->generation) {
		snprintf(why, whylen,
			"bundle generation %" PRIu64 " is not newer than the %" PRIu64 " held",
			h.generation, cur->generation);
		return ZCS_ERR_STALE;
	}
	rec_len = (size_t)h.key_count * ZCS_BUNDLE_REC_LEN;
	records = zcs_secure_alloc(rec_len ? rec_len : 1);
	next = calloc(1, sizeof(*next));
	if (records == NULL || next == NULL) {
		snprintf(why, whylen, "out of locked memory for %" PRIu32 " keys", h.key_count);
		st = ZCS_ERR_INTERNAL;
		goto out;
	}
	if (zcs_bundle_open(records, err, sizeof(err), &h, s->in.buf, s->in.total, s->key) != 0) {
		snprintf(why, whylen, "%s", err);
		st = ZCS_ERR_BUNDLE;
		goto out;
	}
	if (zcs_keystore_merge(next, d, cur, p->conf.ctx, records, h.key_count, h.generation, err,
		    sizeof(err)) != 0) {
		snprintf(why, whylen, "%s", err);
		st = ZCS_ERR_BUNDLE;
		goto out;
	}
	/* The loop takes the new store at its next step; wait until it let go of the old. */
	while (zcs_serve_swap_keys(p->conf.srv, next, 1000) != 0)
		if (atomic_load(p->conf.stop))
			break; /* the loop has ended: nothing reads either store any more */
	p->conf.keys = next;
	next = cur; /* wiped below: every rotated key with it */
	st = ZCS_OK;
out:
	if (next != NULL) {
		zcs_keystore_wipe(next);
		free(next);
	}
	zcs_secure_free(records, rec_len ? rec_len : 1);
	return st;
}

/* BUNDLE: one chunk; when the bundle is whole, its reply. */
static int
on_bundle(struct zcs_provisioner *p, struct session *s, int fd, const struct zcs_wire_bundle *f)
{
	struct zcs_keystore_delta d = {0};
	char why[300] = "";
	uint64_t t0 = zcs_mono_ns();
	uint16_t st;
	int rc;

	if (s->key == NULL || f->seq != s->seq) {
		fprintf(stderr,
			LOG_PREFIX "bundle refused: no provisioning session (PROVISION "
				   "first, one bundle per session)\n");
		atomic_fetch_add(&p->refused, 1);
		session_end(s);
		return send_bundle_reply(fd, f->seq, ZCS_ERR_UNEXPECTED, p->conf.keys, &d);
	}
	if (s->in.buf == NULL) {
		if (f->total > zcs_bundle_size(ZCS_BUNDLE_MAX_KEYS)) {
			fprintf(stderr,
				LOG_PREFIX "bundle refused: %" PRIu32 " bytes, larger than any "
					   "bundle\n",
				f->total);
			atomic_fetch_add(&p->refused, 1);
			session_end(s);
			return send_bundle_reply(fd, f->seq, ZCS_ERR_BUNDLE, p->conf.keys, &d);
		}
		s->in.buf = malloc(f->total);
		s->in.cap = f->total;
		if (s->in.buf == NULL) {
			session_end(s);
			return send_bundle_reply(fd, f->seq, ZCS_ERR_INTERNAL, p->conf.keys, &d);
		}
	}
	rc = zcs_attest_chunks_add(
		&s->in, f->offset, f->total, f->data, f->chunk_len, why, sizeof(why));
	if (rc == 0)
		return 0;
	st = rc < 0 ? ZCS_ERR_BUNDLE : apply_bundle(p, s, &d, why, sizeof(why));
	if (st == ZCS_OK) {
		atomic_fetch_add(&p->accepted, 1);
		fprintf(stderr,
			"zcsign-enclave: provisioned generation %" PRIu64 ": %" PRIu32
			" keys now (%" PRIu32 " added, %" PRIu32 " rotated, %" PRIu32
			" unchanged) in %.1f ms\n",
			p->conf.keys->generation, p->conf.keys->count, d.added, d.rotated,
			d.unchanged, (double)(zcs_mono_ns() - t0) / 1e6);
	} else {
		atomic_fetch_add(&p->refused, 1);
		fprintf(stderr, LOG_PREFIX "bundle refused (%s): %s; keys unchanged\n",
			zcs_status_name(st), why);
	}
	session_end(s);
	return send_bundle_reply(fd, f->seq, st, p->conf.keys, &d);
}

static void
serve_control(struct zcs_provisioner *p, int fd)
{
	struct session s;
	union zcs_wire_frame f;
	struct zcs_wire_error e;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	while (rc == 0 && !atomic_load(p->conf.stop)) {
		rc = zcs_wire_recv_frame(fd, &f, p->conf.io_timeout_ms);
		if (rc < 0) {
			if (rc != -ECONNRESET)
				fprintf(stderr, LOG_PREFIX "closing: %s\n",
					rc == -ETIMEDOUT ? "idle too long" : strerror(-rc));
			break;
		}
		if (rc == 0 && f.hdr.type == ZCS_FT_PROVISION) {
			rc = on_provision(p, &s, fd, &f.provision);
		} else if (rc == 0 && f.hdr.type == ZCS_FT_BUNDLE) {
			rc = on_bundle(p, &s, fd, &f.bundle);
		} else {
			/* A malformed frame, or one this endpoint does not take: close. */
			fprintf(stderr, LOG_PREFIX "closing: %s\n",
				rc != 0 ? zcs_strerror(rc) : "unexpected frame type");
			memset(&e, 0, sizeof(e));
			zcs_wire_hdr_init(&e.hdr, ZCS_FT_ERROR, sizeof(e));
			e.status = htole16(rc != 0 ? (uint16_t)rc : ZCS_ERR_UNEXPECTED);
			zcs_wire_send_all(fd, &e, sizeof(e));
			break;
		}
	}
	session_end(&s);
}

static void *
run(void *arg)
{
	struct zcs_provisioner *p = arg;
	struct zcs_peer peer;
	char who[128];
	int fd;

	memset(&peer, 0, sizeof(peer));
	/* Deriving a big bundle's keys takes seconds: never at the serve loop's expense. */
	zcs_thread_lower_priority();
	while (!atomic_load(p->conf.stop)) {
		struct pollfd pfd = {.fd = p->conf.listen_fd, .events = POLLIN};

		if (poll(&pfd, 1, ACCEPT_POLL_MS) <= 0)
			continue;
		fd = accept4(p->conf.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (zcs_peer_get(&peer, fd, p->conf.listen_kind) != 0 ||
			!zcs_peer_allowed(&p->conf.peers, &peer)) {
			zcs_peer_format(who, sizeof(who), &peer);
			fprintf(stderr, LOG_PREFIX "refused a peer outside the policy: %s\n", who);
			close(fd);
			continue;
		}
		serve_control(p, fd);
		close(fd);
	}
	return NULL;
}

struct zcs_provisioner *
zcs_provision_start(const struct zcs_provision_conf *conf)
{
	struct zcs_provisioner *p;
	pthread_attr_t attr;
	sigset_t all, saved;
	cpu_set_t set;
	int rc;

	if (conf->ctx == NULL || conf->srv == NULL || conf->keys == NULL || conf->stop == NULL ||
		conf->listen_fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->conf = *conf;
	if (p->conf.io_timeout_ms == 0)
		p->conf.io_timeout_ms = 10000;
	if (p->conf.peers.nuids == 0 && p->conf.peers.ncids == 0)
		zcs_peer_policy_default(&p->conf.peers);
	rc = pthread_attr_init(&attr);
	if (rc == 0 && conf->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(conf->cpu, &set);
		rc = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	/* Signals go to the serve loop's thread, whose poll() they must cut short. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	if (rc == 0)
		rc = pthread_create(&p->thread, &attr, run, p);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(p);
		errno = rc;
		return NULL;
	}
	return p;
}

void
zcs_provision_stop(struct zcs_provisioner *p)
{
	if (p == NULL)
		return;
	pthread_join(p->thread, NULL);
	zcs_keystore_wipe(p->conf.keys);
	free(p->conf.keys);
	free(p);
}

void
zcs_provision_counts(const struct zcs_provisioner *p, uint64_t *accepted, uint64_t *refused)
{
	*accepted = atomic_load(&p->accepted);
	*refused = atomic_load(&p->refused);
}
