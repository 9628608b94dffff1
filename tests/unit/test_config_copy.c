/* test_config_copy.c — the copies and comparisons a reload is made of
 * (config_copy.c), and the modules that keep a section beyond the struct
 * config it came from.
 *
 *  - A copy of [mqtt] or [influx] shares nothing with the config: it is
 *    made, the config freed, and the copy still equals a fresh load of the
 *    same file.
 *  - *_equal() turns false for a change of any one field, each field of
 *    each section in turn (tables of changes), and is symmetric.
 *  - The store's forwarder and the MQTT session keep working after the
 *    config they were made from is freed.
 *
 * Every file is written into a fresh temporary directory, with a CA and a
 * client certificate made on the spot, so that [mqtt] can set every key.
 * Use of freed memory shows only under a checker: run it under valgrind or
 * build with -fsanitize=address. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "mqtt.h"
#include "pki.h"
#include "spool.h"
#include "state.h"
#include "store_forward.h"
#include "temp_tree.h"

#define RUN_TIMEOUT_MS 10000

/* Every key of [gateway], [simulation] and [mqtt] set, none to its
 * default; [influx] follows, in one of two kinds (password_file and
 * token_file exclude each other). */
static const char sections[] =
	"[gateway]\n"
	"id = arby-01\n"
	"district = Årby\n"
	"site = Torget\n"
	"window = 30\n"
	"state_dir = state\n"
	"latitude = 59.3\n"
	"longitude = 16.5\n"
	"\n"
	"[simulation]\n"
	"start = 2026-11-02T00:00:00Z\n"
	"end = 2026-11-09T00:00:00Z\n"
	"speed = 10\n"
	"drain_timeout = 5\n"
	"profiles = profiles.ini\n"
	"scenarios = scenarios.ini\n"
	"\n"
	"[mqtt]\n"
	"uri = ssl://a.example:8883, mqtts://b.example:8883\n"
	"version = 5\n"
	"clean_session = no\n"
	"client_id = mast-7\n"
	"topic_prefix = stad/trygghet\n"
	"qos = 2\n"
	"publish_readings = no\n"
	"keepalive = 45\n"
	"buffer_max = 500\n"
	"buffer_size = 1M\n"
	"health_interval = 2min\n"
	"status_interval = 10min\n"
	"username = mast\n"
	"password_file = mqtt-password\n"
	"ca_file = ca.pem\n"
	"ca_dir = cas\n"
	"cert_file = client.pem\n"
	"key_file = client.key\n"
	"verify = no\n"
	"proxy = proxy.example:3128\n"
	"\n"
	"[sensor.ljus]\n"
	"type = light\n"
	"driver = sim\n"
	"\n";

/* Every key of [influx] but token_file. */
static const char influx_v1[] =
	"[influx]\n"
	"url = https://store.example:8086\n"
	"api = v1\n"
	"database = trygghet\n"
	"retention_policy = veckor\n"
	"org = stad\n"
	"bucket = trygg\n"
	"user = writer\n"
	"password_file = influx-password\n"
	"ca_file = ca.pem\n"
	"tls_verify = no\n"
	"proxy = proxy.example:3129\n"
	"gzip = yes\n"
	"verify = none\n"
	"timeout = 20\n"
	"batch_lines = 100\n"
	"flush_interval = 2s\n"
	"spool_max_mb = 16\n";

/* token_file, and the rest of a v2 store's. */
static const char influx_v2[] =
	"[influx]\n"
	"url = https://store.example:8086\n"
	"api = v2\n"
	"org = stad\n"
	"bucket = trygg\n"
	"token_file = influx-token\n";

struct fixture {
	char directory[64];
	char path[PATH_MAX];     /* the config file */
};

static void in_fixture(const struct fixture *fixture, const char *name, char *buffer, size_t size)
{
	assert_true((size_t)snprintf(buffer, size, "%s/%s", fixture->directory, name) < size);
}

