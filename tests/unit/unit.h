/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared helpers of the libbmap unit tests.
 */
#ifndef BMAP_UNIT_H
#define BMAP_UNIT_H

#include <check.h>
#include <stdint.h>

/* The seed of this run's random tests (BMAP_SEED or time), printed once. */
unsigned int unit_seed(void);

/* Scale factor for loop counts: smaller under valgrind (BMAP_UNIT_SLOW). */
unsigned int unit_scale(unsigned int normal, unsigned int slow);

Suite *xmap_suite(void);
Suite *seal_suite(void);
Suite *lease_suite(void);
Suite *recall_suite(void);
Suite *quarantine_suite(void);
Suite *stress_suite(void);
Suite *faults_suite(void);
Suite *client_cache_suite(void);

#endif
