/* sim_profile.c — reads one district's profile from the profiles INI file
 * with inih.  The caller owns path, district, out and err; nothing is kept
 * after sim_profile_load() returns.  Only the requested section is
 * validated, so a typo in another district's profile does not stop this
 * one; every section name is collected to tell the user what exists. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "sim_profile.h"

enum key_kind { KEY_NUMBER, KEY_HOURS };

struct key_spec {
	const char *name;
	enum key_kind kind;
	size_t offset;          /* of the double (or first of 24) in struct sim_profile */
	double minimum, maximum;
};

static const struct key_spec key_specs[] = {
	{ "footfall_per_hour",    KEY_NUMBER, offsetof(struct sim_profile, footfall_per_hour),    0.0, 100000.0 },
	{ "weekday_hours",        KEY_HOURS,  offsetof(struct sim_profile, weekday_hours),        0.0, 100.0 },
	{ "weekend_hours",        KEY_HOURS,  offsetof(struct sim_profile, weekend_hours),        0.0, 100.0 },
	{ "saturday_factor",      KEY_NUMBER, offsetof(struct sim_profile, saturday_factor),      0.0, 10.0 },
	{ "sunday_factor",        KEY_NUMBER, offsetof(struct sim_profile, sunday_factor),        0.0, 10.0 },
	{ "dark_factor",          KEY_NUMBER, offsetof(struct sim_profile, dark_factor),          0.0, 2.0 },
	{ "day_variation",        KEY_NUMBER, offsetof(struct sim_profile, day_variation),        0.0, 0.5 },
	{ "in_share",             KEY_NUMBER, offsetof(struct sim_profile, in_share),             0.0, 1.0 },
	{ "night_lux",            KEY_NUMBER, offsetof(struct sim_profile, night_lux),            0.0, 1000.0 },
	{ "cloudiness",           KEY_NUMBER, offsetof(struct sim_profile, cloudiness),           0.0, 1.0 },
	{ "lamp_fault_per_night", KEY_NUMBER, offsetof(struct sim_profile, lamp_fault_per_night), 0.0, 1.0 },
};
#define KEY_COUNT (sizeof(key_specs) / sizeof(key_specs[0]))

/* inih in Debian is built without line numbers for handlers, so the reader
 * counts lines itself; the handler runs right after the line it concerns
 * was read, so the count is that line's number. */
struct line_reader {
	FILE *file;
	int line;
	bool at_line_start;
};

#define SECTION_LIST_MAX 32

struct load_context {
	const char *path;
	const char *district;
	struct line_reader reader;
	struct sim_profile profile;
	bool found;
	bool seen[KEY_COUNT];
	char error[256];          /* the first problem in the wanted section */
	char sections[SECTION_LIST_MAX][SIM_PROFILE_DISTRICT_MAX];
	size_t section_count;
};

static char *read_line(char *buffer, int size, void *stream)
{
	struct line_reader *reader = stream;
	char *got = fgets(buffer, size, reader->file);
	if (got) {
		if (reader->at_line_start)
			reader->line++;
		size_t length = strlen(got);
		reader->at_line_start = length > 0 && got[length - 1] == '\n';
	}
	return got;
}

static void remember_section(struct load_context *context, const char *section)
{
	for (size_t i = 0; i < context->section_count; i++)
		if (strcmp(context->sections[i], section) == 0)
			return;
	if (context->section_count == SECTION_LIST_MAX)
		return;
	snprintf(context->sections[context->section_count], SIM_PROFILE_DISTRICT_MAX, "%s", section);
	context->section_count++;
}

static bool parse_number(const char *text, double *out, const char **end_out)
{
	char *end;
	errno = 0;
	double value = strtod(text, &end);
	if (end == text || errno == ERANGE || !isfinite(value))
		return false;
	*out = value;
	*end_out = end;
	return true;
}

static bool is_blank(const char *text)
{
	for (; *text; text++)
		if (*text != ' ' && *text != '\t')
			return false;
	return true;
}

/* Writes the problem into context->error and returns 0, which is how inih
 * handlers report one; later problems keep the first message. */
static int key_error(struct load_context *context, const char *key, const char *message)
{
	if (context->error[0] == '\0')
		snprintf(context->error, sizeof(context->error), "%s:%d: [%s] %s: %s",
		         context->path, context->reader.line, context->district, key, message);
	return 0;
}