static int setup(void **state)
{
	struct fixture *fixture = calloc(1, sizeof(*fixture));
	if (!fixture)
		return -1;
	if (!temp_tree_make(fixture->directory, sizeof(fixture->directory), "/tmp/test_config_copy.XXXXXX")) {
		free(fixture);
		return -1;
	}
	/* The *_file keys are looked up in the config's directory only. */
	unsetenv("CREDENTIALS_DIRECTORY");
	*state = fixture;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fixture = *state;
	temp_tree_remove(fixture->directory);
	free(fixture);
	return 0;
}

/* The files the config names: a CA (also under a hashed name in cas/), a
 * client certificate it signed with its key, and the secrets. */
static void make_files(struct fixture *fixture)
{
	char ca[PATH_MAX], ca_key[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], path[PATH_MAX];
	in_fixture(fixture, "ca.pem", ca, sizeof(ca));
	in_fixture(fixture, "ca.key", ca_key, sizeof(ca_key));
	in_fixture(fixture, "client.pem", cert, sizeof(cert));
	in_fixture(fixture, "client.key", key, sizeof(key));
	pki_make(ca, ca_key, "Test CA", NULL, NULL, NULL);
	pki_make(cert, key, "mast-7", ca, ca_key, NULL);
	in_fixture(fixture, "cas/0a1b2c3d.0", path, sizeof(path));
	temp_tree_make_parent(path);
	pki_join(path, (const char *const[]){ ca, NULL });
	in_fixture(fixture, "scenarios.ini", path, sizeof(path));
	temp_tree_write(path, "[renewal]\ndistrict = Årby\nfrom = 2026-04-20\nlamp_lux = 30\n");
	const char *const secrets[] = { "mqtt-password", "influx-password", "influx-token" };
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		in_fixture(fixture, secrets[i], path, sizeof(path));
		temp_tree_write(path, "s3cret\n");
	}
}

/* Writes sections and then more as the config file. */
static void write_config(struct fixture *fixture, const char *more)
{
	char *text = NULL;
	assert_true(asprintf(&text, "%s%s", sections, more) > 0);
	in_fixture(fixture, "tryggd.conf", fixture->path, sizeof(fixture->path));
	temp_tree_write(fixture->path, text);
	free(text);
}

static void load(const struct fixture *fixture, struct config *config)
{
	char *errors = NULL;
	size_t size = 0;
	FILE *stream = open_memstream(&errors, &size);
	assert_non_null(stream);
	int r = config_load(fixture->path, config, stream);
	assert_int_equal(fclose(stream), 0);
	if (r != 0)
		print_error("unexpected problems:\n%s", errors);
	assert_int_equal(r, 0);
	free(errors);
}

/* ---- tripwire ---------------------------------------------------------- */

/* A field added to a section changes its size (on the 64-bit targets,
 * where these numbers hold): add it to config_copy.c (a string to its
 * section's table, anything else to its *_equal()) and to the changes
 * below, then update the number here. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct gateway_config) == 64, "struct gateway_config changed: see above");
_Static_assert(sizeof(struct simulation_config) == 72, "struct simulation_config changed: see above");
_Static_assert(sizeof(struct mqtt_config) == 224, "struct mqtt_config changed: see above");
_Static_assert(sizeof(struct influx_config) == 128, "struct influx_config changed: see above");
#endif

/* ---- copies ------------------------------------------------------------ */

/* Every string set: the copy covers them all, and none is shared. */
static void assert_mqtt_all_set(const struct mqtt_config *mqtt)
{
	const char *const texts[] = { mqtt->topic_prefix, mqtt->client_id, mqtt->username, mqtt->password_file,
		                      mqtt->ca_file, mqtt->ca_dir, mqtt->cert_file, mqtt->key_file, mqtt->proxy };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_non_null(texts[i]);
	assert_int_equal(mqtt->uri_count, 2);
}

static void assert_mqtt_apart(const struct mqtt_config *a, const struct mqtt_config *b)
{
	assert_ptr_not_equal(a->topic_prefix, b->topic_prefix);
	assert_ptr_not_equal(a->proxy, b->proxy);
	for (size_t i = 0; i < a->uri_count; i++)
		assert_ptr_not_equal(a->uris[i], b->uris[i]);
}

