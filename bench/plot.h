/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zcsign-bench --plot DIR: the data of a run as gnuplot data files and a
 * script in DIR, rendered to PNGs by gnuplot: latency percentiles against
 * offered load (the sweep, or the single run) and the end-to-end latency
 * histogram of the last step. gnuplot missing or failing fails --plot only,
 * with a message; the data files and script stay for later.
 */
#ifndef ZCS_BENCH_PLOT_H
#define ZCS_BENCH_PLOT_H

#include <zcsign/histogram.h>

#include "report.h"

/**
 * Write DIR/sweep.dat, DIR/hist.dat, DIR/plot.gp and run gnuplot on it:
 * DIR/latency_vs_load.png and DIR/histogram.png.
 * @param steps
 *   The steps (one for a single run); x axis: offered rate, achieved for a closed loop.
 * @param last
 *   End-to-end histogram of the last step, in ticks (ticks_per_s of them a second).
 * @return 0, or -1 after a message on stderr.
 */
int zcs_bench_plot(const char *dir, const struct zcs_bench_report *steps, unsigned int n,
	double slo_us, const struct zcs_hist *last, double ticks_per_s);

#endif /* ZCS_BENCH_PLOT_H */
