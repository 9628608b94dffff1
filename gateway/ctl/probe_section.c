/* probe_section.c — the [sensor.NAME] sections `tryggctl probe` prints:
 * a name that is unique among them and fits the config's rules
 * ([a-z0-9_-]{1,32}), and the section itself, written only once its
 * driver's check_option() and check_sensor() have taken it, so that what
 * probe prints is what tryggd --check accepts.
 *
 * The names so far and the sections stream belong to struct probe
 * (probe.c); a struct section and its keys and values belong to the
 * caller. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_internal.h"
#include "slug.h"

#define SLUG_SIZE 512           /* a device name as a slug, before it is cut to fit */
#define SUFFIX_MAX 16           /* bytes of a name's suffix (a channel, a line, an address) */

static bool name_taken(const struct probe *probe, const char *name)
{
	for (size_t i = 0; i < probe->name_count; i++)
		if (strcmp(probe->names[i], name) == 0)
			return true;
	return false;
}

/* A slug of text cut to at most limit bytes, without a '-' at the cut;
 * fallback when text has no letter or digit. */
static void cut_slug(const char *text, size_t limit, const char *fallback, char *out, size_t out_size)
{
	char slug[SLUG_SIZE];
	if (slug_make(text, slug, sizeof(slug)) < 0)
		snprintf(slug, sizeof(slug), "%s", fallback);
	size_t length = strnlen(slug, limit < out_size ? limit : out_size - 1);
	while (length > 1 && slug[length - 1] == '-')
		length--;
	memcpy(out, slug, length);
	out[length] = '\0';
}

/* base and suffix as slugs joined by '-', base cut so that the name fits
 * in 32 bytes, and "-2", "-3"... added when the name is taken.  The name
 * is kept as taken even if the driver then refuses the section: a name
 * that comes and goes would only make the output harder to follow. */
static int make_name(struct probe *probe, const char *base, const char *suffix, char name[PROBE_NAME_SIZE])
{
	char base_slug[PROBE_NAME_SIZE], suffix_slug[SUFFIX_MAX + 1] = "", candidate[PROBE_NAME_SIZE];
	cut_slug(base, PROBE_NAME_SIZE - 1, "sensor", base_slug, sizeof(base_slug));
	if (suffix)
		cut_slug(suffix, SUFFIX_MAX, "channel", suffix_slug, sizeof(suffix_slug));
	for (unsigned number = 1;; number++) {
		char tail[16] = "";
		if (number > 1)
			snprintf(tail, sizeof(tail), "-%u", number);
		size_t fixed = (suffix ? strlen(suffix_slug) + 1 : 0) + strlen(tail);
		size_t length = strlen(base_slug);
		if (length > PROBE_NAME_SIZE - 1 - fixed)
			length = PROBE_NAME_SIZE - 1 - fixed;
		while (length > 1 && base_slug[length - 1] == '-')
			length--;
		memcpy(candidate, base_slug, length);
		candidate[length] = '\0';
		if (suffix) {
			strcat(candidate, "-");
			strcat(candidate, suffix_slug);
		}
		strcat(candidate, tail);
		if (!name_taken(probe, candidate))
			break;
	}
	if (probe->name_count == probe->name_capacity) {
		size_t capacity = probe->name_capacity ? 2 * probe->name_capacity : 16;
		char(*grown)[PROBE_NAME_SIZE] = realloc(probe->names, capacity * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		probe->names = grown;
		probe->name_capacity = capacity;
	}
	snprintf(probe->names[probe->name_count++], PROBE_NAME_SIZE, "%s", candidate);
	snprintf(name, PROBE_NAME_SIZE, "%s", candidate);
	return 0;
}

void probe_section_option(struct section *section, const char *key, const char *value)
{
	if (section->option_count < PROBE_OPTIONS_MAX)
		section->options[section->option_count++] = (struct sensor_option){
			.key = (char *)key, .value = (char *)value,
		};
}

void probe_section_comment(struct section *section, const char *format, ...)
{
	size_t used = strlen(section->comment);
	if (used + 3 >= sizeof(section->comment))
		return;
	memcpy(section->comment + used, "# ", 2);
	used += 2;
	va_list arguments;
	va_start(arguments, format);
	/* One byte kept back for the '\n' that ends the line. */
	vsnprintf(section->comment + used, sizeof(section->comment) - used - 1, format, arguments);
	va_end(arguments);
	strcat(section->comment, "\n");
}

/* Whether the driver takes the section as it stands: every option, then
 * the section as a whole.  A refusal is this program's mistake, not the
 * board's, and is shown so rather than printed as a section that fails. */
static bool section_accepted(struct probe *probe, const struct section *section, const char *name)
{
	char message[256] = "";
	const struct driver_ops *driver = section->driver;
	for (size_t i = 0; i < section->option_count; i++) {
		const struct sensor_option *option = &section->options[i];
		if (driver->check_option(section->type, option->key, option->value, message, sizeof(message)) < 0) {
			probe_problem(probe, 4, "no section %s: driver %s refuses %s = %s (%s)", name, driver->name,
			              option->key, option->value, message);
			return false;
		}
	}
	struct sensor_config config = {
		.name = (char *)name, .type = section->type, .driver = (char *)driver->name, .interval_s = 5,
		.dark_lux = 10, .options = (struct sensor_option *)section->options,
		.option_count = section->option_count,
	};
	if (driver->check_sensor && driver->check_sensor(&config, message, sizeof(message)) < 0) {
		probe_problem(probe, 4, "no section %s: driver %s refuses it (%s)", name, driver->name, message);
		return false;
	}
	return true;
}

int probe_section_write(struct probe *probe, const struct section *section, const char *base, const char *suffix)
{
	char name[PROBE_NAME_SIZE];
	int result = make_name(probe, base, suffix, name);
	if (result < 0)
		return result;
	if (!section_accepted(probe, section, name))
		return 0;
	/* A template's header is commented out with its keys: pasted as it
	 * stands, a bare [sensor.NAME] without type and driver would make
	 * the whole configuration invalid. */
	const char *mark = section->commented_out ? "#" : "";
	fprintf(probe->sections, "%s%s%s[sensor.%s]\n", probe->section_count ? "\n" : "", section->comment, mark,
	        name);
	fprintf(probe->sections, "%stype = %s\n", mark, sensor_type_name(section->type));
	fprintf(probe->sections, "%sdriver = %s\n", mark, section->driver->name);
	for (size_t i = 0; i < section->option_count; i++)
		fprintf(probe->sections, "%s%s = %s\n", mark, section->options[i].key, section->options[i].value);
	probe->section_count++;
	return 0;
}