static void test_mqtt_copy_outlives_the_config(void **state)
{
	struct fixture *fixture = *state;
	struct config original, fresh;
	struct mqtt_config copy;
	make_files(fixture);
	write_config(fixture, influx_v1);
	load(fixture, &original);
	assert_mqtt_all_set(&original.mqtt);

	assert_int_equal(mqtt_config_copy(&original.mqtt, &copy), 0);
	assert_mqtt_apart(&copy, &original.mqtt);
	config_free(&original);
	load(fixture, &fresh);
	assert_true(mqtt_config_equal(&copy, &fresh.mqtt));
	assert_true(mqtt_config_equal(&fresh.mqtt, &copy));
	/* uri is the copy's own first broker, not the original's. */
	assert_ptr_equal(copy.uri, copy.uris[0]);
	assert_string_equal(copy.uri, "ssl://a.example:8883");
	assert_string_equal(copy.uris[1], "mqtts://b.example:8883");

	mqtt_config_clear(&copy);
	assert_null(copy.uri);
	assert_null(copy.topic_prefix);
	assert_int_equal(copy.uri_count, 0);
	mqtt_config_clear(&copy);   /* twice: nothing left to free */
	mqtt_config_clear(NULL);
	config_free(&fresh);
}

static void test_influx_copy_outlives_the_config(void **state)
{
	struct fixture *fixture = *state;
	const char *const kinds[] = { influx_v1, influx_v2 };
	make_files(fixture);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct config original, fresh;
		struct influx_config copy;
		write_config(fixture, kinds[i]);
		load(fixture, &original);
		assert_non_null(i == 0 ? original.influx.password_file : original.influx.token_file);

		assert_int_equal(influx_config_copy(&original.influx, &copy), 0);
		assert_ptr_not_equal(copy.url, original.influx.url);
		config_free(&original);
		load(fixture, &fresh);
		assert_true(influx_config_equal(&copy, &fresh.influx));
		assert_true(influx_config_equal(&fresh.influx, &copy));
		influx_config_clear(&copy);
		assert_null(copy.url);
		config_free(&fresh);
	}
	influx_config_clear(NULL);
}

/* Without [mqtt] or [influx]: the defaults, most strings NULL. */
static void test_copies_of_defaults(void **state)
{
	struct fixture *fixture = *state;
	struct config config;
	struct mqtt_config mqtt;
	struct influx_config influx;
	in_fixture(fixture, "tryggd.conf", fixture->path, sizeof(fixture->path));
	temp_tree_write(fixture->path, "[gateway]\nid = a\ndistrict = Årby\n[sensor.ljus]\ntype = light\ndriver = sim\n");
	load(fixture, &config);
	assert_int_equal(mqtt_config_copy(&config.mqtt, &mqtt), 0);
	assert_int_equal(influx_config_copy(&config.influx, &influx), 0);
	assert_null(mqtt.uri);
	assert_null(mqtt.client_id);
	assert_null(influx.url);
	assert_true(mqtt_config_equal(&mqtt, &config.mqtt));
	assert_true(influx_config_equal(&influx, &config.influx));
	mqtt_config_clear(&mqtt);
	influx_config_clear(&influx);
	config_free(&config);
}

/* A broker list past MQTT_URIS_MAX is refused, and leaves to zeroed. */
static void test_mqtt_copy_refuses_too_many_brokers(void **state)
{
	(void)state;
	struct mqtt_config from = { .uri_count = MQTT_URIS_MAX + 1 }, to;
	memset(&to, 0xff, sizeof(to));
	assert_int_equal(mqtt_config_copy(&from, &to), -EINVAL);
	struct mqtt_config zero = { 0 };
	assert_memory_equal(&to, &zero, sizeof(to));
}

/* ---- comparisons: one field changed at a time -------------------------- */

enum kind { TEXT, INTEGER, INT64, UINT64, BOOLEAN, REAL };

/* Set one field at offset to a value of its kind (TEXT: a copy of text,
 * or NULL; BOOLEAN: the other one). */
struct change {
	const char *field;
	size_t offset, size;
	enum kind kind;
	const char *text;
	int64_t number;
	double real;
};

