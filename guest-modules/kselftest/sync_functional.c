// SPDX-License-Identifier: GPL-2.0
/*
 * The functional tests of tools/testing/selftests/sync without its three
 * stress tests, which take minutes under TCG (test_stress_two_threads_shared_timeline
 * alone runs 2 x 65536 fence round trips between two threads).
 *
 * Everything but the list of tests is upstream's: sync_test.c is included
 * as is (its main() renamed), so run_test() (fork per test, KTAP result)
 * and sync_api_supported() are the variant's own, and the test functions
 * come from the objects the variant's sync Makefile built. The full
 * upstream sync_test still runs, in the full matrix.
 */
#define main upstream_sync_test_main
#include "sync_test.c"
#undef main

int main(void)
{
	int err;

	ksft_print_header();

	sync_api_supported();
	ksft_set_plan(3 + 4);

	ksft_print_msg("[RUN]\tTesting sync framework (functional tests)\n");

	RUN_TEST(test_alloc_timeline);
	RUN_TEST(test_alloc_fence);
	RUN_TEST(test_alloc_fence_negative);

	RUN_TEST(test_fence_one_timeline_wait);
	RUN_TEST(test_fence_one_timeline_merge);
	RUN_TEST(test_fence_merge_same_fence);
	RUN_TEST(test_fence_multi_timeline_wait);

	err = ksft_get_fail_cnt();
	if (err)
		ksft_exit_fail_msg("%d out of %d sync tests failed\n",
				   err, ksft_test_num());

	ksft_exit_pass();
}