static int parse_key(struct load_context *context, const struct key_spec *spec, const char *value)
{
	double *target = (double *)((char *)&context->profile + spec->offset);
	char message[128];

	if (spec->kind == KEY_NUMBER) {
		double number;
		const char *end;
		if (!parse_number(value, &number, &end) || !is_blank(end))
			return key_error(context, spec->name, "not a number");
		if (number < spec->minimum || number > spec->maximum) {
			snprintf(message, sizeof(message), "%g is outside %g–%g",
			         number, spec->minimum, spec->maximum);
			return key_error(context, spec->name, message);
		}
		*target = number;
		return 1;
	}

	/* Hours: 24 numbers separated by spaces and/or commas, on one line. */
	const char *cursor = value;
	size_t count = 0;
	for (;;) {
		while (*cursor == ' ' || *cursor == '\t' || *cursor == ',')
			cursor++;
		if (*cursor == '\0')
			break;
		double number;
		const char *end;
		if (!parse_number(cursor, &number, &end))
			return key_error(context, spec->name, "expected 24 numbers separated by spaces");
		if (count == SIM_PROFILE_HOURS)
			return key_error(context, spec->name, "more than 24 hourly weights");
		if (number < spec->minimum || number > spec->maximum) {
			snprintf(message, sizeof(message), "weight for hour %zu, %g, is outside %g–%g",
			         count, number, spec->minimum, spec->maximum);
			return key_error(context, spec->name, message);
		}
		target[count++] = number;
		cursor = end;
	}
	if (count != SIM_PROFILE_HOURS) {
		snprintf(message, sizeof(message), "%zu hourly weights, expected 24 (00–01 … 23–24)", count);
		return key_error(context, spec->name, message);
	}
	return 1;
}

static int handle_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_context *context = user;

	remember_section(context, section);
	if (strcmp(section, context->district) != 0)
		return 1;
	context->found = true;

	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(key_specs[i].name, name) != 0)
			continue;
		if (context->seen[i])
			return key_error(context, name, "given twice");
		context->seen[i] = true;
		return parse_key(context, &key_specs[i], value ? value : "");
	}
	return key_error(context, name, "unknown key");
}

static void list_sections(const struct load_context *context, char *list, size_t list_size)
{
	size_t used = 0;
	list[0] = '\0';
	for (size_t i = 0; i < context->section_count && used < list_size; i++) {
		int written = snprintf(list + used, list_size - used, "%s%s",
		                       i ? ", " : "", context->sections[i]);
		if (written < 0)
			break;
		used += (size_t)written;
	}
	if (context->section_count == 0)
		snprintf(list, list_size, "none");
}

int sim_profile_load(const char *path, const char *district, struct sim_profile *out,
                     char *err, size_t err_size)
{
	struct load_context *context = NULL;
	FILE *file = NULL;
	int result = 0;

	if (!path || !district || !out) {
		snprintf(err, err_size, "sim profile: no file or district given");
		return -EINVAL;
	}
	if (strlen(district) >= SIM_PROFILE_DISTRICT_MAX) {
		snprintf(err, err_size, "sim profile: district name longer than %d bytes",
		         SIM_PROFILE_DISTRICT_MAX - 1);
		return -EINVAL;
	}

	/* The context holds the section list; too big to put on a thread's stack lightly. */
	context = calloc(1, sizeof(*context));
	if (!context) {
		snprintf(err, err_size, "sim profile: out of memory");
		return -ENOMEM;
	}
	context->path = path;
	context->district = district;
	context->reader.at_line_start = true;

	file = fopen(path, "r");
	if (!file) {
		result = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	context->reader.file = file;

	int parsed = ini_parse_stream(read_line, &context->reader, handle_entry, context);
	if (ferror(file)) {
		result = -EIO;
		snprintf(err, err_size, "%s: read error", path);
		goto out;
	}
	if (parsed == -2) {
		result = -ENOMEM;
		snprintf(err, err_size, "%s: out of memory while parsing", path);
		goto out;
	}
	if (context->error[0] != '\0') {
		result = -EINVAL;
		snprintf(err, err_size, "%s", context->error);
		goto out;
	}
	if (parsed > 0) {
		result = -EINVAL;
		snprintf(err, err_size, "%s:%d: not valid INI (expected [district] or key = value)",
		         path, parsed);
		goto out;
	}
	if (!context->found) {
		char known[192];
		list_sections(context, known, sizeof(known));
		result = -ENOENT;
		/* The list before the path: a long path may be cut, the list is the useful part. */
		snprintf(err, err_size, "no profile for district \"%s\" (known: %s) in %s",
		         district, known, path);
		goto out;
	}
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (!context->seen[i]) {
			result = -EINVAL;
			snprintf(err, err_size, "%s: [%s] lacks key %s", path, district, key_specs[i].name);
			goto out;
		}
	}

	snprintf(context->profile.district, sizeof(context->profile.district), "%s", district);
	*out = context->profile;

out:
	if (file)
		fclose(file);
	free(context);
	return result;
}