#define FIELD(type, name) .field = #name, .offset = offsetof(type, name), .size = sizeof(((type *)0)->name)
#define TO_TEXT(type, name, value) { FIELD(type, name), .kind = TEXT, .text = value }
/* Two changes: to another text, and to none. */
#define TO_TEXT_OR_NULL(type, name, value) TO_TEXT(type, name, value), TO_TEXT(type, name, NULL)
#define TO_NUMBER(type, name, number_kind, value) { FIELD(type, name), .kind = number_kind, .number = value }
#define FLIPPED(type, name) { FIELD(type, name), .kind = BOOLEAN }
#define TO_REAL(type, name, value) { FIELD(type, name), .kind = REAL, .real = value }

/* Enumerations are changed as int. */
_Static_assert(sizeof(enum influx_api) == sizeof(int) && sizeof(enum influx_verify) == sizeof(int),
               "enums are ints here");

static void apply(void *section, const struct change *change)
{
	static const size_t sizes[] = {
		[TEXT] = sizeof(char *), [INTEGER] = sizeof(int), [INT64] = sizeof(int64_t),
		[UINT64] = sizeof(uint64_t), [BOOLEAN] = sizeof(bool), [REAL] = sizeof(double),
	};
	void *field = (char *)section + change->offset;
	if (change->size != sizes[change->kind])
		fail_msg("%s: the change's kind does not fit the field", change->field);
	switch (change->kind) {
	case TEXT: {
		char **text = field;
		free(*text);
		*text = change->text ? strdup(change->text) : NULL;
		assert_true(!change->text || *text);
		break;
	}
	case INTEGER:
		*(int *)field = (int)change->number;
		break;
	case INT64:
		*(int64_t *)field = change->number;
		break;
	case UINT64:
		*(uint64_t *)field = (uint64_t)change->number;
		break;
	case BOOLEAN:
		*(bool *)field = !*(bool *)field;
		break;
	case REAL:
		*(double *)field = change->real;
		break;
	}
}

#define MQTT struct mqtt_config
static const struct change mqtt_changes[] = {
	TO_TEXT_OR_NULL(MQTT, topic_prefix, "stad/annan"),
	TO_TEXT_OR_NULL(MQTT, client_id, "mast-8"),
	TO_TEXT_OR_NULL(MQTT, username, "annan"),
	TO_TEXT_OR_NULL(MQTT, password_file, "/elsewhere/password"),
	TO_TEXT_OR_NULL(MQTT, ca_file, "/elsewhere/ca.pem"),
	TO_TEXT_OR_NULL(MQTT, ca_dir, "/elsewhere/cas"),
	TO_TEXT_OR_NULL(MQTT, cert_file, "/elsewhere/client.pem"),
	TO_TEXT_OR_NULL(MQTT, key_file, "/elsewhere/client.key"),
	TO_TEXT_OR_NULL(MQTT, proxy, "proxy.example:8080"),
	TO_NUMBER(MQTT, qos, INTEGER, 1),
	TO_NUMBER(MQTT, version, INTEGER, MQTT_VERSION_3_1_1),
	FLIPPED(MQTT, clean_session),
	FLIPPED(MQTT, publish_readings),
	TO_NUMBER(MQTT, keepalive_s, INTEGER, 46),
	TO_NUMBER(MQTT, buffer_max, INTEGER, 501),
	TO_NUMBER(MQTT, buffer_bytes, INT64, 2 * 1024 * 1024),
	FLIPPED(MQTT, tls),
	FLIPPED(MQTT, verify),
	TO_NUMBER(MQTT, health_interval_ms, INT64, 60 * 1000),
	TO_NUMBER(MQTT, status_interval_ms, INT64, 5 * 60 * 1000),
};

