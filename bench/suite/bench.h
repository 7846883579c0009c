/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the benchmark programs of bench/suite: a monotonic
 * clock in nanoseconds, sample sorting and percentiles, and a fatal-error
 * exit.  Every program prints "key value" lines that run.sh collects; all
 * statistics across repetitions are computed later by report.py.
 */
#ifndef BENCH_SUITE_BENCH_H
#define BENCH_SUITE_BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* bench_pct - the @p-th percentile (0..100) of @n sorted samples. */
static inline uint64_t bench_pct(const uint64_t *s, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return s[i < n ? i : n - 1];
}

#define bench_die(fmt, ...)						\
	do {								\
		fprintf(stderr, "%s: " fmt "\n", prog, ##__VA_ARGS__);	\
		exit(1);						\
	} while (0)

#endif /* BENCH_SUITE_BENCH_H */
