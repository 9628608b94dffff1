/* registry.c — the table of drivers built into tryggd. */
#include <string.h>

#include "driver.h"

static const struct driver_ops *const drivers[] = {
	&sim_driver,
	&gpio_driver,
	&bh1750_driver,
	&iio_driver,
	&replay_driver,
};

const struct driver_ops *driver_find(const char *name)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}

const struct driver_ops *const *driver_all(size_t *count)
{
	*count = sizeof(drivers) / sizeof(drivers[0]);
	return drivers;
}