#define INFLUX struct influx_config
static const struct change influx_changes[] = {
	TO_TEXT_OR_NULL(INFLUX, url, "https://other.example:8086"),
	TO_TEXT_OR_NULL(INFLUX, database, "annan"),
	TO_TEXT_OR_NULL(INFLUX, retention_policy, "dagar"),
	TO_TEXT_OR_NULL(INFLUX, org, "annan"),
	TO_TEXT_OR_NULL(INFLUX, bucket, "annan"),
	TO_TEXT_OR_NULL(INFLUX, user, "reader"),
	TO_TEXT_OR_NULL(INFLUX, password_file, "/elsewhere/password"),
	TO_TEXT(INFLUX, token_file, "/elsewhere/token"),   /* NULL in the v1 file */
	TO_TEXT_OR_NULL(INFLUX, ca_file, "/elsewhere/ca.pem"),
	TO_TEXT_OR_NULL(INFLUX, proxy, "proxy.example:8080"),
	TO_NUMBER(INFLUX, api, INTEGER, INFLUX_VICTORIA),
	FLIPPED(INFLUX, tls_verify),
	FLIPPED(INFLUX, gzip),
	TO_NUMBER(INFLUX, verify, INTEGER, INFLUX_VERIFY_READBACK),
	TO_NUMBER(INFLUX, timeout_s, INTEGER, 21),
	TO_NUMBER(INFLUX, batch_lines, INTEGER, 101),
	TO_NUMBER(INFLUX, flush_interval_ms, INT64, 3000),
	TO_NUMBER(INFLUX, spool_max_bytes, UINT64, 17 * 1024 * 1024),
};

#define GATEWAY struct gateway_config
static const struct change gateway_changes[] = {
	TO_TEXT_OR_NULL(GATEWAY, id, "arby-02"),
	TO_TEXT_OR_NULL(GATEWAY, district, "Brunnsta"),
	TO_TEXT_OR_NULL(GATEWAY, site, "Skolan"),
	TO_NUMBER(GATEWAY, window_s, INTEGER, 31),
	TO_TEXT_OR_NULL(GATEWAY, state_dir, "/var/lib/annan"),
	TO_REAL(GATEWAY, latitude, 59.31),
	TO_REAL(GATEWAY, longitude, 16.51),
	TO_NUMBER(GATEWAY, clock, INTEGER, CLOCK_TRUST_FLOOR_ONLY),
};

#define SIMULATION struct simulation_config
static const struct change simulation_changes[] = {
	TO_NUMBER(SIMULATION, start_ms, INT64, INT64_C(1793577601000)),
	TO_REAL(SIMULATION, speed, 0),
	TO_NUMBER(SIMULATION, end_ms, INT64, 0),
	TO_TEXT_OR_NULL(SIMULATION, profiles, "/elsewhere/districts.ini"),
	TO_TEXT_OR_NULL(SIMULATION, scenarios, "/elsewhere/scenarios.ini"),
	TO_NUMBER(SIMULATION, drain_timeout_s, INTEGER, 6),
	TO_NUMBER(SIMULATION, clock_synchronised_at_ms, INT64, INT64_C(1793578201000)),
	TO_NUMBER(SIMULATION, clock_step_at_ms, INT64, INT64_C(1793578801000)),
	TO_NUMBER(SIMULATION, clock_step_ms, INT64, INT64_C(-3600000)),
};

static void unequal_after(const struct change *change, bool equal_forward, bool equal_backward)
{
	if (equal_forward || equal_backward)
		fail_msg("%s = %s: still equal%s", change->field,
		         change->kind == TEXT ? (change->text ? change->text : "NULL") : "(changed)",
		         equal_forward != equal_backward ? ", and only one way" : "");
}

static void test_mqtt_equal_sees_every_field(void **state)
{
	struct fixture *fixture = *state;
	struct config config;
	make_files(fixture);
	write_config(fixture, influx_v1);
	load(fixture, &config);
	for (size_t i = 0; i < sizeof(mqtt_changes) / sizeof(mqtt_changes[0]); i++) {
		struct mqtt_config changed;
		assert_int_equal(mqtt_config_copy(&config.mqtt, &changed), 0);
		assert_true(mqtt_config_equal(&changed, &config.mqtt));
		apply(&changed, &mqtt_changes[i]);
		unequal_after(&mqtt_changes[i], mqtt_config_equal(&changed, &config.mqtt),
		              mqtt_config_equal(&config.mqtt, &changed));
		mqtt_config_clear(&changed);
	}

	/* The brokers: another second one, a third one, only the first (the
	 * one at index replaced by uri, or dropped, and count of them). */
	static const struct {
		size_t index;
		const char *uri;
		size_t count;
	} brokers[] = {
		{ 1, "mqtts://c.example:8883", 2 }, { 2, "mqtts://b.example:8883", 3 }, { 1, NULL, 1 },
	};
	for (size_t i = 0; i < sizeof(brokers) / sizeof(brokers[0]); i++) {
		struct mqtt_config changed;
		assert_int_equal(mqtt_config_copy(&config.mqtt, &changed), 0);
		free(changed.uris[brokers[i].index]);
		changed.uris[brokers[i].index] = brokers[i].uri ? strdup(brokers[i].uri) : NULL;
		changed.uri_count = brokers[i].count;
		if (mqtt_config_equal(&changed, &config.mqtt) || mqtt_config_equal(&config.mqtt, &changed))
			fail_msg("uris[%zu] = %s, %zu brokers: still equal", brokers[i].index,
			         brokers[i].uri ? brokers[i].uri : "NULL", brokers[i].count);
		mqtt_config_clear(&changed);
	}
	config_free(&config);
}

