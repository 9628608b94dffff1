/* sensor_config.c — see sensor_config.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sensor_config.h"

const char *sensor_option(const struct sensor_config *sc, const char *key)
{
	for (size_t i = 0; i < sc->option_count; i++)
		if (strcmp(sc->options[i].key, key) == 0)
			return sc->options[i].value;
	return NULL;
}

/* A copy of text into *to; NULL stays NULL.  false when out of memory. */
static bool copy_text(const char *text, char **to)
{
	*to = text ? strdup(text) : NULL;
	return !text || *to;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

int sensor_config_copy(const struct sensor_config *from, struct sensor_config *to)
{
	*to = *from;
	to->name = to->driver = to->light = NULL;
	to->options = NULL;
	to->option_count = 0;
	if (!copy_text(from->name, &to->name) || !copy_text(from->driver, &to->driver) ||
	    !copy_text(from->light, &to->light))
		goto fail;
	if (from->option_count > 0) {
		to->options = calloc(from->option_count, sizeof(*to->options));
		if (!to->options)
			goto fail;
	}
	/* Counted as they are filled, so a failure clears exactly those. */
	for (size_t i = 0; i < from->option_count; i++) {
		struct sensor_option *option = &to->options[i];
		option->line = from->options[i].line;
		to->option_count++;
		if (!copy_text(from->options[i].key, &option->key) || !copy_text(from->options[i].value, &option->value))
			goto fail;
	}
	return 0;
fail:
	sensor_config_clear(to);
	return -ENOMEM;
}

void sensor_config_clear(struct sensor_config *sc)
{
	free(sc->name);
	free(sc->driver);
	free(sc->light);
	for (size_t i = 0; i < sc->option_count; i++) {
		free(sc->options[i].key);
		free(sc->options[i].value);
	}
	free(sc->options);
	*sc = (struct sensor_config){ 0 };
}

static bool same_alerts(const struct sensor_alerts *a, const struct sensor_alerts *b)
{
	return a->stuck_ms == b->stuck_ms && a->busy_from_hour == b->busy_from_hour &&
	       a->busy_to_hour == b->busy_to_hour && a->blocked_ms == b->blocked_ms &&
	       a->covered_lux == b->covered_lux && a->covered_ms == b->covered_ms &&
	       a->lamp_fault_ms == b->lamp_fault_ms;
}

bool sensor_config_equal(const struct sensor_config *a, const struct sensor_config *b)
{
	if (!same_text(a->name, b->name) || a->type != b->type || !same_text(a->driver, b->driver) ||
	    a->interval_s != b->interval_s || a->dark_lux != b->dark_lux || !same_text(a->light, b->light) ||
	    !same_alerts(&a->alerts, &b->alerts) || a->option_count != b->option_count)
		return false;
	/* Keys are unique within a section (config_load refuses a repeated
	 * one), so the same count and every key of a found in b with the same
	 * value is the same set. */
	for (size_t i = 0; i < a->option_count; i++)
		if (!same_text(a->options[i].value, sensor_option(b, a->options[i].key)))
			return false;
	return true;
}
