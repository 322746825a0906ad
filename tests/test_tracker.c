/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

static void test_tracker(void **state)
{
	(void)state;
	assert_int_equal(zc_ubuf_create(NULL, 0, NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
