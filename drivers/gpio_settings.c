/* gpio_settings.c — see gpio_settings.h. */
#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <string.h>

#include "gpio_settings.h"
#include "parse.h"

/* v1 line names are 32 bytes with the terminating NUL. */
#define LINE_NAME_MAX 31
#define LINE_OFFSET_MAX 65535
#define CHIP_TEXT_MAX 255
#define DEBOUNCE_BEAM_MS 10
#define DEBOUNCE_PIR_MS 2000
#define DEBOUNCE_LAMP_MS 50
#define DEBOUNCE_MAX_MS 60000
#define CROSSING_DEFAULT_MS 5000
#define CROSSING_MIN_MS 1
#define CROSSING_MAX_MS 60000
static bool all_digits(const char *text)
{
	if (*text == '\0')
		return false;
	for (; *text; text++)
		if (*text < '0' || *text > '9')
			return false;
	return true;
}

/* A line name as boards and gpio-sim give them: GPIO17, SPI_CE1_N,
 * P9_12, "beam a".  Not starting like a number, so that "17x" or "-1" is
 * taken for the typo it is. */
static bool valid_line_name(const char *text)
{
	size_t length = strlen(text);
	if (length == 0 || length > LINE_NAME_MAX)
		return false;
	unsigned char first = (unsigned char)text[0];
	if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == ' ' ||
	    text[length - 1] == ' ')
		return false;
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F)
			return false;
	return true;
}

static bool parse_line_spec(const char *text, struct line_spec *out)
{
	if (!text)
		return false;
	if (all_digits(text)) {
		long offset;
		if (!parse_integer(text, 0, LINE_OFFSET_MAX, &offset))
			return false;
		*out = (struct line_spec){ .given = true, .is_offset = true, .offset = (unsigned)offset, .text = text };
		return true;
	}
	if (!valid_line_name(text))
		return false;
	*out = (struct line_spec){ .given = true, .is_offset = false, .text = text };
	return true;
}

static bool valid_chip(const char *text)
{
	size_t length = text ? strlen(text) : 0;
	if (length == 0 || length > CHIP_TEXT_MAX)
		return false;
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F)
			return false;
	/* libgpiod opens paths under /dev only; anything else is a name or label. */
	return text[0] != '/' || strncmp(text, "/dev/", 5) == 0;
}

static bool parse_bias(const char *text, int *flags)
{
	static const struct {
		const char *name;
		int flags;
	} biases[] = {
		{ "as-is", 0 },
		{ "disable", GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE },
		{ "pull-up", GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP },
		{ "pull-down", GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN },
	};
	for (size_t i = 0; text && i < sizeof(biases) / sizeof(biases[0]); i++) {
		if (strcmp(text, biases[i].name) == 0) {
			*flags = biases[i].flags;
			return true;
		}
	}
	return false;
}

static bool parse_detector(const char *text, bool *pir)
{
	if (text && strcmp(text, "beam") == 0) {
		*pir = false;
		return true;
	}
	if (text && strcmp(text, "pir") == 0) {
		*pir = true;
		return true;
	}
	return false;
}

static const char LINE_MESSAGE[] =
	"must be a line offset (a whole number from 0 to 65535, such as 17) or a line name "
	"(such as GPIO17; up to 31 characters, not starting with a digit or sign)";

