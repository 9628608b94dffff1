/* sim_profile.c — reads district profiles from the profiles INI file with
 * inih, and the profile keys of a scenario.  The caller owns path, district,
 * out and err; nothing is kept after a call returns.  Loading one district
 * judges only its section, so a typo in another district's profile does not
 * stop this one; every section name is collected to tell the user what
 * exists.  Loading all judges every section. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "parse.h"
#include "sim_profile.h"

enum key_kind { KEY_NUMBER, KEY_HOURS, KEY_MONTHS, KEY_YES_NO };

/* Where a key may be written. */
enum key_use {
	KEY_REQUIRED,        /* every profile gives it; scenarios may change it */
	KEY_OPTIONAL,        /* profiles may give it (else its default); scenarios may change it */
	KEY_PROFILE_ONLY,    /* profiles may give it; a scenario may not (where a district lies) */
	KEY_SCENARIO_ONLY,   /* only scenarios (a lamp forced out) */
};

struct key_spec {
	const char *name;
	enum key_kind kind;
	enum key_use use;
	size_t offset;          /* of the double (or first of 24 or 12), or the bool, in struct sim_profile */
	double minimum, maximum;
};

#define AT(field) offsetof(struct sim_profile, field)

/* The order is the bit order of struct sim_profile_changes: append only. */
static const struct key_spec key_specs[] = {
	{ "footfall_per_hour",    KEY_NUMBER, KEY_REQUIRED,      AT(footfall_per_hour),    0.0, 100000.0 },
	{ "weekday_hours",        KEY_HOURS,  KEY_REQUIRED,      AT(weekday_hours),        0.0, 100.0 },
	{ "weekend_hours",        KEY_HOURS,  KEY_REQUIRED,      AT(weekend_hours),        0.0, 100.0 },
	{ "saturday_factor",      KEY_NUMBER, KEY_REQUIRED,      AT(saturday_factor),      0.0, 10.0 },
	{ "sunday_factor",        KEY_NUMBER, KEY_REQUIRED,      AT(sunday_factor),        0.0, 10.0 },
	{ "dark_factor",          KEY_NUMBER, KEY_REQUIRED,      AT(dark_factor),          0.0, 2.0 },
	{ "day_variation",        KEY_NUMBER, KEY_REQUIRED,      AT(day_variation),        0.0, 0.5 },
	{ "in_share",             KEY_NUMBER, KEY_REQUIRED,      AT(in_share),             0.0, 1.0 },
	{ "night_lux",            KEY_NUMBER, KEY_REQUIRED,      AT(night_lux),            0.0, 1000.0 },
	{ "cloudiness",           KEY_NUMBER, KEY_REQUIRED,      AT(cloudiness),           0.0, 1.0 },
	{ "lamp_fault_per_night", KEY_NUMBER, KEY_REQUIRED,      AT(lamp_fault_per_night), 0.0, 1.0 },
	{ "lamp_lux",             KEY_NUMBER, KEY_OPTIONAL,      AT(lamp_lux),             0.0, 1000.0 },
	{ "month_factors",        KEY_MONTHS, KEY_OPTIONAL,      AT(month_factors),        0.0, 10.0 },
	{ "holiday_factor",       KEY_NUMBER, KEY_OPTIONAL,      AT(holiday_factor),       0.0, 10.0 },
	{ "events_per_year",      KEY_NUMBER, KEY_OPTIONAL,      AT(events_per_year),      0.0, 366.0 },
	{ "event_factor",         KEY_NUMBER, KEY_OPTIONAL,      AT(event_factor),         0.0, 20.0 },
	{ "latitude",             KEY_NUMBER, KEY_PROFILE_ONLY,  AT(latitude),             -90.0, 90.0 },
	{ "longitude",            KEY_NUMBER, KEY_PROFILE_ONLY,  AT(longitude),            -180.0, 180.0 },
	{ "lamp_out",             KEY_YES_NO, KEY_SCENARIO_ONLY, AT(lamp_out),             0.0, 0.0 },
};
#define KEY_COUNT (sizeof(key_specs) / sizeof(key_specs[0]))
_Static_assert(KEY_COUNT <= 32, "struct sim_profile_changes has 32 bits of keys");

/* What the optional keys are when a profile leaves them out: the district
 * behaves as before they existed (no season, no events, lamps that the
 * light sensor does not see); holidays follow the Sunday curve. */
static void profile_defaults(struct sim_profile *profile)
{
	memset(profile, 0, sizeof(*profile));
	for (int month = 0; month < SIM_PROFILE_MONTHS; month++)
		profile->month_factors[month] = 1.0;
	profile->holiday_factor = 1.0;
	profile->event_factor = 1.0;
	profile->latitude = NAN;
	profile->longitude = NAN;
}

/* ---- values ---------------------------------------------------------------- */

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