static void test_influx_equal_sees_every_field(void **state)
{
	struct fixture *fixture = *state;
	struct config config;
	make_files(fixture);
	write_config(fixture, influx_v1);
	load(fixture, &config);
	for (size_t i = 0; i < sizeof(influx_changes) / sizeof(influx_changes[0]); i++) {
		struct influx_config changed;
		assert_int_equal(influx_config_copy(&config.influx, &changed), 0);
		assert_true(influx_config_equal(&changed, &config.influx));
		apply(&changed, &influx_changes[i]);
		unequal_after(&influx_changes[i], influx_config_equal(&changed, &config.influx),
		              influx_config_equal(&config.influx, &changed));
		influx_config_clear(&changed);
	}
	config_free(&config);
}

/* [gateway] and [simulation] have no copy: each change is made to a
 * second load of the same file. */
static void test_gateway_and_simulation_equal_see_every_field(void **state)
{
	struct fixture *fixture = *state;
	struct config config, changed;
	make_files(fixture);
	write_config(fixture, influx_v1);
	load(fixture, &config);
	load(fixture, &changed);
	assert_true(gateway_config_equal(&changed.gateway, &config.gateway));
	assert_true(simulation_config_equal(&changed.simulation, &config.simulation));
	config_free(&changed);

	for (size_t i = 0; i < sizeof(gateway_changes) / sizeof(gateway_changes[0]); i++) {
		load(fixture, &changed);
		apply(&changed.gateway, &gateway_changes[i]);
		unequal_after(&gateway_changes[i], gateway_config_equal(&changed.gateway, &config.gateway),
		              gateway_config_equal(&config.gateway, &changed.gateway));
		config_free(&changed);
	}
	for (size_t i = 0; i < sizeof(simulation_changes) / sizeof(simulation_changes[0]); i++) {
		load(fixture, &changed);
		apply(&changed.simulation, &simulation_changes[i]);
		unequal_after(&simulation_changes[i], simulation_config_equal(&changed.simulation, &config.simulation),
		              simulation_config_equal(&config.simulation, &changed.simulation));
		config_free(&changed);
	}
	config_free(&config);
}

/* ---- the modules that keep a section ----------------------------------- */

static int64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A loopback port nothing listens on: bound, then let go. */
static int closed_port(void)
{
	int descriptor = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(descriptor >= 0);
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t length = sizeof(address);
	assert_int_equal(bind(descriptor, (struct sockaddr *)&address, sizeof(address)), 0);
	assert_int_equal(getsockname(descriptor, (struct sockaddr *)&address, &length), 0);
	close(descriptor);
	return ntohs(address.sin_port);
}

/* The forwarder is made, the config freed, and a line sent to a store
 * that is not there: the request reads the url, the credentials, the
 * timeout, the proxy and the TLS settings from the forwarder's copy. */