int gpio_check_option(enum sensor_type type, const char *key, const char *value,
                             char *err, size_t err_size)
{
	struct line_spec spec;
	bool flag;
	int flags;
	int64_t ms;

	if (strcmp(key, "chip") == 0) {
		if (!valid_chip(value)) {
			snprintf(err, err_size, "chip must name a GPIO chip by its name (gpiochip0), label "
			         "(pinctrl-bcm2711), path under /dev (/dev/gpiochip0) or number (0)");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "line") == 0) {
		if (!parse_line_spec(value, &spec)) {
			snprintf(err, err_size, "line %s", LINE_MESSAGE);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "line_b") == 0) {
		if (type != SENSOR_FOOTFALL) {
			snprintf(err, err_size, "line_b applies only to footfall sensors (the second beam of a dual beam)");
			return -EINVAL;
		}
		if (!parse_line_spec(value, &spec)) {
			snprintf(err, err_size, "line_b %s", LINE_MESSAGE);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "active_low") == 0) {
		if (!value || !parse_boolean(value, &flag)) {
			snprintf(err, err_size, "active_low must be yes or no");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "bias") == 0) {
		if (!parse_bias(value, &flags)) {
			snprintf(err, err_size, "bias must be as-is, disable, pull-up or pull-down");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "detector") == 0) {
		if (type != SENSOR_FOOTFALL) {
			snprintf(err, err_size, "detector applies only to footfall sensors");
			return -EINVAL;
		}
		if (!parse_detector(value, &flag)) {
			snprintf(err, err_size, "detector must be beam or pir");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "debounce") == 0) {
		if (!value || !parse_duration_ms(value, 0, DEBOUNCE_MAX_MS, &ms)) {
			snprintf(err, err_size, "debounce must be a duration from 0 to 60s in whole milliseconds, "
			         "such as 10ms, 2s or 1.5s");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "crossing") == 0) {
		if (type != SENSOR_FOOTFALL) {
			snprintf(err, err_size, "crossing applies only to footfall sensors with two beams (line_b)");
			return -EINVAL;
		}
		if (!value || !parse_duration_ms(value, CROSSING_MIN_MS, CROSSING_MAX_MS, &ms)) {
			snprintf(err, err_size, "crossing must be a duration from 1ms to 60s in whole milliseconds, "
			         "such as 5s");
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

int gpio_read_settings(const struct sensor_config *sc, struct gpio_settings *out, char *err, size_t err_size)
{
	static const char *const keys[] = { "chip", "line", "line_b", "active_low", "bias", "detector",
	                                    "debounce", "crossing" };
	memset(out, 0, sizeof(*out));

	if (sc->type != SENSOR_FOOTFALL && sc->type != SENSOR_LAMP) {
		snprintf(err, err_size, "the gpio driver serves footfall and lamp sensors only");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *value = sensor_option(sc, keys[i]);
		if (value) {
			int result = gpio_check_option(sc->type, keys[i], value, err, err_size);
			if (result < 0)
				return result;
		}
	}

	const char *text;
	out->chip = sensor_option(sc, "chip");
	if ((text = sensor_option(sc, "line")))
		parse_line_spec(text, &out->line);
	if ((text = sensor_option(sc, "line_b")))
		parse_line_spec(text, &out->line_b);
	if ((text = sensor_option(sc, "active_low")))
		parse_boolean(text, &out->active_low);
	if ((text = sensor_option(sc, "bias")))
		parse_bias(text, &out->bias_flags);
	if ((text = sensor_option(sc, "detector")))
		parse_detector(text, &out->pir);

	out->debounce_ms = sc->type == SENSOR_LAMP ? DEBOUNCE_LAMP_MS : out->pir ? DEBOUNCE_PIR_MS : DEBOUNCE_BEAM_MS;
	if ((text = sensor_option(sc, "debounce")))
		parse_duration_ms(text, 0, DEBOUNCE_MAX_MS, &out->debounce_ms);
	out->crossing_ms = CROSSING_DEFAULT_MS;
	if ((text = sensor_option(sc, "crossing"))) {
		out->has_crossing = true;
		parse_duration_ms(text, CROSSING_MIN_MS, CROSSING_MAX_MS, &out->crossing_ms);
	}

	if (!out->line.given && out->line_b.given) {
		snprintf(err, err_size, "line_b is the second beam of a dual beam: give the first beam as line too");
		return -EINVAL;
	}
	if (!out->line.given) {
		snprintf(err, err_size, "the gpio driver needs line: the offset (such as 17) or name (such as "
		         "GPIO17) of the input the sensor is wired to");
		return -EINVAL;
	}
	if (out->line_b.given && out->pir) {
		snprintf(err, err_size, "line_b makes a dual beam, which a PIR cannot be: remove line_b or "
		         "set detector = beam");
		return -EINVAL;
	}
	if (out->has_crossing && !out->line_b.given) {
		snprintf(err, err_size, "crossing applies only to a dual beam: add line_b or remove crossing");
		return -EINVAL;
	}
	if (!out->chip && out->line.is_offset) {
		snprintf(err, err_size, "line %u is an offset, which needs chip (such as chip = gpiochip0); "
		         "without chip, line must be a line name", out->line.offset);
		return -EINVAL;
	}
	if (!out->chip && out->line_b.given && out->line_b.is_offset) {
		snprintf(err, err_size, "line_b %u is an offset, which needs chip (such as chip = gpiochip0); "
		         "without chip, line_b must be a line name", out->line_b.offset);
		return -EINVAL;
	}
	/* "17" and "017" are one offset. */
	bool same_offset = out->line.is_offset && out->line_b.is_offset && out->line.offset == out->line_b.offset;
	if (out->line_b.given && (same_offset || strcmp(out->line.text, out->line_b.text) == 0)) {
		snprintf(err, err_size, "line_b must be another line than line");
		return -EINVAL;
	}
	return 0;
}

int gpio_check_sensor(const struct sensor_config *sc, char *err, size_t err_size)
{
	struct gpio_settings settings;
	return gpio_read_settings(sc, &settings, err, err_size);
}
