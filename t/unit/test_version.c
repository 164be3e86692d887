/* oa2f_version.c: the one version number and the libraries' versions. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <string.h>
#include <apr_strings.h>

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

/* The parts for the Prometheus view's build_info (README "Status
 * page"): each one set, the module's own from configure.ac. */
START_TEST(versions_one_by_one)
{
    oa2f_versions_t v;

    memset(&v, 0, sizeof(v));
    oa2f_versions(&v);
    ck_assert_str_eq(v.version, PACKAGE_VERSION);
    ck_assert_ptr_nonnull(v.curl);
    ck_assert_ptr_nonnull(v.json_c);
    ck_assert_ptr_nonnull(v.openssl);
    ck_assert_ptr_nonnull(v.apr);
    /* bare numbers, as in oa2f_version_libraries()'s text */
    ck_assert(v.curl[0] >= '0' && v.curl[0] <= '9');
    ck_assert(v.json_c[0] >= '0' && v.json_c[0] <= '9');
    ck_assert(v.openssl[0] >= '0' && v.openssl[0] <= '9');
    ck_assert(v.apr[0] >= '0' && v.apr[0] <= '9');
    ck_assert_ptr_nonnull(
        strstr(oa2f_version_libraries(ut_pool),
               apr_pstrcat(ut_pool, "libcurl/", v.curl, NULL)));
}
END_TEST

Suite *version_suite(void)
{
    Suite *s = suite_create("version");
    TCase *tc = ut_tcase("version");

    tcase_add_test(tc, version_is_configure_s);
    tcase_add_test(tc, libraries_named);
    tcase_add_test(tc, versions_one_by_one);
    suite_add_tcase(s, tc);
    return s;
}