static void test_store_forward_outlives_the_config(void **state)
{
	struct fixture *fixture = *state;
	char influx[512], path[PATH_MAX], err[256] = "";
	struct config config;
	struct state *database = NULL;
	struct spool *spool = NULL;
	struct store_forward *forward = NULL;
	sd_event *event = NULL;
	make_files(fixture);
	snprintf(influx, sizeof(influx),
	         "[influx]\nurl = http://127.0.0.1:%d\nuser = writer\npassword_file = influx-password\ntimeout = 2\n"
	         "gzip = yes\n",
	         closed_port());
	write_config(fixture, influx);
	load(fixture, &config);

	in_fixture(fixture, "state", path, sizeof(path));
	if (state_open(path, &database, err, sizeof(err)) < 0)
		fail_msg("state_open: %s", err);
	assert_int_equal(spool_open(state_database(database), 0, &spool), 0);
	char *lines[] = { "m,gateway=arby-01 v=1i 1793577600\n" };
	assert_int_equal(spool_append(spool, lines, 1), 0);
	assert_int_equal(sd_event_new(&event), 0);
	struct store_forward_options options = {
		.event = event,
		.config = &config.influx,
		.config_directory = config.directory,
		.spool = spool,
		.time_scale = 1,
	};
	assert_int_equal(store_forward_new(&options, &forward), 0);
	config_free(&config);

	store_forward_kick(forward);
	for (int64_t deadline = monotonic_ms() + RUN_TIMEOUT_MS;
	     store_forward_counters(forward).failures == 0 && monotonic_ms() < deadline;)
		assert_true(sd_event_run(event, 50 * 1000) >= 0);
	assert_true(store_forward_counters(forward).failures >= 1);
	assert_false(store_forward_available(forward));

	store_forward_stop(forward);
	store_forward_free(forward);
	sd_event_unref(event);
	spool_close(spool);
	state_close(database);
}

/* The session is made from a setup whose strings are all freed right
 * after, with the config; it then tries a broker that is not there, and
 * keeps a message in its outbox. */
static void test_mqtt_outlives_the_config(void **state)
{
	struct fixture *fixture = *state;
	char mqtt_section[256], path[PATH_MAX];
	struct config config;
	struct mqtt *mqtt = NULL;
	sd_event *event = NULL;
	in_fixture(fixture, "tryggd.conf", fixture->path, sizeof(fixture->path));
	snprintf(mqtt_section, sizeof(mqtt_section),
	         "[gateway]\nid = arby-01\ndistrict = Årby\n[sensor.ljus]\ntype = light\ndriver = sim\n"
	         "[mqtt]\nuri = tcp://127.0.0.1:%d\nclient_id = mast-7\nkeepalive = 5\n",
	         closed_port());
	temp_tree_write(fixture->path, mqtt_section);
	load(fixture, &config);

	assert_int_equal(sd_event_new(&event), 0);
	in_fixture(fixture, "mqtt-buffer.db", path, sizeof(path));
	struct mqtt_setup setup = {
		.config = &config.mqtt,
		.client_id = strdup(config.mqtt.client_id),
		.outbox_path = strdup(path),
		.will_topic = strdup("trygghet/arby-01/status"),
		.will_payload = strdup("{\"state\":\"offline\"}"),
	};
	assert_int_equal(mqtt_new(event, &setup, &mqtt), 0);
	free((char *)setup.client_id);
	free((char *)setup.outbox_path);
	free((char *)setup.will_topic);
	free((char *)setup.will_payload);
	config_free(&config);

	assert_int_equal(mqtt_start(mqtt), 0);
	assert_int_equal(mqtt_publish(mqtt, "trygghet/arby-01/test", "{}", 1, false), 0);
	/* Past the first try and its backoff: the link connects again from
	 * its own copies. */
	for (int64_t deadline = monotonic_ms() + 1500; monotonic_ms() < deadline;)
		assert_true(sd_event_run(event, 50 * 1000) >= 0);
	assert_false(mqtt_connected(mqtt));
	assert_int_equal(mqtt_pending(mqtt), 1);

	mqtt_disconnect(mqtt, 100);
	mqtt_free(mqtt);
	sd_event_unref(event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mqtt_copy_outlives_the_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_influx_copy_outlives_the_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copies_of_defaults, setup, teardown),
		cmocka_unit_test(test_mqtt_copy_refuses_too_many_brokers),
		cmocka_unit_test_setup_teardown(test_mqtt_equal_sees_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_influx_equal_sees_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gateway_and_simulation_equal_see_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_forward_outlives_the_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mqtt_outlives_the_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
