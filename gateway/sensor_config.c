/* sensor_config.c — see sensor_config.h. */
#include <string.h>

#include "sensor_config.h"

const char *sensor_option(const struct sensor_config *sc, const char *key)
{
	for (size_t i = 0; i < sc->option_count; i++)
		if (strcmp(sc->options[i].key, key) == 0)
			return sc->options[i].value;
	return NULL;
}
