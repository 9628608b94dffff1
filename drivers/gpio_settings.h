/* gpio_settings.h — the gpio driver's options: every key checked alone
 * (check_option) and together (check_sensor), and read into one struct
 * that open() uses, so that open() never trusts a config that bypassed the
 * check.  Kept apart from gpio.c, which talks to the kernel.
 *
 * A struct gpio_settings borrows its strings from the sensor's
 * configuration: it is valid during the check or open() only. */
#ifndef TRYGGD_GPIO_SETTINGS_H
#define TRYGGD_GPIO_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor_config.h"

struct line_spec {
	bool given;
	bool is_offset;
	unsigned offset;
	const char *text;        /* borrowed from the config during check or open only */
};

struct gpio_settings {
	const char *chip;        /* NULL: lines are found by name on any chip */
	struct line_spec line, line_b;
	bool active_low;
	int bias_flags;
	bool pir;
	int64_t debounce_ms;
	bool has_crossing;
	int64_t crossing_ms;
};

/* Check one option of a gpio sensor of this type: 0, -ENOENT for a key
 * that is not the driver's, -EINVAL with a message in err. */
int gpio_check_option(enum sensor_type type, const char *key, const char *value, char *err, size_t err_size);
/* Every option of sc, checked one by one and together, into *out: 0 or
 * -EINVAL with a message in err. */
int gpio_read_settings(const struct sensor_config *sc, struct gpio_settings *out, char *err, size_t err_size);
int gpio_check_sensor(const struct sensor_config *sc, char *err, size_t err_size);

#endif
