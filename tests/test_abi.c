/* SPDX-License-Identifier: MIT */
/* The ABI: the version the library reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <zcopy/zcopy.h>

static void test_version(void **state)
{
	char text[32];

	(void)state;
	assert_int_equal(zc_version(), ZC_VERSION_NUMBER);
	assert_int_equal(zc_version(), (ZC_VERSION_MAJOR << 16) |
					       (ZC_VERSION_MINOR << 8) |
					       ZC_VERSION_PATCH);
	snprintf(text, sizeof(text), "%d.%d.%d", ZC_VERSION_MAJOR,
		 ZC_VERSION_MINOR, ZC_VERSION_PATCH);
	assert_string_equal(zc_version_string(), text);
	assert_string_equal(zc_version_string(), ZC_VERSION_STRING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
