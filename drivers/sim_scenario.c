/* sim_scenario.c — see sim_scenario.h.  Reads the scenarios file with inih,
 * counting lines itself as sim_profile.c does, and judges every section,
 * collecting every problem rather than the first, so that `tryggd --check`
 * can show them all. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "sim_scenario.h"
#include "timefmt.h"

struct line_reader {
	FILE *file;
	int line;
	bool at_line_start;
	int header_line;          /* the last line that opened a section */
};

struct scenario_entry {
	struct sim_scenario scenario;
	bool has_district, has_from, has_until, has_sensor;
	int from_line, until_line;
};

struct load_context {
	const char *path;
	struct line_reader reader;
	struct scenario_entry *entries;
	size_t entry_count, entry_capacity;
	bool in_section;          /* a key was seen: section_line is the current section's */
	int section_line;         /* the header line of the section of the last key */
	bool skipping;            /* the current section could not be kept */
	size_t problem_count;
	bool out_of_memory;
	sim_scenario_report *report;
	void *user;
	char first_problem[256];
};

static char *read_line(char *buffer, int size, void *stream)
{
	struct line_reader *reader = stream;
	char *got = fgets(buffer, size, reader->file);
	if (got) {
		if (reader->at_line_start) {
			reader->line++;
			const char *start = got + strspn(got, " \t");
			if (*start == '[')
				reader->header_line = reader->line;
		}
		size_t length = strlen(got);
		reader->at_line_start = length > 0 && got[length - 1] == '\n';
	}
	return got;
}

static void problem(struct load_context *context, int line, const char *section, const char *key,
                    const char *format, ...) __attribute__((format(printf, 5, 6)));

/* One problem, as PATH:LINE: [section] key: message. */
static void problem(struct load_context *context, int line, const char *section, const char *key,
                    const char *format, ...)
{
	char message[160], text[sizeof(context->first_problem)];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	snprintf(text, sizeof(text), "%s:%d: [%s]%s%s: %s", context->path, line, section, key ? " " : "",
	         key ? key : "", message);
	if (context->problem_count++ == 0)
		snprintf(context->first_problem, sizeof(context->first_problem), "%s", text);
	if (context->report)
		context->report(context->user, text);
}

static bool valid_sensor_name(const char *text)
{
	size_t length = strlen(text);
	if (length == 0 || length >= SIM_SCENARIO_SENSOR_MAX)
		return false;
	for (const char *cursor = text; *cursor; cursor++)
		if (!((*cursor >= 'a' && *cursor <= 'z') || (*cursor >= '0' && *cursor <= '9') || *cursor == '_' ||
		      *cursor == '-'))
			return false;
	return true;
}

static bool has_control_characters(const char *text)
{
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F)
			return true;
	return false;
}

/* A new section begins with this key: a new entry, unless the title was
 * used before. */
static void begin_section(struct load_context *context, const char *section)
{
	context->in_section = true;
	context->section_line = context->reader.header_line;
	context->skipping = true;
	int line = context->reader.header_line;
	if (section[0] == '\0') {
		problem(context, context->reader.line, "", NULL, "a key before the first [title]");
		return;
	}
	if (strlen(section) >= SIM_SCENARIO_TITLE_MAX) {
		problem(context, line, section, NULL, "title longer than %d bytes", SIM_SCENARIO_TITLE_MAX - 1);
		return;
	}
	for (size_t i = 0; i < context->entry_count; i++) {
		if (strcmp(context->entries[i].scenario.title, section) == 0) {
			problem(context, line, section, NULL, "title used twice (first at line %d)",
			        context->entries[i].scenario.line);
			return;
		}
	}
	if (context->entry_count == context->entry_capacity) {
		size_t capacity = context->entry_capacity ? 2 * context->entry_capacity : 8;
		struct scenario_entry *grown = realloc(context->entries, capacity * sizeof(*grown));
		if (!grown) {
			context->out_of_memory = true;
			return;
		}
		context->entries = grown;
		context->entry_capacity = capacity;
	}
	struct scenario_entry *entry = &context->entries[context->entry_count++];
	memset(entry, 0, sizeof(*entry));
	snprintf(entry->scenario.title, sizeof(entry->scenario.title), "%s", section);
	entry->scenario.line = line;
	entry->scenario.until_ms = INT64_MAX;
	context->skipping = false;
}