/* Parse value for spec into the profile; false with a message. */
static bool parse_value(const struct key_spec *spec, const char *value, struct sim_profile *profile,
                        char *message, size_t message_size)
{
	if (spec->kind == KEY_YES_NO) {
		bool *flag = (bool *)((char *)profile + spec->offset);
		if (!parse_boolean(value, flag)) {
			snprintf(message, message_size, "expected yes or no");
			return false;
		}
		return true;
	}

	double *target = (double *)((char *)profile + spec->offset);
	if (spec->kind == KEY_NUMBER) {
		double number;
		const char *end;
		if (!parse_number(value, &number, &end) || !is_blank(end)) {
			snprintf(message, message_size, "not a number");
			return false;
		}
		if (number < spec->minimum || number > spec->maximum) {
			snprintf(message, message_size, "%g is outside %g–%g", number, spec->minimum, spec->maximum);
			return false;
		}
		*target = number;
		return true;
	}

	/* 24 hourly weights or 12 monthly factors, separated by spaces and/or
	 * commas, on one line. */
	size_t expected = spec->kind == KEY_HOURS ? SIM_PROFILE_HOURS : SIM_PROFILE_MONTHS;
	const char *what = spec->kind == KEY_HOURS ? "hourly weights" : "monthly factors";
	const char *order = spec->kind == KEY_HOURS ? "00–01 … 23–24" : "January … December";
	double numbers[SIM_PROFILE_HOURS];
	const char *cursor = value;
	size_t count = 0;
	for (;;) {
		while (*cursor == ' ' || *cursor == '\t' || *cursor == ',')
			cursor++;
		if (*cursor == '\0')
			break;
		double number;
		const char *end;
		if (!parse_number(cursor, &number, &end)) {
			snprintf(message, message_size, "expected %zu numbers separated by spaces", expected);
			return false;
		}
		if (count == expected) {
			snprintf(message, message_size, "more than %zu %s", expected, what);
			return false;
		}
		if (number < spec->minimum || number > spec->maximum) {
			snprintf(message, message_size, "%s %zu, %g, is outside %g–%g",
			         spec->kind == KEY_HOURS ? "weight for hour" : "factor for month",
			         spec->kind == KEY_HOURS ? count : count + 1, number, spec->minimum, spec->maximum);
			return false;
		}
		numbers[count++] = number;
		cursor = end;
	}
	if (count != expected) {
		snprintf(message, message_size, "%zu %s, expected %zu (%s)", count, what, expected, order);
		return false;
	}
	memcpy(target, numbers, expected * sizeof(*target));
	return true;
}

static size_t value_size(const struct key_spec *spec)
{
	switch (spec->kind) {
	case KEY_HOURS:
		return SIM_PROFILE_HOURS * sizeof(double);
	case KEY_MONTHS:
		return SIM_PROFILE_MONTHS * sizeof(double);
	case KEY_YES_NO:
		return sizeof(bool);
	case KEY_NUMBER:
		break;
	}
	return sizeof(double);
}

static const struct key_spec *find_key(const char *name, size_t *index)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(key_specs[i].name, name) == 0) {
			*index = i;
			return &key_specs[i];
		}
	}
	return NULL;
}

int sim_profile_change(struct sim_profile_changes *changes, const char *key, const char *value,
                       char *err, size_t err_size)
{
	size_t index;
	const struct key_spec *spec = find_key(key, &index);
	if (!spec || spec->use == KEY_PROFILE_ONLY)
		return -ENOENT;
	if (changes->keys & (UINT32_C(1) << index)) {
		snprintf(err, err_size, "given twice");
		return -EEXIST;
	}
	if (!parse_value(spec, value ? value : "", &changes->values, err, err_size))
		return -EINVAL;
	changes->keys |= UINT32_C(1) << index;
	return 0;
}

void sim_profile_apply(struct sim_profile *profile, const struct sim_profile_changes *changes)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (changes->keys & (UINT32_C(1) << i))
			memcpy((char *)profile + key_specs[i].offset, (const char *)&changes->values + key_specs[i].offset,
			       value_size(&key_specs[i]));
}

/* ---- the file ------------------------------------------------------------------ */

/* inih in Debian is built without line numbers for handlers, so the reader
 * counts lines itself; the handler runs right after the line it concerns
 * was read, so the count is that line's number. */
struct line_reader {
	FILE *file;
	int line;
	bool at_line_start;
};

#define SECTION_LIST_MAX 32

/* One section being read. */
struct section_entry {
	struct sim_profile profile;
	bool seen[KEY_COUNT];
};

