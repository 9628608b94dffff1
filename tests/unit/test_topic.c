/* test_topic.c — the names of the MQTT topics (topic.c): the contract's
 * examples, every kind, and that no gateway id, sensor name, district or
 * prefix can add, remove or widen a level — neither what config validation
 * lets through at the edge of what it allows, nor what it refuses, were it
 * ever handed to topic.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "sensor_config.h"
#include "topic.h"

static const struct identity arby = { "arby-01", "Årby", NULL };

static void assert_gateway_topic(const char *prefix, const struct identity *identity, enum topic_gateway_kind kind,
                                 const char *expected)
{
	char *topic = (char *)"untouched";
	assert_int_equal(topic_gateway(prefix, identity, kind, &topic), 0);
	assert_non_null(topic);
	assert_string_equal(topic, expected);
	free(topic);
}

static void assert_sensor_topic(const char *prefix, const struct identity *identity, const char *sensor,
                                enum topic_sensor_kind kind, const char *expected)
{
	char *topic = (char *)"untouched";
	assert_int_equal(topic_sensor(prefix, identity, sensor, kind, &topic), 0);
	assert_non_null(topic);
	assert_string_equal(topic, expected);
	free(topic);
}

/* Refused, with nothing handed back. */
static void assert_gateway_refused(const char *prefix, const struct identity *identity, enum topic_gateway_kind kind)
{
	char *topic = (char *)"untouched";
	assert_int_equal(topic_gateway(prefix, identity, kind, &topic), -EINVAL);
	assert_null(topic);
}

static void assert_sensor_refused(const char *prefix, const struct identity *identity, const char *sensor,
                                  enum topic_sensor_kind kind)
{
	char *topic = (char *)"untouched";
	assert_int_equal(topic_sensor(prefix, identity, sensor, kind, &topic), -EINVAL);
	assert_null(topic);
}

static size_t count_levels(const char *topic)
{
	size_t levels = 1;
	for (const char *p = topic; *p; p++)
		levels += *p == '/';
	return levels;
}

static void assert_no_wildcard(const char *topic)
{
	assert_null(strchr(topic, '+'));
	assert_null(strchr(topic, '#'));
	assert_null(strstr(topic, "//"));
	assert_true(topic[0] != '/');
	assert_true(topic[strlen(topic) - 1] != '/');
}

/* ---- what the contract says ------------------------------------------- */

static void test_contract_examples(void **state)
{
	(void)state;
	assert_gateway_topic("trygghet", &arby, TOPIC_STATUS, "trygghet/arby/arby-01/status");
	struct identity froslunda = { "fro-7", "Fröslunda", "Centrum" };
	assert_gateway_topic("trygghet", &froslunda, TOPIC_STATUS, "trygghet/froslunda/fro-7/status");
	assert_sensor_topic("trygghet", &froslunda, "door", TOPIC_READING, "trygghet/froslunda/fro-7/door/reading");
}

static void test_every_kind(void **state)
{
	(void)state;
	assert_gateway_topic("trygghet", &arby, TOPIC_STATUS, "trygghet/arby/arby-01/status");
	assert_gateway_topic("trygghet", &arby, TOPIC_HEALTH, "trygghet/arby/arby-01/health");
	assert_sensor_topic("trygghet", &arby, "ljus", TOPIC_READING, "trygghet/arby/arby-01/ljus/reading");
	assert_sensor_topic("trygghet", &arby, "ljus", TOPIC_WINDOW, "trygghet/arby/arby-01/ljus/window");
	assert_sensor_topic("trygghet", &arby, "ljus", TOPIC_ALERT, "trygghet/arby/arby-01/ljus/alert");

	assert_string_equal(topic_gateway_leaf(TOPIC_STATUS), "status");
	assert_string_equal(topic_gateway_leaf(TOPIC_HEALTH), "health");
	assert_string_equal(topic_sensor_leaf(TOPIC_READING), "reading");
	assert_string_equal(topic_sensor_leaf(TOPIC_WINDOW), "window");
	assert_string_equal(topic_sensor_leaf(TOPIC_ALERT), "alert");

	/* No other kind. */
	assert_null(topic_gateway_leaf((enum topic_gateway_kind)2));
	assert_null(topic_sensor_leaf((enum topic_sensor_kind)3));
	assert_null(topic_sensor_leaf((enum topic_sensor_kind)-1));
	assert_gateway_refused("trygghet", &arby, (enum topic_gateway_kind)2);
	assert_sensor_refused("trygghet", &arby, "ljus", (enum topic_sensor_kind)3);
}

