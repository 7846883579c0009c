/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers of the libbmap unit tests.
 */
#ifndef BMAP_UNIT_H
#define BMAP_UNIT_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* The seed of this run's random tests (BMAP_SEED or time), printed once. */
unsigned int unit_seed(void);

/* Scale factor for loop counts: smaller under valgrind (BMAP_UNIT_SLOW). */
unsigned int unit_scale(unsigned int normal, unsigned int slow);

/*
 * A suite called @name of one test case, also @name, that runs each of the
 * @nr @tests once, with a timeout of @timeout seconds per test (0: Check's
 * default).  *@tc, unless @tc is NULL, is that test case, for the tests
 * that need more (a loop test).  Every suite of this runner is made here,
 * so all of them are built the same way.
 */
Suite *unit_suite(const char *name, unsigned int timeout, TCase **tc,
		  const TTest *const *tests, size_t nr);
#define UNIT_SUITE(name, timeout, tc, ...)				\
	unit_suite(name, timeout, tc, (const TTest *[]){ __VA_ARGS__ },	\
		   sizeof((const TTest *[]){ __VA_ARGS__ }) /		\
		   sizeof(const TTest *))

Suite *xmap_suite(void);
Suite *seal_suite(void);
Suite *lease_suite(void);
Suite *recall_suite(void);
Suite *quarantine_suite(void);
Suite *stress_suite(void);
Suite *faults_suite(void);
Suite *client_cache_suite(void);
Suite *recall_wake_suite(void);

#endif
