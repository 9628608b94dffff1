/* config_copy.c — copies and comparisons of config sections, for a reload
 * (SIGHUP): a module that outlives the struct config it was made from keeps
 * its own copy of its section, and the daemon compares the sections of the
 * old config with the new one's to know what to restart.
 *
 * The strings of [mqtt] and [influx] are listed once, in mqtt_texts and
 * influx_texts: *_copy(), *_clear() (and through it config_free()) and
 * *_equal() all go through those tables, so a string added to a struct and
 * to its table is copied, freed and compared alike.  Scalars come along
 * with the struct in *_copy() and are compared one by one in *_equal(). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Every string of struct mqtt_config but the broker list: uris is an
 * array of its own, and uri an alias of uris[0]. */
static const size_t mqtt_texts[] = {
	offsetof(struct mqtt_config, topic_prefix),
	offsetof(struct mqtt_config, client_id),
	offsetof(struct mqtt_config, username),
	offsetof(struct mqtt_config, password_file),
	offsetof(struct mqtt_config, ca_file),
	offsetof(struct mqtt_config, ca_dir),
	offsetof(struct mqtt_config, cert_file),
	offsetof(struct mqtt_config, key_file),
	offsetof(struct mqtt_config, proxy),
};

/* Every string of struct influx_config. */
static const size_t influx_texts[] = {
	offsetof(struct influx_config, url),
	offsetof(struct influx_config, database),
	offsetof(struct influx_config, retention_policy),
	offsetof(struct influx_config, org),
	offsetof(struct influx_config, bucket),
	offsetof(struct influx_config, user),
	offsetof(struct influx_config, password_file),
	offsetof(struct influx_config, token_file),
	offsetof(struct influx_config, ca_file),
	offsetof(struct influx_config, proxy),
};

/* ---- strings at offsets ------------------------------------------------ */

static char **text_field(void *section, size_t offset)
{
	return (char **)((char *)section + offset);
}

static const char *text_value(const void *section, size_t offset)
{
	return *(char *const *)((const char *)section + offset);
}

/* NULL (not set) is equal only to NULL. */
static bool same_text(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static void forget_texts(void *section, const size_t offsets[], size_t count)
{
	for (size_t i = 0; i < count; i++)
		*text_field(section, offsets[i]) = NULL;
}

static void free_texts(void *section, const size_t offsets[], size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(*text_field(section, offsets[i]));
}

/* to's strings at offsets must be NULL: each one set is then to's own. */
static int copy_texts(const void *from, void *to, const size_t offsets[], size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *text = text_value(from, offsets[i]);
		if (!text)
			continue;
		char *copy = strdup(text);
		if (!copy)
			return -ENOMEM;
		*text_field(to, offsets[i]) = copy;
	}
	return 0;
}

static bool same_texts(const void *a, const void *b, const size_t offsets[], size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (!same_text(text_value(a, offsets[i]), text_value(b, offsets[i])))
			return false;
	return true;
}

/* ---- [mqtt] ------------------------------------------------------------ */

int mqtt_config_copy(const struct mqtt_config *from, struct mqtt_config *to)
{
	int r = -ENOMEM;
	/* The scalars come with the struct; every pointer is then cut loose
	 * before it is made anew, so that a failure half way frees nothing
	 * of from's. */
	*to = *from;
	forget_texts(to, mqtt_texts, COUNT(mqtt_texts));
	memset(to->uris, 0, sizeof(to->uris));
	to->uri = NULL;
	to->uri_count = 0;
	if (from->uri_count > MQTT_URIS_MAX) {
		r = -EINVAL;
		goto fail;
	}
	r = copy_texts(from, to, mqtt_texts, COUNT(mqtt_texts));
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	for (size_t i = 0; i < from->uri_count; i++) {
		to->uris[i] = strdup(from->uris[i]);
		if (!to->uris[i])
			goto fail;
		to->uri_count = i + 1;
	}
	to->uri = to->uri_count > 0 ? to->uris[0] : NULL;
	return 0;
fail:
	mqtt_config_clear(to);
	return r;
}