static void test_prefix_may_have_levels(void **state)
{
	(void)state;
	assert_gateway_topic("eskilstuna/trygghet", &arby, TOPIC_HEALTH, "eskilstuna/trygghet/arby/arby-01/health");
	assert_sensor_topic("a/b/c", &arby, "door", TOPIC_ALERT, "a/b/c/arby/arby-01/door/alert");
	/* Anything the config lets through, spaces and non-ASCII included. */
	assert_sensor_topic("Kommun Öst/trygghet", &arby, "door", TOPIC_WINDOW,
	                    "Kommun Öst/trygghet/arby/arby-01/door/window");
}

static void test_district_is_one_level(void **state)
{
	(void)state;
	/* The slug turns any run of other characters, '/' '+' '#' included,
	 * into one '-', so the district is always exactly one level. */
	struct identity hostile = { "g", "Norra Nyfors / Centrum", NULL };
	assert_gateway_topic("p", &hostile, TOPIC_STATUS, "p/norra-nyfors-centrum/g/status");
	hostile.district = "a/b+c#d";
	assert_sensor_topic("p", &hostile, "s", TOPIC_READING, "p/a-b-c-d/g/s/reading");
	hostile.district = "#/+ Årby";
	assert_gateway_topic("p", &hostile, TOPIC_STATUS, "p/arby/g/status");
	/* Nothing left to make a level of: refused, as the config refuses it. */
	hostile.district = "+/#";
	assert_gateway_refused("p", &hostile, TOPIC_STATUS);
	hostile.district = "";
	assert_sensor_refused("p", &hostile, "s", TOPIC_ALERT);
	hostile.district = NULL;
	assert_gateway_refused("p", &hostile, TOPIC_STATUS);
}

/* Whatever the config would refuse, topic.c refuses too. */
static void test_gateway_id_cannot_add_a_level(void **state)
{
	(void)state;
	const char *const bad[] = { "a/b", "/", "a/", "/a", "+", "#", "a+", "a#b", "", "a\nb", "a\tb", "a\x7f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct identity identity = { bad[i], "Årby", NULL };
		assert_gateway_refused("trygghet", &identity, TOPIC_STATUS);
		assert_gateway_refused("trygghet", &identity, TOPIC_HEALTH);
		assert_sensor_refused("trygghet", &identity, "ljus", TOPIC_READING);
	}
	struct identity none = { NULL, "Årby", NULL };
	assert_gateway_refused("trygghet", &none, TOPIC_STATUS);
	assert_gateway_refused("trygghet", NULL, TOPIC_STATUS);
}

static void test_sensor_name_cannot_add_a_level(void **state)
{
	(void)state;
	const char *const bad[] = { "a/b", "/", "door/", "/door", "+", "#", "door+", "do#or", "", "a\nb", NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_sensor_refused("trygghet", &arby, bad[i], TOPIC_READING);
		assert_sensor_refused("trygghet", &arby, bad[i], TOPIC_WINDOW);
		assert_sensor_refused("trygghet", &arby, bad[i], TOPIC_ALERT);
	}
}

static void test_prefix_cannot_widen(void **state)
{
	(void)state;
	const char *const bad[] = { "+", "#", "a/+", "a/#", "tryg+ghet", "/trygghet", "trygghet/", "a//b", "", "/",
		                    "a\nb", NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_gateway_refused(bad[i], &arby, TOPIC_STATUS);
		assert_sensor_refused(bad[i], &arby, "ljus", TOPIC_ALERT);
	}
}

/* ---- at the edge of what the configuration allows ---------------------- */

struct loaded {
	char path[64];
	char *errors;
	struct config config;
};

/* Load text as a configuration file; the problems, if any, in errors. */
static int load(struct loaded *loaded, const char *text)
{
	strcpy(loaded->path, "/tmp/test_topic.XXXXXX");
	int descriptor = mkstemp(loaded->path);
	assert_true(descriptor >= 0);
	size_t length = strlen(text);
	assert_int_equal(write(descriptor, text, length), (ssize_t)length);
	assert_int_equal(close(descriptor), 0);

	size_t size = 0;
	memset(&loaded->config, 0, sizeof(loaded->config));
	FILE *errors = open_memstream(&loaded->errors, &size);
	assert_non_null(errors);
	int r = config_load(loaded->path, &loaded->config, errors);
	assert_int_equal(fclose(errors), 0);
	unlink(loaded->path);
	return r;
}

static void unload(struct loaded *loaded)
{
	config_free(&loaded->config);
	free(loaded->errors);
	loaded->errors = NULL;
}

static char *config_text(const char *prefix, const char *id, const char *sensor)
{
	char *text = NULL;
	assert_true(asprintf(&text,
	                     "[gateway]\nid = %s\ndistrict = Fröslunda\n\n"
	                     "[mqtt]\nuri = tcp://127.0.0.1:1883\ntopic_prefix = %s\n\n"
	                     "[sensor.%s]\ntype = light\ndriver = sim\n",
	                     id, prefix, sensor) > 0);
	return text;
}

/* The configuration loads, and every topic built from it has exactly the
 * levels of the prefix plus D, G (and S): the id and the name are one level
 * each, as written. */