static void take_time(struct load_context *context, struct scenario_entry *entry, const char *key,
                      const char *value, bool *has, int64_t *field, int *line)
{
	const char *title = entry->scenario.title;
	if (*has) {
		problem(context, context->reader.line, title, key, "given twice");
		return;
	}
	*has = true;
	*line = context->reader.line;
	if (timefmt_parse_iso8601(value, field) != 0)
		problem(context, context->reader.line, title, key,
		        "expected an ISO-8601 UTC time like 2026-04-20 or 2026-04-20T06:00:00Z");
}

static void take_text(struct load_context *context, struct scenario_entry *entry, const char *key,
                      const char *value, bool *has, char *field, size_t field_size)
{
	const char *title = entry->scenario.title;
	if (*has) {
		problem(context, context->reader.line, title, key, "given twice");
		return;
	}
	*has = true;
	if (strlen(value) >= field_size || value[0] == '\0' || has_control_characters(value)) {
		problem(context, context->reader.line, title, key, "expected 1 to %zu bytes of text", field_size - 1);
		return;
	}
	snprintf(field, field_size, "%s", value);
}

static int handle_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_context *context = user;
	char message[128];
	value = value ? value : "";

	/* Keys come without their header: a section begins where the reader
	 * saw a header since the last key. */
	if (!context->in_section || context->reader.header_line != context->section_line)
		begin_section(context, section);
	if (context->skipping)
		return context->out_of_memory ? 0 : 1;

	struct scenario_entry *entry = &context->entries[context->entry_count - 1];
	struct sim_scenario *scenario = &entry->scenario;
	if (strcmp(name, "district") == 0) {
		take_text(context, entry, name, value, &entry->has_district, scenario->district,
		          sizeof(scenario->district));
	} else if (strcmp(name, "sensor") == 0) {
		take_text(context, entry, name, value, &entry->has_sensor, scenario->sensor, sizeof(scenario->sensor));
		if (scenario->sensor[0] && !valid_sensor_name(scenario->sensor)) {
			problem(context, context->reader.line, scenario->title, name,
			        "expected a sensor name: 1 to 32 of a-z 0-9 _ -");
			scenario->sensor[0] = '\0';
		}
	} else if (strcmp(name, "from") == 0) {
		take_time(context, entry, name, value, &entry->has_from, &scenario->from_ms, &entry->from_line);
	} else if (strcmp(name, "until") == 0) {
		take_time(context, entry, name, value, &entry->has_until, &scenario->until_ms, &entry->until_line);
	} else {
		int r = sim_profile_change(&scenario->changes, name, value, message, sizeof(message));
		if (r == -ENOENT)
			problem(context, context->reader.line, scenario->title, name,
			        "unknown key (expected district, sensor, from, until, lamp_out or a profile key "
			        "other than latitude and longitude)");
		else if (r < 0)
			problem(context, context->reader.line, scenario->title, name, "%s", message);
	}
	return 1;
}

/* What can only be judged once a section is whole. */
static void check_entry(struct load_context *context, const struct scenario_entry *entry, const char *profiles)
{
	const struct sim_scenario *scenario = &entry->scenario;
	if (!entry->has_district)
		problem(context, scenario->line, scenario->title, NULL, "lacks district = DISTRICT");
	if (!entry->has_from)
		problem(context, scenario->line, scenario->title, NULL, "lacks from = DATE");
	if (entry->has_from && entry->has_until && scenario->until_ms <= scenario->from_ms)
		problem(context, entry->until_line, scenario->title, "until", "must be after from");
	if (scenario->changes.keys == 0)
		problem(context, scenario->line, scenario->title, NULL, "changes no profile key");
	if (profiles && scenario->district[0]) {
		struct sim_profile profile;
		char err[256];
		if (sim_profile_load(profiles, scenario->district, &profile, err, sizeof(err)) == -ENOENT)
			problem(context, scenario->line, scenario->title, "district", "no profile for \"%s\" in %s",
			        scenario->district, profiles);
	}
}

