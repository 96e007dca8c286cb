/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench --plot (see plot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"

#define PROG "zcsign-bench"

static FILE *
open_in(const char *dir, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		fprintf(stderr, PROG ": --plot: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

static void
dat_num(FILE *f, double v)
{
	zcs_bench_put_num(f, ' ', v, "NaN");
}

static double
x_of(const struct zcs_bench_report *r)
{
	return isfinite(r->offered_rate) ? r->offered_rate : r->achieved_rate;
}

/* By rate: the search's bisection steps come after the geometric ones. */
static int
write_sweep(const char *dir, const struct zcs_bench_report *steps, unsigned int n)
{
	char path[4096];
	unsigned int i, k, next;
	double last = -INFINITY;
	FILE *f = open_in(dir, "sweep.dat", path, sizeof(path));

	if (f == NULL)
		return -1;
	fprintf(f, "# rate_per_s p50_us p90_us p99_us p99_9_us max_us\n");
	for (k = 0; k < n; k++) {
		const struct zcs_bench_report *r;

		for (i = 0, next = n; i < n; i++)
			if (x_of(&steps[i]) > last &&
				(next == n || x_of(&steps[i]) < x_of(&steps[next])))
				next = i;
		if (next == n)
			break;
		r = &steps[next];
		last = x_of(r);
		fprintf(f, "%.1f", x_of(r));
		dat_num(f, r->e2e.p50);
		dat_num(f, r->e2e.p90);
		dat_num(f, r->e2e.p99);
		dat_num(f, r->e2e.p999);
		dat_num(f, r->e2e.max);
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Each non-empty bucket: its low edge in us, its width in us, its count. */
static int
write_hist(const char *dir, const struct zcs_hist *h, double ticks_per_s)
{
	double us = 1e6 / ticks_per_s;
	char path[4096];
	unsigned int i;
	FILE *f = open_in(dir, "hist.dat", path, sizeof(path));

	if (f == NULL)
		return -1;
	fprintf(f, "# low_us width_us count\n");
	for (i = 0; i < ZCS_HIST_BUCKETS; i++)
		if (h->buckets[i] > 0)
			fprintf(f, "%.4f %.4f %" PRIu64 "\n", (double)zcs_hist_bucket_low(i) * us,
				(double)(zcs_hist_bucket_high(i) - zcs_hist_bucket_low(i) + 1) * us,
				h->buckets[i]);
	return fclose(f) == 0 ? 0 : -1;
}

static int
write_script(const char *dir, unsigned int n, double slo_us)
{
	char path[4096];
	FILE *f = open_in(dir, "plot.gp", path, sizeof(path));

	if (f == NULL)
		return -1;
	fprintf(f,
		"# zcsign-bench --plot: gnuplot %s/plot.gp (run from any directory)\n"
		"set terminal pngcairo size 1000,600 noenhanced\n"
		"set grid\n"
		"set key top left\n"
		"set output '%s/latency_vs_load.png'\n"
		"set title 'zcsign end-to-end latency against offered load (%u steps)'\n"
		"set xlabel 'offered rate (requests/s)'\n"
		"set ylabel 'latency (us)'\n"
		"set logscale xy\n"
		"set arrow from graph 0, first %g to graph 1, first %g nohead dt 2 lc rgb 'red'\n"
		"set label 'SLO p99 %g us' at graph 0.02, first %g offset 0,0.7 tc rgb 'red'\n"
		"plot '%s/sweep.dat' using 1:2 with linespoints title 'p50', \\\n"
		"     '' using 1:3 with linespoints title 'p90', \\\n"
		"     '' using 1:4 with linespoints title 'p99', \\\n"
		"     '' using 1:5 with linespoints title 'p99.9', \\\n"
		"     '' using 1:6 with linespoints title 'max'\n"
		"unset arrow\n"
		"unset logscale\n"
		"unset label\n"
		"set output '%s/histogram.png'\n"
		"set title 'end-to-end latency of the last step'\n"
		"set xlabel 'latency (us, log scale)'\n"
		"set ylabel 'requests per bucket'\n"
		"set logscale xy\n"
		"set yrange [0.7:*]\n"
		"set style fill solid 0.6\n"
		"plot '%s/hist.dat' using ($1 + $2 / 2):3:2 with boxes notitle\n",
		dir, dir, n, slo_us, slo_us, slo_us, slo_us, dir, dir, dir);
	return fclose(f) == 0 ? 0 : -1;
}

/* gnuplot's exit status; 127 when it is not installed. */
static int
run_gnuplot(const char *dir)
{
	char script[4096];
	int status;
	pid_t pid;

	snprintf(script, sizeof(script), "%s/plot.gp", dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
zcs_bench_plot(const char *dir, const struct zcs_bench_report *steps, unsigned int n, double slo_us,
	const struct zcs_hist *last, double ticks_per_s)
{
	int rc;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, PROG ": --plot: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (write_sweep(dir, steps, n) != 0 || write_hist(dir, last, ticks_per_s) != 0 ||
		write_script(dir, n, slo_us) != 0)
		return -1;
	rc = run_gnuplot(dir);
	if (rc == 127) {
		fprintf(stderr,
			PROG ": --plot: gnuplot not found (apt-get install gnuplot-nox): no PNGs; "
			     "data and script left in %s\n",
			dir);
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, PROG ": --plot: gnuplot %s/plot.gp exited %d\n", dir, rc);
		return -1;
	}
	fprintf(stderr, PROG ": --plot: %s/latency_vs_load.png, %s/histogram.png\n", dir, dir);
	return 0;
}