static void assert_topics_from_config(const char *prefix, const char *id, const char *sensor)
{
	struct loaded loaded = { 0 };
	char *text = config_text(prefix, id, sensor);
	int r = load(&loaded, text);
	if (r != 0)
		print_error("unexpected problems:\n%s", loaded.errors);
	assert_int_equal(r, 0);
	const struct config *config = &loaded.config;
	struct identity identity = { config->gateway.id, config->gateway.district, config->gateway.site };
	size_t prefix_levels = count_levels(prefix);

	char *expected = NULL;
	for (int kind = TOPIC_STATUS; kind <= TOPIC_HEALTH; kind++) {
		char *topic = NULL;
		assert_int_equal(topic_gateway(config->mqtt.topic_prefix, &identity, kind, &topic), 0);
		assert_true(asprintf(&expected, "%s/froslunda/%s/%s", prefix, id, topic_gateway_leaf(kind)) > 0);
		assert_string_equal(topic, expected);
		assert_int_equal(count_levels(topic), prefix_levels + 3);
		assert_no_wildcard(topic);
		free(expected);
		free(topic);
	}
	for (int kind = TOPIC_READING; kind <= TOPIC_ALERT; kind++) {
		char *topic = NULL;
		assert_int_equal(topic_sensor(config->mqtt.topic_prefix, &identity, config->sensors[0].name, kind, &topic),
		                 0);
		assert_true(asprintf(&expected, "%s/froslunda/%s/%s/%s", prefix, id, sensor, topic_sensor_leaf(kind)) > 0);
		assert_string_equal(topic, expected);
		assert_int_equal(count_levels(topic), prefix_levels + 4);
		assert_no_wildcard(topic);
		free(expected);
		free(topic);
	}
	unload(&loaded);
	free(text);
}

/* Refused, with a problem about the part named by what. */
static void assert_config_refuses(const char *prefix, const char *id, const char *sensor, const char *what)
{
	struct loaded loaded = { 0 };
	char *text = config_text(prefix, id, sensor);
	int r = load(&loaded, text);
	if (r != -EINVAL)
		print_error("'%s' '%s' '%s' was not refused\n", prefix, id, sensor);
	assert_int_equal(r, -EINVAL);
	assert_non_null(strstr(loaded.errors, loaded.path));
	if (!strstr(loaded.errors, what))
		print_error("expected a problem with %s, got: %s", what, loaded.errors);
	assert_non_null(strstr(loaded.errors, what));
	unload(&loaded);
	free(text);
}

static void test_config_edge_allowed(void **state)
{
	(void)state;
	/* 64 characters: every kind the id may have, at its longest. */
	const char *long_id = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	assert_int_equal(strlen(long_id), 64);
	/* 32 characters: every kind a sensor name may have, at its longest. */
	const char *long_name = "abcdefghijklmnopqrstuvwxyz0189-_";
	assert_int_equal(strlen(long_name), 32);
	assert_topics_from_config("trygghet", long_id, long_name);
	/* One character, and nothing but a separator. */
	assert_topics_from_config("trygghet", "-", "_");
	assert_topics_from_config("trygghet", "_", "-");
	assert_topics_from_config("t", "G", "0");
	/* A prefix of several levels. */
	assert_topics_from_config("eskilstuna/trygghet/v1", "gw", "door");
}

static void test_config_edge_refused(void **state)
{
	(void)state;
	/* One past the longest. */
	assert_config_refuses("trygghet", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_x", "door",
	                      ": id: ");
	assert_config_refuses("trygghet", "gw", "abcdefghijklmnopqrstuvwxyz0189-_x", ": sensor name ");
	/* A level more, or a wildcard, from the id... */
	const char *const bad_ids[] = { "a/b", "/", "+", "a+b", "a#b", "gw.1" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		assert_config_refuses("trygghet", bad_ids[i], "door", ": id: ");
	/* ...or the sensor's name ('#' starts a comment only at the start of
	 * a line, so it reaches the name check here)... */
	const char *const bad_names[] = { "a/b", "/", "+", "#", "do+or", "do#or", "Door" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_config_refuses("trygghet", "gw", bad_names[i], ": sensor name ");
	/* ...or the prefix. */
	const char *const bad_prefixes[] = { "+", "a/#", "/a", "a/", "a//b" };
	for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++)
		assert_config_refuses(bad_prefixes[i], "gw", "door", ": topic_prefix ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract_examples),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_prefix_may_have_levels),
		cmocka_unit_test(test_district_is_one_level),
		cmocka_unit_test(test_gateway_id_cannot_add_a_level),
		cmocka_unit_test(test_sensor_name_cannot_add_a_level),
		cmocka_unit_test(test_prefix_cannot_widen),
		cmocka_unit_test(test_config_edge_allowed),
		cmocka_unit_test(test_config_edge_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
