/* test_mqtt_reason.c — a failed connection to the broker in words
 * (mqtt_reason.c): the MQTT 3.1.1 return codes and MQTT 5 reason codes
 * with their hints, for tryggd and for the watch, OpenSSL's reason out of
 * its error lines, and Paho's reason joined with OpenSSL's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt_reason.h"

static void test_refusal_v3(void **state)
{
	(void)state;
	char text[200];
	assert_ptr_equal(mqtt_reason_refusal(1, "tryggd", true, text, sizeof(text)), text);
	assert_string_equal(text, "the broker refused tryggd: unacceptable protocol version (see version)");
	mqtt_reason_refusal(2, "tryggd", true, text, sizeof(text));
	assert_string_equal(text, "the broker refused tryggd: client id not accepted (see client_id)");
	mqtt_reason_refusal(2, "the watch", false, text, sizeof(text));
	assert_string_equal(text, "the broker refused the watch: client id not accepted");
	mqtt_reason_refusal(3, "the watch", false, text, sizeof(text));
	assert_string_equal(text, "the broker refused the watch: server unavailable");
	mqtt_reason_refusal(4, "tryggd", true, text, sizeof(text));
	assert_string_equal(text,
	                    "the broker refused tryggd: bad user name or password (see username and password_file)");
	mqtt_reason_refusal(5, "the watch", false, text, sizeof(text));
	assert_string_equal(text, "the broker refused the watch: not authorised (see username and password_file)");
}

static void test_refusal_v5(void **state)
{
	(void)state;
	char text[200];
	/* Paho's names, with only the first letter lowered. */
	assert_ptr_equal(mqtt_reason_refusal(0x87, "tryggd", true, text, sizeof(text)), text);
	assert_string_equal(text, "the broker refused tryggd: not authorized (see username and password_file)");
	mqtt_reason_refusal(0x86, "the watch", false, text, sizeof(text));
	assert_string_equal(text,
	                    "the broker refused the watch: bad User Name or Password (see username and password_file)");
	mqtt_reason_refusal(0x84, "tryggd", true, text, sizeof(text));
	assert_string_equal(text, "the broker refused tryggd: unsupported Protocol Version (see version)");
	/* No hint for the rest. */
	mqtt_reason_refusal(0x88, "tryggd", true, text, sizeof(text));
	assert_string_equal(text, "the broker refused tryggd: server unavailable");
	mqtt_reason_refusal(0x8A, "the watch", false, text, sizeof(text));
	assert_string_equal(text, "the broker refused the watch: banned");
	/* A code Paho has no name for. */
	mqtt_reason_refusal(0xFF, "tryggd", true, text, sizeof(text));
	assert_string_equal(text, "the broker refused tryggd: ?");
}

static void test_refusal_truncated(void **state)
{
	(void)state;
	char text[12];
	mqtt_reason_refusal(4, "tryggd", true, text, sizeof(text));
	assert_string_equal(text, "the broker ");
}

static void test_openssl(void **state)
{
	(void)state;
	static const char line[] = "40E7B5D6E97F0000:error:0A000086:SSL routines:tls_post_process_server_certificate:"
	                           "certificate verify failed:../ssl/statem/statem_clnt.c:1889:\n";
	char reason[128] = "untouched";
	assert_ptr_equal(mqtt_reason_openssl(line, strlen(line), reason, sizeof(reason)), reason);
	assert_string_equal(reason, "certificate verify failed");

	/* Only length bytes count: the line need not end in a NUL. */
	static const char longer[] = "1:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:x.c:1:"
	                             "and more that is not the line";
	mqtt_reason_openssl(longer, strlen(longer) - strlen("and more that is not the line"), reason, sizeof(reason));
	assert_string_equal(reason, "sslv3 alert bad certificate");

	/* The reason as the last field, ended by the line's end. */
	static const char last[] = "1:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca\n";
	mqtt_reason_openssl(last, strlen(last), reason, sizeof(reason));
	assert_string_equal(reason, "tlsv1 alert unknown ca");

	/* Truncated to the buffer. */
	char small[8];
	mqtt_reason_openssl(line, strlen(line), small, sizeof(small));
	assert_string_equal(small, "certifi");
}

static void test_openssl_no_reason(void **state)
{
	(void)state;
	char reason[64] = "untouched";
	static const char *const lines[] = {
		"",
		"no error here",
		"1:error:0A000086:SSL routines",   /* too few fields */
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		assert_null(mqtt_reason_openssl(lines[i], strlen(lines[i]), reason, sizeof(reason)));
		assert_string_equal(reason, "untouched");
	}
}

static void test_openssl_control_characters(void **state)
{
	(void)state;
	static const char line[] = "1:error:0A000086:SSL routines:f:bad\x1b[31m\tred\x7f:file.c:1:";
	char reason[64];
	mqtt_reason_openssl(line, strlen(line), reason, sizeof(reason));
	assert_string_equal(reason, "bad?[31m?red?");
}

static void test_failure(void **state)
{
	(void)state;
	char text[100];
	assert_ptr_equal(mqtt_reason_failure("TCP/TLS connect failure", "certificate verify failed", text, sizeof(text)),
	                 text);
	assert_string_equal(text, "TCP/TLS connect failure (TLS: certificate verify failed)");
	mqtt_reason_failure("TCP/TLS connect failure", "", text, sizeof(text));
	assert_string_equal(text, "TCP/TLS connect failure");
	mqtt_reason_failure("socket error", NULL, text, sizeof(text));
	assert_string_equal(text, "socket error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusal_v3),
		cmocka_unit_test(test_refusal_v5),
		cmocka_unit_test(test_refusal_truncated),
		cmocka_unit_test(test_openssl),
		cmocka_unit_test(test_openssl_no_reason),
		cmocka_unit_test(test_openssl_control_characters),
		cmocka_unit_test(test_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
