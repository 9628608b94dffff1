/* test_store_dialect.c — each dialect's write URL, exactly: path, query in
 * order, every value URL-encoded so that no name can change the query, and
 * the base URL's credentials kept out of what is logged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_dialect.h"

static void assert_write_url(enum influx_api api, const struct influx_config *config, const char *expected)
{
	char *url = NULL;
	assert_int_equal(store_dialect_write_url(store_dialect_of(api), config, &url), 0);
	assert_string_equal(url, expected);
	free(url);
}

static void test_write_urls(void **state)
{
	(void)state;
	struct influx_config config = { .url = "http://127.0.0.1:8086", .database = "trygghet" };
	assert_write_url(INFLUX_V1, &config, "http://127.0.0.1:8086/write?db=trygghet&precision=s");
	config.retention_policy = "raw";
	assert_write_url(INFLUX_V1, &config, "http://127.0.0.1:8086/write?db=trygghet&rp=raw&precision=s");
	config.org = "Eskilstuna kommun";
	config.bucket = "trygghet/raw";
	assert_write_url(INFLUX_V2, &config,
	                 "http://127.0.0.1:8086/api/v2/write?org=Eskilstuna+kommun&bucket=trygghet%2fraw&precision=s");
	config.bucket = NULL;
	assert_write_url(INFLUX_V2, &config,
	                 "http://127.0.0.1:8086/api/v2/write?org=Eskilstuna+kommun&bucket=trygghet&precision=s");
	assert_write_url(INFLUX_V3, &config, "http://127.0.0.1:8086/api/v3/write_lp?db=trygghet&precision=second");
	config.url = "https://vm.example:8428";
	assert_write_url(INFLUX_VICTORIA, &config, "https://vm.example:8428/write?db=trygghet&precision=s");
	/* A VictoriaMetrics cluster: vminsert's path for tenant 0, as its documentation gives it. */
	config.url = "http://vminsert:8480/insert/0/influx";
	assert_write_url(INFLUX_VICTORIA, &config, "http://vminsert:8480/insert/0/influx/write?db=trygghet&precision=s");
}

/* A database name with query syntax in it stays one value. */
static void test_hostile_names(void **state)
{
	(void)state;
	struct influx_config config = { .url = "http://store:8086", .database = "a&rp=x#y z=Å" };
	assert_write_url(INFLUX_V1, &config, "http://store:8086/write?db=a%26rp%3dx%23y+z%3d%c3%85&precision=s");
}

static void test_names_and_rules(void **state)
{
	(void)state;
	assert_ptr_equal(store_dialect_named("v1"), store_dialect_of(INFLUX_V1));
	assert_ptr_equal(store_dialect_named("victoriametrics"), store_dialect_of(INFLUX_VICTORIA));
	assert_null(store_dialect_named("V1"));
	assert_null(store_dialect_named("influx"));
	/* How each reads a backslash, and how a 2xx is proven. */
	assert_int_equal(store_dialect_of(INFLUX_V1)->backslash, LINEPROTO_BACKSLASH_AS_IS);
	assert_int_equal(store_dialect_of(INFLUX_V2)->backslash, LINEPROTO_BACKSLASH_AS_IS);
	assert_int_equal(store_dialect_of(INFLUX_V3)->backslash, LINEPROTO_BACKSLASH_DOUBLED);
	assert_int_equal(store_dialect_of(INFLUX_VICTORIA)->backslash, LINEPROTO_BACKSLASH_DOUBLED);
	/* Which keep an alert's detail: VictoriaMetrics turns text into 0. */
	assert_true(store_dialect_of(INFLUX_V1)->string_fields);
	assert_true(store_dialect_of(INFLUX_V2)->string_fields);
	assert_true(store_dialect_of(INFLUX_V3)->string_fields);
	assert_false(store_dialect_of(INFLUX_VICTORIA)->string_fields);
	assert_int_equal(store_dialect_of(INFLUX_VICTORIA)->verify, INFLUX_VERIFY_READBACK);
	assert_int_equal(store_dialect_of(INFLUX_V1)->verify, INFLUX_VERIFY_NONE);
	assert_int_equal(store_dialect_of(INFLUX_V2)->auth, STORE_AUTH_TOKEN);
	assert_int_equal(store_dialect_of(INFLUX_V3)->auth, STORE_AUTH_BEARER);
}

static void test_url_for_logs(void **state)
{
	(void)state;
	struct influx_config config = { .url = "http://user:secret@store:8086" };
	char *shown = store_dialect_url_for_logs(&config);
	assert_non_null(shown);
	assert_null(strstr(shown, "secret"));
	assert_string_equal(shown, "http://store:8086/");
	free(shown);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_urls),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_names_and_rules),
		cmocka_unit_test(test_url_for_logs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