void mqtt_config_clear(struct mqtt_config *config)
{
	if (!config)
		return;
	free_texts(config, mqtt_texts, COUNT(mqtt_texts));
	for (size_t i = 0; i < config->uri_count && i < MQTT_URIS_MAX; i++)
		free(config->uris[i]);
	memset(config, 0, sizeof(*config));
}

bool mqtt_config_equal(const struct mqtt_config *a, const struct mqtt_config *b)
{
	/* uri is not compared on its own: it is uris[0]. */
	if (a->uri_count != b->uri_count)
		return false;
	for (size_t i = 0; i < a->uri_count && i < MQTT_URIS_MAX; i++)
		if (!same_text(a->uris[i], b->uris[i]))
			return false;
	return same_texts(a, b, mqtt_texts, COUNT(mqtt_texts)) &&
	       a->qos == b->qos &&
	       a->version == b->version &&
	       a->clean_session == b->clean_session &&
	       a->publish_readings == b->publish_readings &&
	       a->keepalive_s == b->keepalive_s &&
	       a->buffer_max == b->buffer_max &&
	       a->buffer_bytes == b->buffer_bytes &&
	       a->tls == b->tls &&
	       a->verify == b->verify &&
	       a->health_interval_ms == b->health_interval_ms &&
	       a->status_interval_ms == b->status_interval_ms;
}

/* ---- [influx] ---------------------------------------------------------- */

int influx_config_copy(const struct influx_config *from, struct influx_config *to)
{
	*to = *from;
	forget_texts(to, influx_texts, COUNT(influx_texts));
	int r = copy_texts(from, to, influx_texts, COUNT(influx_texts));
	if (r < 0)
		influx_config_clear(to);
	return r;
}

void influx_config_clear(struct influx_config *config)
{
	if (!config)
		return;
	free_texts(config, influx_texts, COUNT(influx_texts));
	memset(config, 0, sizeof(*config));
}

bool influx_config_equal(const struct influx_config *a, const struct influx_config *b)
{
	return same_texts(a, b, influx_texts, COUNT(influx_texts)) &&
	       a->api == b->api &&
	       a->tls_verify == b->tls_verify &&
	       a->gzip == b->gzip &&
	       a->verify == b->verify &&
	       a->timeout_s == b->timeout_s &&
	       a->batch_lines == b->batch_lines &&
	       a->flush_interval_ms == b->flush_interval_ms &&
	       a->spool_max_bytes == b->spool_max_bytes;
}

/* ---- [gateway] and [simulation] ---------------------------------------- */

bool gateway_config_equal(const struct gateway_config *a, const struct gateway_config *b)
{
	/* The coordinates are compared exactly: both come from the same
	 * parse of the same text, so an unchanged file gives the same bits. */
	return same_text(a->id, b->id) &&
	       same_text(a->district, b->district) &&
	       same_text(a->site, b->site) &&
	       a->window_s == b->window_s &&
	       same_text(a->state_dir, b->state_dir) &&
	       a->latitude == b->latitude &&
	       a->longitude == b->longitude &&
	       a->clock == b->clock;
}

bool simulation_config_equal(const struct simulation_config *a, const struct simulation_config *b)
{
	return a->start_ms == b->start_ms &&
	       a->speed == b->speed &&
	       a->end_ms == b->end_ms &&
	       same_text(a->profiles, b->profiles) &&
	       same_text(a->scenarios, b->scenarios) &&
	       a->drain_timeout_s == b->drain_timeout_s &&
	       a->clock_synchronised_at_ms == b->clock_synchronised_at_ms &&
	       a->clock_step_at_ms == b->clock_step_at_ms &&
	       a->clock_step_ms == b->clock_step_ms;
}
