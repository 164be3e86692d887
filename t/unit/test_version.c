/* oa2f_version.c: the one version number and the libraries' versions. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <string.h>

#include "oa2f_version.h"
#include "unit.h"
#include "ut_common.h"

START_TEST(version_is_configure_s)
{
    const char *v = oa2f_version();

    ck_assert_str_eq(v, PACKAGE_VERSION);
    /* MAJOR.MINOR.PATCH */
    ck_assert_int_eq(strspn(v, "0123456789."), strlen(v));
    ck_assert_ptr_nonnull(strchr(v, '.'));
}
END_TEST

START_TEST(libraries_named)
{
    const char *l = oa2f_version_libraries(ut_pool);

    ck_assert_ptr_nonnull(strstr(l, "libcurl/"));
    ck_assert_ptr_nonnull(strstr(l, "json-c/"));
    ck_assert_ptr_nonnull(strstr(l, "OpenSSL"));
    ck_assert_ptr_nonnull(strstr(l, "APR/"));
}
END_TEST

Suite *version_suite(void)
{
    Suite *s = suite_create("version");
    TCase *tc = ut_tcase("version");

    tcase_add_test(tc, version_is_configure_s);
    tcase_add_test(tc, libraries_named);
    suite_add_tcase(s, tc);
    return s;
}
