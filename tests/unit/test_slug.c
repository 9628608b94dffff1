/* test_slug.c — the district as a topic level (slug.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slug.h"

static void assert_slug(const char *text, const char *expected)
{
	char out[128];
	memset(out, 'X', sizeof(out));
	int length = slug_make(text, out, sizeof(out));
	assert_int_equal(length, (int)strlen(expected));
	assert_string_equal(out, expected);
}

static void test_contract_examples(void **state)
{
	(void)state;
	assert_slug("Årby", "arby");
	assert_slug("Fröslunda", "froslunda");
	assert_slug("Norra Nyfors / Centrum", "norra-nyfors-centrum");
}

static void test_swedish_letters_fold(void **state)
{
	(void)state;
	assert_slug("åäö ÅÄÖ", "aao-aao");
	assert_slug("Västerås", "vasteras");
	assert_slug("Östermalm", "ostermalm");
	assert_slug("Café É", "cafe-e");
	/* decomposed: "a" + U+0308 COMBINING DIAERESIS is still ä */
	assert_slug("Va\xCC\x88stera\xCC\x8As", "vasteras");
}

static void test_ascii_upper_case_and_digits(void **state)
{
	(void)state;
	assert_slug("ABCXYZ", "abcxyz");
	assert_slug("Zone 51B", "zone-51b");
	assert_slug("already-a-slug", "already-a-slug");
	assert_slug("0123456789", "0123456789");
}

static void test_runs_become_one_dash(void **state)
{
	(void)state;
	assert_slug("a  ,;/-_!!b", "a-b");
	assert_slug("a--b", "a-b");
	assert_slug("a_b", "a-b");
	assert_slug("a\tb\nc", "a-b-c");
}

static void test_no_leading_or_trailing_dash(void **state)
{
	(void)state;
	assert_slug("  ---Årby---  ", "arby");
	assert_slug("/a/", "a");
	assert_slug("(Centrum)", "centrum");
}

static void test_other_non_ascii_is_a_separator(void **state)
{
	(void)state;
	assert_slug("Stad \xF0\x9F\x98\x80 Mitt", "stad-mitt");       /* emoji */
	assert_slug("a\xF0\x9F\x98\x80\xF0\x9F\x8F\xA0" "b", "a-b");   /* two emoji, one dash */
	assert_slug("Müller", "m-ller");                                /* ü is not folded */
	assert_slug("Øster", "ster");
	assert_slug("a\xC3", "a");                                      /* truncated UTF-8 */
	assert_slug("a\xFF\xFE" "b", "a-b");                            /* not UTF-8 at all */
}

static void test_empty_is_invalid(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(slug_make("", out, sizeof(out)), -EINVAL);
	assert_int_equal(slug_make(" ,./-!", out, sizeof(out)), -EINVAL);
	assert_int_equal(slug_make("\xF0\x9F\x98\x80", out, sizeof(out)), -EINVAL);
	assert_int_equal(slug_make("Øü", out, sizeof(out)), -EINVAL);
	assert_int_equal(slug_make(NULL, out, sizeof(out)), -EINVAL);
}

static void test_too_small_is_enospc(void **state)
{
	(void)state;
	char out[5];
	/* "arby" needs 5 bytes with its NUL: fits exactly */
	assert_int_equal(slug_make("Årby", out, 5), 4);
	assert_string_equal(out, "arby");
	memset(out, 'X', sizeof(out));
	assert_int_equal(slug_make("Årby", out, 4), -ENOSPC);
	assert_string_equal(out, "");           /* no truncated slug handed back */
	assert_int_equal(slug_make("a b", out, 3), -ENOSPC);
	assert_int_equal(slug_make("abc", out, 0), -ENOSPC);
	/* the dash counts too */
	assert_int_equal(slug_make("ab cd", out, 5), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract_examples),
		cmocka_unit_test(test_swedish_letters_fold),
		cmocka_unit_test(test_ascii_upper_case_and_digits),
		cmocka_unit_test(test_runs_become_one_dash),
		cmocka_unit_test(test_no_leading_or_trailing_dash),
		cmocka_unit_test(test_other_non_ascii_is_a_separator),
		cmocka_unit_test(test_empty_is_invalid),
		cmocka_unit_test(test_too_small_is_enospc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
