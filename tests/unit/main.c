// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Entry point of the libbmap unit tests: one Check runner, every suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "unit.h"

static unsigned int seed;

unsigned int unit_seed(void)
{
	return seed;
}

unsigned int unit_scale(unsigned int normal, unsigned int slow)
{
	return getenv("BMAP_UNIT_SLOW") ? slow : normal;
}

Suite *unit_suite(const char *name, unsigned int timeout, TCase **tc,
		  const TTest *const *tests, size_t nr)
{
	Suite *s = suite_create(name);
	TCase *t = tcase_create(name);
	size_t i;

	if (timeout)
		tcase_set_timeout(t, timeout);
	for (i = 0; i < nr; i++)
		tcase_add_test(t, tests[i]);
	suite_add_tcase(s, t);
	if (tc)
		*tc = t;
	return s;
}

int main(void)
{
	const char *s = getenv("BMAP_SEED");
	SRunner *sr;
	int failed;

	seed = s ? (unsigned int)strtoul(s, NULL, 0) : (unsigned int)time(NULL);
	printf("bmap-unit: random seed %u (set BMAP_SEED to repeat)\n", seed);
	fflush(stdout);

	sr = srunner_create(xmap_suite());
	srunner_add_suite(sr, seal_suite());
	srunner_add_suite(sr, lease_suite());
	srunner_add_suite(sr, recall_suite());
	srunner_add_suite(sr, quarantine_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, stress_suite());
	srunner_add_suite(sr, client_cache_suite());
	srunner_add_suite(sr, recall_wake_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