int sim_scenarios_load(const char *path, const char *profiles, struct sim_scenarios *out,
                       sim_scenario_report *report, void *user, char *err, size_t err_size)
{
	struct load_context context = { .path = path, .report = report, .user = user };
	FILE *file = NULL;
	int result = 0;

	*out = (struct sim_scenarios){ 0 };
	context.reader.at_line_start = true;
	file = fopen(path, "r");
	if (!file) {
		result = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		goto out;
	}
	context.reader.file = file;
	int parsed = ini_parse_stream(read_line, &context.reader, handle_entry, &context);
	if (ferror(file)) {
		result = -EIO;
		snprintf(err, err_size, "%s: read error", path);
		goto out;
	}
	if (parsed == -2 || context.out_of_memory) {
		result = -ENOMEM;
		snprintf(err, err_size, "%s: out of memory while parsing", path);
		goto out;
	}
	if (parsed > 0) {
		/* inih says only where the first line it could not read is. */
		char text[256];
		snprintf(text, sizeof(text), "%s:%d: not valid INI (expected [title] or key = value)", path, parsed);
		if (context.problem_count++ == 0)
			snprintf(context.first_problem, sizeof(context.first_problem), "%s", text);
		if (report)
			report(user, text);
	}
	/* Districts are checked against a profiles file that can be read; one
	 * that cannot is the sim sensors' to report when they open it. */
	FILE *profiles_file = profiles ? fopen(profiles, "r") : NULL;
	if (profiles_file)
		fclose(profiles_file);
	for (size_t i = 0; i < context.entry_count; i++)
		check_entry(&context, &context.entries[i], profiles_file ? profiles : NULL);
	if (context.problem_count > 0) {
		result = -EINVAL;
		snprintf(err, err_size, "%s", context.first_problem);
		goto out;
	}
	if (context.entry_count > 0) {
		out->entries = calloc(context.entry_count, sizeof(*out->entries));
		if (!out->entries) {
			result = -ENOMEM;
			snprintf(err, err_size, "%s: out of memory", path);
			goto out;
		}
		for (size_t i = 0; i < context.entry_count; i++)
			out->entries[i] = context.entries[i].scenario;
		out->count = context.entry_count;
	}
out:
	if (file)
		fclose(file);
	free(context.entries);
	return result;
}

void sim_scenarios_clear(struct sim_scenarios *scenarios)
{
	free(scenarios->entries);
	*scenarios = (struct sim_scenarios){ 0 };
}

/* ---- a sensor's timeline ---------------------------------------------------- */

static bool applies(const struct sim_scenario *scenario, const char *district, const char *sensor_name)
{
	return strcmp(scenario->district, district) == 0 &&
	       (scenario->sensor[0] == '\0' || (sensor_name && strcmp(scenario->sensor, sensor_name) == 0));
}

int sim_timeline_init(struct sim_timeline *timeline, const struct sim_profile *base,
                      const struct sim_scenarios *all, const char *sensor_name)
{
	*timeline = (struct sim_timeline){ .base = *base };
	size_t count = 0;
	for (size_t i = 0; all && i < all->count; i++)
		count += applies(&all->entries[i], base->district, sensor_name);
	if (count == 0)
		return 0;
	timeline->layers = calloc(count, sizeof(*timeline->layers));
	if (!timeline->layers)
		return -ENOMEM;
	for (size_t i = 0; i < all->count; i++)
		if (applies(&all->entries[i], base->district, sensor_name))
			timeline->layers[timeline->layer_count++] = all->entries[i];
	return 0;
}

void sim_timeline_clear(struct sim_timeline *timeline)
{
	free(timeline->layers);
	timeline->layers = NULL;
	timeline->layer_count = 0;
}

const struct sim_profile *sim_timeline_at(const struct sim_timeline *timeline, int64_t t_ms,
                                          struct sim_profile *scratch)
{
	const struct sim_profile *profile = &timeline->base;
	for (size_t i = 0; i < timeline->layer_count; i++) {
		const struct sim_scenario *layer = &timeline->layers[i];
		if (t_ms < layer->from_ms || t_ms >= layer->until_ms)
			continue;
		if (profile != scratch) {
			*scratch = timeline->base;
			profile = scratch;
		}
		sim_profile_apply(scratch, &layer->changes);
	}
	return profile;
}

int64_t sim_timeline_next_change(const struct sim_timeline *timeline, int64_t t_ms)
{
	int64_t next = INT64_MAX;
	for (size_t i = 0; i < timeline->layer_count; i++) {
		const struct sim_scenario *layer = &timeline->layers[i];
		if (layer->from_ms > t_ms && layer->from_ms < next)
			next = layer->from_ms;
		if (layer->until_ms > t_ms && layer->until_ms < next)
			next = layer->until_ms;
	}
	return next;
}