struct load_context {
	const char *path;
	const char *district;     /* the one wanted, or NULL: every section */
	struct line_reader reader;
	struct section_entry *entries;
	size_t entry_count, entry_capacity;
	bool out_of_memory;
	char error[256];          /* the first problem in a wanted section */
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

/* Writes the problem into context->error and returns 0, which is how inih
 * handlers report one; later problems keep the first message. */
static int key_error(struct load_context *context, const char *section, const char *key, const char *message)
{
	if (context->error[0] == '\0')
		snprintf(context->error, sizeof(context->error), "%s:%d: [%s] %s: %s",
		         context->path, context->reader.line, section, key, message);
	return 0;
}

/* The entry of a wanted section, made on its first key; NULL when the
 * section is not wanted or memory ran out (then out_of_memory). */
static struct section_entry *wanted_entry(struct load_context *context, const char *section)
{
	if (context->district && strcmp(section, context->district) != 0)
		return NULL;
	for (size_t i = 0; i < context->entry_count; i++)
		if (strcmp(context->entries[i].profile.district, section) == 0)
			return &context->entries[i];
	if (context->entry_count == context->entry_capacity) {
		size_t capacity = context->entry_capacity ? 2 * context->entry_capacity : 8;
		struct section_entry *grown = realloc(context->entries, capacity * sizeof(*grown));
		if (!grown) {
			context->out_of_memory = true;
			return NULL;
		}
		context->entries = grown;
		context->entry_capacity = capacity;
	}
	struct section_entry *entry = &context->entries[context->entry_count++];
	memset(entry, 0, sizeof(*entry));
	profile_defaults(&entry->profile);
	snprintf(entry->profile.district, sizeof(entry->profile.district), "%s", section);
	return entry;
}

static int handle_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_context *context = user;
	char message[128];

	remember_section(context, section);
	if (strlen(section) >= SIM_PROFILE_DISTRICT_MAX) {
		if (!context->district)
			return key_error(context, section, name, "district name too long");
		return 1;
	}
	struct section_entry *entry = wanted_entry(context, section);
	if (!entry)
		return context->out_of_memory ? 0 : 1;

	size_t index;
	const struct key_spec *spec = find_key(name, &index);
	if (!spec)
		return key_error(context, section, name, "unknown key");
	if (spec->use == KEY_SCENARIO_ONLY)
		return key_error(context, section, name, "only a scenario may set it (see the scenarios file)");
	if (entry->seen[index])
		return key_error(context, section, name, "given twice");
	entry->seen[index] = true;
	if (!parse_value(spec, value ? value : "", &entry->profile, message, sizeof(message)))
		return key_error(context, section, name, message);
	return 1;
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

/* Read the file into a new context (the caller frees it and its entries):
 * 0, or a negative errno with err. */
static int load(const char *path, const char *district, struct load_context **out, char *err, size_t err_size)
{
	struct load_context *context = NULL;
	FILE *file = NULL;
	int result = 0;

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
	if (parsed == -2 || context->out_of_memory) {
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
	for (size_t e = 0; e < context->entry_count; e++) {
		for (size_t i = 0; i < KEY_COUNT; i++) {
			if (!context->entries[e].seen[i] && key_specs[i].use == KEY_REQUIRED) {
				result = -EINVAL;
				snprintf(err, err_size, "%s: [%s] lacks key %s", path, context->entries[e].profile.district,
				         key_specs[i].name);
				goto out;
			}
		}
	}

out:
	if (file)
		fclose(file);
	if (result < 0) {
		free(context->entries);
		free(context);
		context = NULL;
	}
	*out = context;
	return result;
}

int sim_profile_load(const char *path, const char *district, struct sim_profile *out,
                     char *err, size_t err_size)
{
	struct load_context *context = NULL;

	if (!path || !district || !out) {
		snprintf(err, err_size, "sim profile: no file or district given");
		return -EINVAL;
	}
	if (strlen(district) >= SIM_PROFILE_DISTRICT_MAX) {
		snprintf(err, err_size, "sim profile: district name longer than %d bytes",
		         SIM_PROFILE_DISTRICT_MAX - 1);
		return -EINVAL;
	}
	int result = load(path, district, &context, err, err_size);
	if (result < 0)
		return result;
	if (context->entry_count == 0) {
		char known[192];
		list_sections(context, known, sizeof(known));
		result = -ENOENT;
		/* The list before the path: a long path may be cut, the list is the useful part. */
		snprintf(err, err_size, "no profile for district \"%s\" (known: %s) in %s",
		         district, known, path);
		goto out;
	}
	*out = context->entries[0].profile;
out:
	free(context->entries);
	free(context);
	return result;
}

int sim_profile_load_all(const char *path, struct sim_profile **out, size_t *count,
                         char *err, size_t err_size)
{
	struct load_context *context = NULL;
	struct sim_profile *profiles = NULL;

	if (!path || !out || !count) {
		snprintf(err, err_size, "sim profile: no file given");
		return -EINVAL;
	}
	int result = load(path, NULL, &context, err, err_size);
	if (result < 0)
		return result;
	if (context->entry_count > 0) {
		profiles = calloc(context->entry_count, sizeof(*profiles));
		if (!profiles) {
			snprintf(err, err_size, "sim profile: out of memory");
			result = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < context->entry_count; i++)
			profiles[i] = context->entries[i].profile;
	}
	*out = profiles;
	*count = context->entry_count;
out:
	free(context->entries);
	free(context);
	return result;
}
