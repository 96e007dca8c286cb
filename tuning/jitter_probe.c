/* SPDX-License-Identifier: BSD-3-Clause */
/* zcsign-jitter's loop, runner and report (contract in jitter_probe.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "jitter_probe.h"

void
zcs_jitter_core_init(struct zcs_jitter_core *c, unsigned int cpu, uint64_t threshold)
{
	memset(c, 0, sizeof(*c));
	c->cpu = cpu;
	c->threshold = threshold;
	zcs_hist_init(&c->hist);
}

void
zcs_jitter_feed(struct zcs_jitter_core *c, const uint64_t *tsc, size_t n)
{
	if (n == 0)
		return;
	for (size_t i = 1; i < n; i++)
		zcs_jitter_gap(c, tsc[i - 1], tsc[i]);
	c->span += tsc[n - 1] - tsc[0];
	c->reads += n;
}

static uint64_t
mono_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
zcs_jitter_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return mono_ns(CLOCK_MONOTONIC_RAW);
#endif
}

void
zcs_jitter_spin(struct zcs_jitter_core *c, uint64_t cycles)
{
	uint64_t start = zcs_jitter_tsc(), prev = start, end = start + cycles, reads = 1;

	while (prev < end) {
		uint64_t now = zcs_jitter_tsc();

		zcs_jitter_gap(c, prev, now);
		prev = now;
		reads++;
	}
	c->span += prev - start;
	c->reads += reads;
}

double
zcs_jitter_calibrate(unsigned int ms)
{
	struct timespec d = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	uint64_t t0 = mono_ns(CLOCK_MONOTONIC), c0 = zcs_jitter_tsc(), t1, c1;

	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
	t1 = mono_ns(CLOCK_MONOTONIC);
	c1 = zcs_jitter_tsc();
	if (t1 == t0)
		return 1e9;
	return (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
}

struct spinner {
	struct zcs_jitter_core *core;
	uint64_t cycles;
	const int *go; /* 0 wait, 1 spin, -1 give up (another thread failed to start) */
};

static void *
spinner_main(void *arg)
{
	struct spinner *s = arg;
	int go;

	/* start together: wait for every thread to be on its core */
	while ((go = __atomic_load_n(s->go, __ATOMIC_ACQUIRE)) == 0)
		sched_yield();
	if (go > 0)
		zcs_jitter_spin(s->core, s->cycles);
	return NULL;
}

int
zcs_jitter_run(struct zcs_jitter_core *cores, unsigned int n, double seconds, double tsc_hz,
	char *err, size_t errlen)
{
	pthread_t *tid = calloc(n, sizeof(*tid));
	struct spinner *sp = calloc(n, sizeof(*sp));
	unsigned int started = 0;
	int go = 0, ret = 0;

	if (tid == NULL || sp == NULL) {
		free(tid);
		free(sp);
		snprintf(err, errlen, "allocating %u spinner threads: out of memory", n);
		return -ENOMEM;
	}
	for (; started < n; started++) {
		pthread_attr_t attr;
		cpu_set_t set;
		int r;

		if (cores[started].cpu >= CPU_SETSIZE) {
			snprintf(err, errlen, "cpu %u: beyond CPU_SETSIZE (%d)", cores[started].cpu,
				CPU_SETSIZE);
			ret = -EINVAL;
			break;
		}
		CPU_ZERO(&set);
		CPU_SET(cores[started].cpu, &set);
		sp[started] = (struct spinner){&cores[started], (uint64_t)(seconds * tsc_hz), &go};
		pthread_attr_init(&attr);
		r = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (r == 0)
			r = pthread_create(&tid[started], &attr, spinner_main, &sp[started]);
		pthread_attr_destroy(&attr);
		if (r != 0) {
			snprintf(err, errlen, "cpu %u: starting a thread pinned there: %s",
				cores[started].cpu, strerror(r));
			ret = -r;
			break;
		}
	}
	__atomic_store_n(&go, ret == 0 ? 1 : -1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	free(sp);
	return ret;
}

void
zcs_jitter_result(struct zcs_jitter_result *r, const struct zcs_jitter_core *c, double tsc_hz)
{
	struct zcs_hist_summary s;
	double ns = 1e9 / tsc_hz;

	zcs_hist_summarize(&s, &c->hist);
	memset(r, 0, sizeof(*r));
	r->cpu = c->cpu;
	r->seconds = (double)c->span / tsc_hz;
	r->threshold_ns = (double)c->threshold * ns;
	r->hiccups = s.count;
	r->rate_per_s = r->seconds > 0 ? (double)s.count / r->seconds : 0;
	if (s.count > 0) {
		r->p99_ns = (double)s.p99 * ns;
		r->p999_ns = (double)s.p999 * ns;
		r->max_ns = (double)s.max * ns;
	}
	r->lost_share = c->span > 0 ? (double)c->lost / (double)c->span : 0;
	if (r->lost_share > 1)
		r->lost_share = 1;
}

void
zcs_jitter_report(
	FILE *f, const struct zcs_jitter_core *cores, unsigned int n, double tsc_hz, int json)
{
	struct zcs_jitter_result r;

	if (json) {
		fprintf(f, "{\"tsc_hz\": %.0f, \"threshold_ns\": %.0f, \"cores\": [", tsc_hz,
			n > 0 ? (double)cores[0].threshold * 1e9 / tsc_hz : 0.0);
		for (unsigned int i = 0; i < n; i++) {
			zcs_jitter_result(&r, &cores[i], tsc_hz);
			fprintf(f,
				"%s\n  {\"cpu\": %u, \"seconds\": %.3f, \"threshold_ns\": %.0f, "
				"\"hiccups\": %llu, \"rate_per_s\": %.2f, \"p99_ns\": %.0f, "
				"\"p999_ns\": %.0f, \"max_ns\": %.0f, \"lost_share\": %.9f}",
				i ? "," : "", r.cpu, r.seconds, r.threshold_ns,
				(unsigned long long)r.hiccups, r.rate_per_s, r.p99_ns, r.p999_ns,
				r.max_ns, r.lost_share);
		}
		fprintf(f, "\n]}\n");
		return;
	}
	fprintf(f, "TSC %.3f GHz (calibrated against CLOCK_MONOTONIC)\n", tsc_hz / 1e9);
	fprintf(f, "%4s %8s %12s %9s %10s %10s %10s %12s %9s\n", "cpu", "seconds", "threshold_ns",
		"hiccups", "per_s", "p99_ns", "p99.9_ns", "max_ns", "lost_%");
	for (unsigned int i = 0; i < n; i++) {
		zcs_jitter_result(&r, &cores[i], tsc_hz);
		fprintf(f, "%4u %8.2f %12.0f %9llu %10.1f %10.0f %10.0f %12.0f %9.4f\n", r.cpu,
			r.seconds, r.threshold_ns, (unsigned long long)r.hiccups, r.rate_per_s,
			r.p99_ns, r.p999_ns, r.max_ns, r.lost_share * 100);
	}
}
