/* config.c — reads tryggd's INI file, validates every key and fills a struct
 * config (config.h).
 *
 * Two passes.  The first one runs inih over the text and collects sections
 * and keys with their line numbers, reporting syntax problems, duplicates and
 * unknown sections.  The second one validates each section's keys, then what
 * spans sections (a lamp's light sensor, [simulation] and the drivers).
 * Problems are gathered and written at the end, sorted by line, so a
 * technician sees all of them at once and in file order. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "driver.h"
#include "lineproto.h"
#include "parse.h"
#include "slug.h"
#include "sun.h"
#include "timefmt.h"

#ifndef TRYGGD_PROFILES_DEFAULT
#define TRYGGD_PROFILES_DEFAULT "/usr/share/tryggd/seeds/districts.ini"
#endif

/* A configuration is a page or two of text; anything far larger is a
 * mistake (a log file given by accident) and is refused before parsing. */
#define CONFIG_FILE_MAX (1024 * 1024)
/* Longest line inih is allowed to hand over, newline included: room for a
 * PATH_MAX path after its key. */
#define CONFIG_LINE_MAX (PATH_MAX + 256)
/* District and site end up in tags, payloads and (district) topics; a
 * generous but finite bound keeps every buffer downstream honest. */
#define PLACE_TEXT_MAX 128
#define TOPIC_PREFIX_MAX 128
#define SLUG_BUFFER_SIZE (PLACE_TEXT_MAX * 2 + 1)
#define DRIVER_MESSAGE_SIZE 256
/* Values quoted back in messages are cut here so one line stays one line. */
#define SHOWN_VALUE_MAX 64
#define SHOWN_VALUE_SIZE (SHOWN_VALUE_MAX + 8)   /* + a cut character's tail, "..." and NUL */

#define SYNTAX_MESSAGE "expected [section] or key = value"

enum section_kind { SECTION_GATEWAY, SECTION_SIMULATION, SECTION_MQTT, SECTION_INFLUX, SECTION_SENSOR };

static const char *const section_names[] = {
	[SECTION_GATEWAY] = "gateway",
	[SECTION_SIMULATION] = "simulation",
	[SECTION_MQTT] = "mqtt",
	[SECTION_INFLUX] = "influx",
};

/* The generic keys of a [sensor.NAME] section; every other key is the
 * driver's. */
static const char *const sensor_keys[] = {
	"type", "driver", "interval", "dark_lux", "light",
	/* alerts (struct sensor_alerts) */
	"stuck_after", "busy_hours", "blocked_after", "covered_lux", "covered_after", "fault_after",
};

/* Alert defaults: long enough that an ordinary quiet spell, a lingering
 * passer-by, a cloud or a photocell's switching delay never raise one. */
#define STUCK_DEFAULT_MS (3 * 3600 * 1000)
#define BUSY_FROM_DEFAULT 8
#define BUSY_TO_DEFAULT 20
#define BLOCKED_DEFAULT_MS (30 * 1000)
#define COVERED_LUX_DEFAULT 1.0
#define COVERED_DEFAULT_MS (30 * 60 * 1000)
#define LAMP_FAULT_DEFAULT_MS (15 * 60 * 1000)
#define ALERT_AFTER_MAX_MS (7LL * 86400 * 1000)

struct raw_entry {
	char *key;
	char *value;
	int line;
	bool used;
};

struct raw_section {
	enum section_kind kind;
	char *title;             /* as shown in messages: "gateway", "sensor.door" */
	const char *sensor_name; /* points into title, for SECTION_SENSOR */
	int line;
	struct raw_entry *entries;
	size_t entry_count;
	size_t entry_capacity;
};

struct problem {
	int line;
	size_t sequence;         /* keeps problems of one line in the order found */
	char *message;
};

/* Where keys of the line being read go: a section, nowhere yet (before the
 * first header), or the bin (a section already reported as bad). */
enum { CURRENT_NONE = -1, CURRENT_IGNORED = -2 };

struct loader {
	char *directory;         /* absolute directory of the file, for relative paths */
	config_driver_lookup find_driver;

	const char *text;
	size_t text_size;
	size_t position;
	int line_number;         /* line the reader handed to inih last */

	struct raw_section *sections;
	size_t section_count;
	size_t section_capacity;
	long current;
	bool saw_sensor_section;

	struct problem *problems;
	size_t problem_count;
	size_t problem_capacity;
	bool out_of_memory;
};

/* ---- problems ---------------------------------------------------------- */

static void report(struct loader *loader, int line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void report(struct loader *loader, int line, const char *format, ...)
{
	if (loader->problem_count == loader->problem_capacity) {
		size_t capacity = loader->problem_capacity ? loader->problem_capacity * 2 : 16;
		struct problem *grown = realloc(loader->problems, capacity * sizeof(*grown));
		if (!grown) {
			loader->out_of_memory = true;
			return;
		}
		loader->problems = grown;
		loader->problem_capacity = capacity;
	}
	va_list arguments;
	va_start(arguments, format);
	char *message = NULL;
	int length = vasprintf(&message, format, arguments);
	va_end(arguments);
	if (length < 0) {
		loader->out_of_memory = true;
		return;
	}
	loader->problems[loader->problem_count] = (struct problem){ line, loader->problem_count, message };
	loader->problem_count++;
}

static int compare_problems(const void *left, const void *right)
{
	const struct problem *a = left, *b = right;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->sequence < b->sequence ? -1 : a->sequence > b->sequence;
}

/* A value as it may be quoted back: control bytes would break the one line
 * per problem rule, and a pasted megabyte would bury the message. */
static const char *shown(const char *value, char buffer[static SHOWN_VALUE_SIZE])
{
	size_t length = 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (length >= SHOWN_VALUE_MAX && (*p & 0xc0) != 0x80) {
			memcpy(buffer + length, "...", 4);
			return buffer;
		}
		if (length >= SHOWN_VALUE_MAX + 3)
			break;  /* a continuation byte run that never ends: invalid anyway */
		buffer[length++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
	}
	buffer[length] = '\0';
	return buffer;
}

/* ---- small helpers ----------------------------------------------------- */

static char *copy_text(struct loader *loader, const char *text)
{
	char *copy = strdup(text);
	if (!copy)
		loader->out_of_memory = true;
	return copy;
}

static bool has_control_characters(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

static bool is_word_character(int c, bool allow_upper)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       (allow_upper && c >= 'A' && c <= 'Z');
}

static bool is_word(const char *text, size_t maximum, bool allow_upper)
{
	size_t length = strlen(text);
	if (length == 0 || length > maximum)
		return false;
	for (size_t i = 0; i < length; i++)
		if (!is_word_character((unsigned char)text[i], allow_upper))
			return false;
	return true;
}

/* Length of the valid UTF-8 sequence at text, or 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_sequence_length(const unsigned char *text, size_t available)
{
	unsigned char first = text[0];
	size_t length;
	unsigned minimum_second = 0x80, maximum_second = 0xbf;
	if (first < 0x80)
		return 1;
	if (first >= 0xc2 && first <= 0xdf)
		length = 2;
	else if (first >= 0xe0 && first <= 0xef) {
		length = 3;
		if (first == 0xe0)
			minimum_second = 0xa0;
		else if (first == 0xed)
			maximum_second = 0x9f;
	} else if (first >= 0xf0 && first <= 0xf4) {
		length = 4;
		if (first == 0xf0)
			minimum_second = 0x90;
		else if (first == 0xf4)
			maximum_second = 0x8f;
	} else
		return 0;
	if (available < length)
		return 0;
	if (text[1] < minimum_second || text[1] > maximum_second)
		return 0;
	for (size_t i = 2; i < length; i++)
		if ((text[i] & 0xc0) != 0x80)
			return 0;
	return length;
}

static bool is_utf8(const char *text, size_t size)
{
	const unsigned char *p = (const unsigned char *)text;
	for (size_t i = 0; i < size;) {
		size_t length = utf8_sequence_length(p + i, size - i);
		if (length == 0)
			return false;
		i += length;
	}
	return true;
}

/* ---- pass 1: reading with inih ----------------------------------------- */

static struct raw_section *find_raw_section(struct loader *loader, enum section_kind kind,
                                            const char *sensor_name)
{
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		if (section->kind != kind)
			continue;
		if (kind != SECTION_SENSOR || strcmp(section->sensor_name, sensor_name) == 0)
			return section;
	}
	return NULL;
}

static void begin_section(struct loader *loader, const char *name, size_t length)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	while (length > 0 && isspace((unsigned char)name[0])) {
		name++;
		length--;
	}
	while (length > 0 && isspace((unsigned char)name[length - 1]))
		length--;
	char *title = strndup(name, length);
	if (!title) {
		loader->out_of_memory = true;
		loader->current = CURRENT_IGNORED;
		return;
	}
	loader->current = CURRENT_IGNORED;

	enum section_kind kind = SECTION_SENSOR;
	const char *sensor_name = NULL;
	bool known = false;
	for (size_t i = 0; i < sizeof(section_names) / sizeof(section_names[0]); i++) {
		if (section_names[i] && strcmp(title, section_names[i]) == 0) {
			kind = (enum section_kind)i;
			known = true;
		}
	}
	if (!known && strncmp(title, "sensor.", 7) == 0) {
		loader->saw_sensor_section = true;
		sensor_name = title + 7;
		if (!is_word(sensor_name, 32, false)) {
			report(loader, loader->line_number,
			       "sensor name '%s': expected 1 to 32 of a-z 0-9 _ -", shown(sensor_name, shown_buffer));
			goto ignore;
		}
		known = true;
	}
	if (!known) {
		report(loader, loader->line_number,
		       "unknown section [%s] (expected gateway, simulation, mqtt, influx or sensor.NAME)",
		       shown(title, shown_buffer));
		goto ignore;
	}

	const struct raw_section *earlier = find_raw_section(loader, kind, sensor_name);
	if (earlier) {
		report(loader, loader->line_number, "duplicate section [%s] (first at line %d)", title, earlier->line);
		goto ignore;
	}

	if (loader->section_count == loader->section_capacity) {
		size_t capacity = loader->section_capacity ? loader->section_capacity * 2 : 8;
		struct raw_section *grown = realloc(loader->sections, capacity * sizeof(*grown));
		if (!grown) {
			loader->out_of_memory = true;
			goto ignore;
		}
		loader->sections = grown;
		loader->section_capacity = capacity;
	}
	loader->sections[loader->section_count] = (struct raw_section){
		.kind = kind, .title = title, .sensor_name = sensor_name, .line = loader->line_number,
	};
	loader->current = (long)loader->section_count;
	loader->section_count++;
	return;

ignore:
	free(title);
}

/* Looks at one line the way inih will, and handles what inih cannot tell
 * us: it reports only the first syntax error of a file and, as Debian builds
 * it, does not call back on section headers.  Returns false for a line that
 * must not reach inih (already reported). */
static bool inspect_line(struct loader *loader, const char *line)
{
	const unsigned char *start = (const unsigned char *)line;
	if (loader->line_number == 1 && start[0] == 0xef && start[1] == 0xbb && start[2] == 0xbf)
		start += 3;
	while (*start && isspace(*start))
		start++;
	size_t length = strlen((const char *)start);
	while (length > 0 && isspace(start[length - 1]))
		length--;
	if (length == 0 || *start == '#' || *start == ';')
		return true;

	if (*start == '[') {
		const unsigned char *close = memchr(start, ']', length);
		if (!close || close != start + length - 1) {
			report(loader, loader->line_number, SYNTAX_MESSAGE);
			return false;
		}
		begin_section(loader, (const char *)start + 1, length - 2);
		return true;
	}

	/* inih splits at the first '=' or ':'; only '=' is ours, so a line
	 * like "uri: tcp://…" is a mistake rather than a key "uri". */
	size_t separator = strcspn((const char *)start, "=:");
	size_t name_length = separator;
	while (name_length > 0 && isspace(start[name_length - 1]))
		name_length--;
	if (separator >= length || start[separator] != '=' || name_length == 0) {
		report(loader, loader->line_number, SYNTAX_MESSAGE);
		return false;
	}
	return true;
}

/* The ini_reader: hands inih one line per call, so that line_number is the
 * line of whatever inih reports to on_key next. */
static char *read_line(char *buffer, int size, void *stream)
{
	struct loader *loader = stream;
	if (loader->position >= loader->text_size || size < 2)
		return NULL;
	const char *start = loader->text + loader->position;
	size_t left = loader->text_size - loader->position;
	const char *newline = memchr(start, '\n', left);
	size_t length = newline ? (size_t)(newline - start) + 1 : left;
	loader->position += length;
	loader->line_number++;

	if (memchr(start, '\0', length)) {
		report(loader, loader->line_number, "NUL byte in the line (the file must be UTF-8 text)");
		goto blank;
	}
	if (length > (size_t)size - 1) {
		report(loader, loader->line_number, "line too long (at most %d bytes)", size - 2);
		goto blank;
	}
	memcpy(buffer, start, length);
	buffer[length] = '\0';
	if (!is_utf8(buffer, length))
		report(loader, loader->line_number, "not valid UTF-8 (the file must be UTF-8 text)");
	if (!inspect_line(loader, buffer))
		goto blank;
	return buffer;

blank:
	/* An empty line keeps inih's count in step without it seeing what
	 * was already reported. */
	memcpy(buffer, "\n", 2);
	return buffer;
}

static int on_key(void *user, const char *section_name, const char *key, const char *value)
{
	struct loader *loader = user;
	char shown_buffer[SHOWN_VALUE_SIZE];
	(void)section_name;  /* the reader tracks sections, inih truncates long names */

	if (loader->current == CURRENT_IGNORED)
		return 1;
	if (loader->current == CURRENT_NONE) {
		report(loader, loader->line_number, "'%s' is outside any section; keys go under a [section] header",
		       shown(key, shown_buffer));
		return 1;
	}
	struct raw_section *section = &loader->sections[loader->current];
	for (size_t i = 0; i < section->entry_count; i++) {
		if (strcmp(section->entries[i].key, key) == 0) {
			report(loader, loader->line_number, "duplicate key '%s' (first at line %d)",
			       shown(key, shown_buffer), section->entries[i].line);
			return 1;
		}
	}
	if (section->entry_count == section->entry_capacity) {
		size_t capacity = section->entry_capacity ? section->entry_capacity * 2 : 8;
		struct raw_entry *grown = realloc(section->entries, capacity * sizeof(*grown));
		if (!grown) {
			loader->out_of_memory = true;
			return 1;
		}
		section->entries = grown;
		section->entry_capacity = capacity;
	}
	struct raw_entry entry = { strdup(key), strdup(value), loader->line_number, false };
	if (!entry.key || !entry.value) {
		free(entry.key);
		free(entry.value);
		loader->out_of_memory = true;
		return 1;
	}
	section->entries[section->entry_count++] = entry;
	return 1;
}

/* ---- pass 2: validation ------------------------------------------------ */

/* The entry for key in section (NULL when absent), marked as used so that
 * whatever is left over can be reported as unknown. */
static struct raw_entry *take(struct raw_section *section, const char *key)
{
	if (!section)
		return NULL;
	for (size_t i = 0; i < section->entry_count; i++) {
		if (strcmp(section->entries[i].key, key) == 0) {
			section->entries[i].used = true;
			return &section->entries[i];
		}
	}
	return NULL;
}

static struct raw_entry *take_required(struct loader *loader, struct raw_section *section, const char *key)
{
	struct raw_entry *entry = take(section, key);
	if (!entry)
		report(loader, section->line, "missing required key '%s' in [%s]", key, section->title);
	return entry;
}

static void report_unused(struct loader *loader, struct raw_section *section)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	for (size_t i = 0; i < section->entry_count; i++)
		if (!section->entries[i].used)
			report(loader, section->entries[i].line, "unknown key '%s' in [%s]",
			       shown(section->entries[i].key, shown_buffer), section->title);
}

/* An integer key; *field keeps its default when the key is absent or bad. */
static void take_integer(struct loader *loader, struct raw_section *section, const char *key,
                         const char *what, long minimum, long maximum, int *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = take(section, key);
	if (!entry)
		return;
	long value;
	if (!parse_integer(entry->value, minimum, maximum, &value)) {
		report(loader, entry->line, "%s: expected %s from %ld to %ld, got '%s'", key, what, minimum,
		       maximum, shown(entry->value, shown_buffer));
		return;
	}
	*field = (int)value;
}

/* A duration key ("90", "250ms", "2h"); *field keeps its default when the
 * key is absent or bad. */
static void take_duration(struct loader *loader, struct raw_section *section, const char *key,
                          int64_t minimum_ms, int64_t maximum_ms, int64_t *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = take(section, key);
	if (entry && !parse_duration_ms(entry->value, minimum_ms, maximum_ms, field))
		report(loader, entry->line, "%s: expected a time like 30s, 15min or 3h (0 turns it off, at most 7d), got '%s'",
		       key, shown(entry->value, shown_buffer));
}

/* A text key that must be non-empty and free of control characters.
 * Returns the entry (or NULL) and sets *valid. */
static struct raw_entry *take_text(struct loader *loader, struct raw_section *section, const char *key,
                                   bool required, size_t maximum, bool *valid)
{
	struct raw_entry *entry = required ? take_required(loader, section, key) : take(section, key);
	*valid = false;
	if (!entry)
		return NULL;
	if (entry->value[0] == '\0')
		report(loader, entry->line, "%s must not be empty", key);
	else if (has_control_characters(entry->value))
		report(loader, entry->line, "control characters are not allowed in %s", key);
	else if (maximum && strlen(entry->value) > maximum)
		report(loader, entry->line, "%s is too long (at most %zu bytes)", key, maximum);
	else
		*valid = true;
	return entry;
}

/* District and site become tag values; refuse the few texts the store
 * would not keep exactly (see lineproto.c). */
static bool tag_value_exact(struct loader *loader, const struct raw_entry *entry, const char *key)
{
	if (lineproto_tag_value_exact(entry->value))
		return true;
	report(loader, entry->line,
	       "%s: a backslash at the end or right before a comma, space or '=' cannot be stored exactly; remove it",
	       key);
	return false;
}

/* A path key: relative paths are taken from the configuration file's
 * directory, so a file and what it names can move together. */
static char *resolve_path(struct loader *loader, const char *path)
{
	if (path[0] == '/')
		return copy_text(loader, path);
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (path[0] == '/')
			path++;
	}
	if (path[0] == '\0' || strcmp(path, ".") == 0)
		return copy_text(loader, loader->directory);
	char *joined = NULL;
	const char *separator = strcmp(loader->directory, "/") == 0 ? "" : "/";
	if (asprintf(&joined, "%s%s%s", loader->directory, separator, path) < 0) {
		loader->out_of_memory = true;
		return NULL;
	}
	return joined;
}

static char *take_path(struct loader *loader, struct raw_section *section, const char *key,
                       const char *fallback)
{
	bool valid;
	struct raw_entry *entry = take_text(loader, section, key, false, PATH_MAX - 1, &valid);
	if (entry && valid)
		return resolve_path(loader, entry->value);
	return resolve_path(loader, fallback);
}

/* Degrees, north or east positive. */
static void take_coordinate(struct loader *loader, struct raw_section *section, const char *key,
                            double limit, double *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = take(section, key);
	double value;
	if (!entry)
		return;
	if (!parse_decimal(entry->value, -limit, &value) || value > limit)
		report(loader, entry->line, "%s: expected degrees from %g to %g, got '%s'", key, -limit, limit,
		       shown(entry->value, shown_buffer));
	else
		*field = value;
}

static void validate_gateway(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct gateway_config *gateway = &config->gateway;
	struct raw_section *section = find_raw_section(loader, SECTION_GATEWAY, NULL);
	gateway->window_s = 60;
	gateway->latitude = SUN_ESKILSTUNA_LATITUDE;
	gateway->longitude = SUN_ESKILSTUNA_LONGITUDE;
	if (!section) {
		report(loader, 1, "missing section [gateway] (with at least id and district)");
		gateway->state_dir = copy_text(loader, "/var/lib/tryggd");
		return;
	}

	struct raw_entry *entry = take_required(loader, section, "id");
	if (entry) {
		if (is_word(entry->value, 64, true))
			gateway->id = copy_text(loader, entry->value);
		else
			report(loader, entry->line, "id: expected 1 to 64 of A-Z a-z 0-9 _ -, got '%s'",
			       shown(entry->value, shown_buffer));
	}

	bool valid;
	entry = take_text(loader, section, "district", true, PLACE_TEXT_MAX, &valid);
	if (entry && valid && !tag_value_exact(loader, entry, "district"))
		valid = false;
	if (entry && valid) {
		char slug[SLUG_BUFFER_SIZE];
		int r = slug_make(entry->value, slug, sizeof(slug));
		if (r == -EINVAL)
			report(loader, entry->line, "district '%s' has no letter or digit to make a topic level of",
			       shown(entry->value, shown_buffer));
		else if (r < 0)
			report(loader, entry->line, "district '%s': cannot make a topic level of it: %s",
			       shown(entry->value, shown_buffer), strerror(-r));
		else
			gateway->district = copy_text(loader, entry->value);
	}

	entry = take_text(loader, section, "site", false, PLACE_TEXT_MAX, &valid);
	if (entry && valid && !tag_value_exact(loader, entry, "site"))
		valid = false;
	if (entry && valid)
		gateway->site = copy_text(loader, entry->value);

	take_integer(loader, section, "window", "whole seconds", 1, 86400, &gateway->window_s);
	take_coordinate(loader, section, "latitude", 90, &gateway->latitude);
	take_coordinate(loader, section, "longitude", 180, &gateway->longitude);
	gateway->state_dir = take_path(loader, section, "state_dir", "/var/lib/tryggd");
	report_unused(loader, section);
}

static void validate_simulation(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct simulation_config *simulation = &config->simulation;
	struct raw_section *section = find_raw_section(loader, SECTION_SIMULATION, NULL);
	simulation->speed = 1;
	simulation->drain_timeout_s = 30;
	if (!section) {
		/* sim sensors also run in real time, and need their profiles */
		simulation->profiles = resolve_path(loader, TRYGGD_PROFILES_DEFAULT);
		return;
	}
	/* Without start, [simulation] only sets up simulated sensors that run
	 * on the real clock (a bench test, a live demo); with start the clock
	 * is virtual. */
	bool start_valid = false;
	struct raw_entry *entry = take(section, "start");
	if (entry) {
		config->has_simulation = true;
		if (timefmt_parse_iso8601(entry->value, &simulation->start_ms) == 0)
			start_valid = true;
		else
			report(loader, entry->line,
			       "start: expected an ISO-8601 UTC time like 2026-11-02T00:00:00Z, got '%s'",
			       shown(entry->value, shown_buffer));
	} else {
		static const char *const needs_start[] = { "speed", "end", "drain_timeout" };
		for (size_t i = 0; i < sizeof(needs_start) / sizeof(needs_start[0]); i++) {
			struct raw_entry *clock_entry = take(section, needs_start[i]);
			if (clock_entry)
				report(loader, clock_entry->line,
				       "%s needs start: without start the clock is real", needs_start[i]);
		}
		goto profiles;
	}

	entry = take(section, "speed");
	if (entry && !parse_decimal(entry->value, 0, &simulation->speed))
		report(loader, entry->line,
		       "speed: expected virtual seconds per real second, 0 or more (0 = as fast as possible), got '%s'",
		       shown(entry->value, shown_buffer));

	entry = take(section, "end");
	if (entry) {
		int64_t end_ms;
		if (timefmt_parse_iso8601(entry->value, &end_ms) != 0)
			report(loader, entry->line,
			       "end: expected an ISO-8601 UTC time like 2026-11-09T00:00:00Z, got '%s'",
			       shown(entry->value, shown_buffer));
		else if (start_valid && end_ms <= simulation->start_ms)
			report(loader, entry->line, "end must be after start");
		else
			simulation->end_ms = end_ms;
	}

	take_integer(loader, section, "drain_timeout", "whole seconds", 0, 3600, &simulation->drain_timeout_s);
profiles:
	simulation->profiles = take_path(loader, section, "profiles", TRYGGD_PROFILES_DEFAULT);
	report_unused(loader, section);
}

/* tcp://host:port and friends, as Paho takes them; ws and wss may add a
 * path.  Returns NULL when good, or what is wrong. */
static const char *check_mqtt_uri(const char *uri)
{
	static const struct {
		const char *name;
		bool web, tls;
	} schemes[] = {
		{ "tcp", false, false }, { "mqtt", false, false }, { "ssl", false, true },
		{ "mqtts", false, true }, { "ws", true, false }, { "wss", true, true },
	};
	const char *separator = strstr(uri, "://");
	if (!separator)
		return "expected SCHEME://HOST:PORT, e.g. tcp://broker.example:1883";
	size_t scheme_length = (size_t)(separator - uri);
	bool known = false, web = false, tls = false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == scheme_length && strncmp(uri, schemes[i].name, scheme_length) == 0) {
			known = true;
			web = schemes[i].web;
			tls = schemes[i].tls;
		}
	}
	if (!known)
		return "the scheme must be tcp, mqtt, ssl, mqtts, ws or wss";
	/* Without a CA file Paho cannot verify a server, and it says only
	 * "Invalid (NULL) parameter": refuse plainly instead. */
	if (tls)
		return "TLS (ssl, mqtts, wss) is not supported by this version of tryggd yet; use tcp, mqtt or ws";

	const char *host = separator + 3;
	const char *host_end;
	if (host[0] == '[') {  /* an IPv6 address */
		host_end = strchr(host, ']');
		if (!host_end || host_end == host + 1 || strspn(host + 1, "0123456789abcdefABCDEF:.") !=
		                                             (size_t)(host_end - host - 1))
			return "bad IPv6 address";
		host_end++;
	} else {
		host_end = host + strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
		if (host_end == host)
			return "missing or bad host name";
	}
	if (host_end[0] != ':')
		return (host_end[0] == '\0' || host_end[0] == '/') ? "missing port, e.g. tcp://broker.example:1883"
		                                                   : "bad host name";
	const char *port = host_end + 1;
	size_t port_length = strspn(port, "0123456789");
	char digits[8];
	long port_number;
	if (port_length == 0 || port_length >= sizeof(digits))
		return "the port must be from 1 to 65535";
	memcpy(digits, port, port_length);
	digits[port_length] = '\0';
	if (!parse_integer(digits, 1, 65535, &port_number))
		return "the port must be from 1 to 65535";
	const char *rest = port + port_length;
	if (rest[0] == '\0')
		return NULL;
	if (rest[0] != '/')
		return "unexpected text after the port";
	if (!web)
		return "only ws:// and wss:// may have a path after the port";
	for (const unsigned char *p = (const unsigned char *)rest; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return "spaces and control characters are not allowed in the path";
	return NULL;
}

static void validate_topic_prefix(struct loader *loader, const struct raw_entry *entry, char **field)
{
	const char *prefix = entry->value;
	size_t length = strlen(prefix);
	if (length == 0)
		report(loader, entry->line, "topic_prefix must not be empty");
	else if (has_control_characters(prefix))
		report(loader, entry->line, "control characters are not allowed in topic_prefix");
	else if (strpbrk(prefix, "+#"))
		report(loader, entry->line, "topic_prefix must not contain '+' or '#' (they are MQTT wildcards)");
	else if (prefix[0] == '/' || prefix[length - 1] == '/')
		report(loader, entry->line, "topic_prefix must not start or end with '/'");
	else if (strstr(prefix, "//"))
		report(loader, entry->line, "topic_prefix must not contain an empty level ('//')");
	else if (length > TOPIC_PREFIX_MAX)
		report(loader, entry->line, "topic_prefix is too long (at most %d bytes)", TOPIC_PREFIX_MAX);
	else {
		free(*field);
		*field = copy_text(loader, prefix);
	}
}

static void validate_mqtt(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct mqtt_config *mqtt = &config->mqtt;
	struct raw_section *section = find_raw_section(loader, SECTION_MQTT, NULL);
	/* Defaults even without [mqtt]: topics are also named in logs. */
	mqtt->topic_prefix = copy_text(loader, "trygghet");
	mqtt->qos = 1;
	mqtt->publish_readings = true;
	mqtt->keepalive_s = 30;
	mqtt->buffer_max = 100000;
	if (!section)
		return;
	config->has_mqtt = true;

	struct raw_entry *entry = take_required(loader, section, "uri");
	if (entry) {
		const char *problem = check_mqtt_uri(entry->value);
		if (problem)
			report(loader, entry->line, "uri: %s, got '%s'", problem, shown(entry->value, shown_buffer));
		else
			mqtt->uri = copy_text(loader, entry->value);
	}

	entry = take(section, "topic_prefix");
	if (entry)
		validate_topic_prefix(loader, entry, &mqtt->topic_prefix);

	entry = take(section, "qos");
	if (entry) {
		long qos;
		if (parse_integer(entry->value, 0, 2, &qos))
			mqtt->qos = (int)qos;
		else
			report(loader, entry->line, "qos: expected 0, 1 or 2, got '%s'", shown(entry->value, shown_buffer));
	}

	entry = take(section, "publish_readings");
	if (entry && !parse_boolean(entry->value, &mqtt->publish_readings))
		report(loader, entry->line, "publish_readings: expected yes or no, got '%s'",
		       shown(entry->value, shown_buffer));

	take_integer(loader, section, "keepalive", "whole seconds", 5, 3600, &mqtt->keepalive_s);
	take_integer(loader, section, "buffer_max", "a number of messages", 1, 10000000, &mqtt->buffer_max);
	report_unused(loader, section);
}

static void validate_influx(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct influx_config *influx = &config->influx;
	struct raw_section *section = find_raw_section(loader, SECTION_INFLUX, NULL);
	influx->api = INFLUX_V1;
	influx->database = copy_text(loader, "trygghet");
	influx->timeout_s = 10;
	influx->batch_lines = 5000;
	if (!section)
		return;
	config->has_influx = true;

	struct raw_entry *entry = take_required(loader, section, "url");
	if (entry) {
		const char *url = entry->value;
		size_t scheme_length = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
		size_t length = strlen(url);
		while (length > scheme_length && url[length - 1] == '/')
			length--;  /* paths are appended with their own '/' */
		bool spaces = false;
		for (const unsigned char *p = (const unsigned char *)url; *p; p++)
			spaces |= *p <= ' ' || *p == 0x7f;
		if (scheme_length == 0 || length == scheme_length || url[scheme_length] == '/' || spaces) {
			report(loader, entry->line, "url: expected http://HOST:PORT or https://HOST:PORT, got '%s'",
			       shown(url, shown_buffer));
		} else {
			influx->url = strndup(url, length);
			if (!influx->url)
				loader->out_of_memory = true;
		}
	}

	entry = take(section, "api");
	if (entry) {
		if (strcmp(entry->value, "v1") == 0)
			influx->api = INFLUX_V1;
		else if (strcmp(entry->value, "v2") == 0 || strcmp(entry->value, "v3") == 0)
			report(loader, entry->line, "api = %s is not supported yet (only v1)", entry->value);
		else
			report(loader, entry->line, "api: expected v1, v2 or v3, got '%s'", shown(entry->value, shown_buffer));
	}

	bool valid;
	entry = take_text(loader, section, "database", false, 0, &valid);
	if (entry && valid) {
		free(influx->database);
		influx->database = copy_text(loader, entry->value);
	}
	entry = take_text(loader, section, "retention_policy", false, 0, &valid);
	if (entry && valid)
		influx->retention_policy = copy_text(loader, entry->value);

	take_integer(loader, section, "timeout", "whole seconds", 1, 300, &influx->timeout_s);
	take_integer(loader, section, "batch_lines", "a number of lines", 1, 100000, &influx->batch_lines);
	report_unused(loader, section);
}

static bool is_sensor_key(const char *key)
{
	for (size_t i = 0; i < sizeof(sensor_keys) / sizeof(sensor_keys[0]); i++)
		if (strcmp(key, sensor_keys[i]) == 0)
			return true;
	return false;
}

static int add_option(struct sensor_config *sensor, const struct raw_entry *entry)
{
	struct sensor_option *grown = realloc(sensor->options, (sensor->option_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	sensor->options = grown;
	struct sensor_option option = { strdup(entry->key), strdup(entry->value), entry->line };
	if (!option.key || !option.value) {
		free(option.key);
		free(option.value);
		return -ENOMEM;
	}
	sensor->options[sensor->option_count++] = option;
	return 0;
}

/* The tamper and wear thresholds; each belongs to one type. */
static void validate_alerts(struct loader *loader, struct raw_section *section, struct sensor_config *sensor,
                            bool type_known)
{
	static const struct {
		const char *key;
		enum sensor_type type;
	} owners[] = {
		{ "stuck_after", SENSOR_FOOTFALL }, { "busy_hours", SENSOR_FOOTFALL },
		{ "blocked_after", SENSOR_FOOTFALL }, { "covered_lux", SENSOR_LIGHT },
		{ "covered_after", SENSOR_LIGHT }, { "fault_after", SENSOR_LAMP },
	};
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct sensor_alerts *alerts = &sensor->alerts;
	*alerts = (struct sensor_alerts){
		.stuck_ms = STUCK_DEFAULT_MS, .busy_from_hour = BUSY_FROM_DEFAULT, .busy_to_hour = BUSY_TO_DEFAULT,
		.blocked_ms = BLOCKED_DEFAULT_MS, .covered_lux = COVERED_LUX_DEFAULT,
		.covered_ms = COVERED_DEFAULT_MS, .lamp_fault_ms = LAMP_FAULT_DEFAULT_MS,
	};
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		const struct raw_entry *entry = take(section, owners[i].key);
		if (entry && type_known && sensor->type != owners[i].type) {
			report(loader, entry->line, "%s applies only to %s sensors", owners[i].key,
			       sensor_type_name(owners[i].type));
		}
	}
	if (!type_known)
		return;
	switch (sensor->type) {
	case SENSOR_FOOTFALL: {
		take_duration(loader, section, "stuck_after", 0, ALERT_AFTER_MAX_MS, &alerts->stuck_ms);
		take_duration(loader, section, "blocked_after", 0, ALERT_AFTER_MAX_MS, &alerts->blocked_ms);
		struct raw_entry *entry = take(section, "busy_hours");
		long from, to;
		char *dash = entry ? strchr(entry->value, '-') : NULL;
		if (!entry)
			break;
		if (dash) {
			*dash = '\0';
			bool good = parse_integer(entry->value, 0, 23, &from) && parse_integer(dash + 1, 1, 24, &to) &&
			            from < to;
			*dash = '-';
			if (good) {
				alerts->busy_from_hour = (int)from;
				alerts->busy_to_hour = (int)to;
				break;
			}
		}
		report(loader, entry->line, "busy_hours: expected local hours FROM-TO like 8-20, got '%s'",
		       shown(entry->value, shown_buffer));
		break;
	}
	case SENSOR_LIGHT: {
		take_duration(loader, section, "covered_after", 0, ALERT_AFTER_MAX_MS, &alerts->covered_ms);
		struct raw_entry *entry = take(section, "covered_lux");
		if (entry && !parse_decimal(entry->value, 0, &alerts->covered_lux))
			report(loader, entry->line, "covered_lux: expected lux, 0 or more, got '%s'",
			       shown(entry->value, shown_buffer));
		break;
	}
	case SENSOR_LAMP:
		take_duration(loader, section, "fault_after", 0, ALERT_AFTER_MAX_MS, &alerts->lamp_fault_ms);
		break;
	}
}

/* What validate_sensor() learnt, for the checks that span sensors. */
struct sensor_verdict {
	const struct driver_ops *driver;   /* NULL when unknown */
	bool type_known;
	bool sound;                        /* no problem at all so far */
};

/* What a sensor section says about itself. */
static struct sensor_verdict validate_sensor(struct loader *loader, struct raw_section *section,
                                             struct sensor_config *sensor)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	size_t problems_before = loader->problem_count;
	bool type_known = false, serves = true;
	const struct driver_ops *driver = NULL;

	sensor->name = copy_text(loader, section->sensor_name);
	sensor->line = section->line;
	sensor->interval_s = 5;
	sensor->dark_lux = 10;

	struct raw_entry *entry = take_required(loader, section, "type");
	if (entry) {
		type_known = sensor_type_parse(entry->value, &sensor->type);
		if (!type_known)
			report(loader, entry->line, "type: expected footfall, light or lamp, got '%s'",
			       shown(entry->value, shown_buffer));
	}

	entry = take_required(loader, section, "driver");
	if (entry) {
		driver = loader->find_driver(entry->value);
		if (!driver)
			report(loader, entry->line, "unknown driver '%s'", shown(entry->value, shown_buffer));
		else if (type_known && !(driver->types & (1u << sensor->type))) {
			report(loader, entry->line, "driver '%s' cannot serve %s sensors", driver->name,
			       sensor_type_name(sensor->type));
			serves = false;
		}
		if (driver)
			sensor->driver = copy_text(loader, driver->name);
	}

	take_integer(loader, section, "interval", "whole seconds", 1, 86400, &sensor->interval_s);

	entry = take(section, "dark_lux");
	if (entry) {
		if (type_known && sensor->type != SENSOR_LIGHT)
			report(loader, entry->line, "dark_lux applies only to light sensors");
		else if (!parse_decimal(entry->value, 0, &sensor->dark_lux))
			report(loader, entry->line, "dark_lux: expected lux, 0 or more, got '%s'",
			       shown(entry->value, shown_buffer));
	}

	validate_alerts(loader, section, sensor, type_known);

	/* Whether light names a light sensor is checked once all are known. */
	entry = take(section, "light");
	if (entry && type_known && sensor->type != SENSOR_LAMP)
		report(loader, entry->line, "light applies only to lamp sensors");

	/* The rest is the driver's, which needs to know the type to judge. */
	for (size_t i = 0; i < section->entry_count; i++) {
		struct raw_entry *option = &section->entries[i];
		if (is_sensor_key(option->key))
			continue;
		option->used = true;
		if (!driver || !type_known || !serves)
			continue;
		char message[DRIVER_MESSAGE_SIZE] = "";
		int r = driver->check_option(sensor->type, option->key, option->value, message, sizeof(message));
		if (r == -ENOENT)
			report(loader, option->line, "unknown key '%s' for driver '%s'", shown(option->key, shown_buffer),
			       driver->name);
		else if (r < 0)
			report(loader, option->line, "%s", message[0] ? message : strerror(-r));
		else if (add_option(sensor, option) < 0)
			loader->out_of_memory = true;
	}

	return (struct sensor_verdict){
		.driver = driver,
		.type_known = type_known,
		.sound = loader->problem_count == problems_before && driver && type_known,
	};
}

static void validate_sensors(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	size_t count = 0;
	for (size_t i = 0; i < loader->section_count; i++)
		count += loader->sections[i].kind == SECTION_SENSOR;
	if (count == 0) {
		if (!loader->saw_sensor_section)
			report(loader, 1, "no sensors: add at least one [sensor.NAME] section");
		return;
	}
	config->sensors = calloc(count, sizeof(*config->sensors));
	if (!config->sensors) {
		loader->out_of_memory = true;
		return;
	}

	struct sensor_verdict *verdicts = calloc(count, sizeof(*verdicts));
	if (!verdicts) {
		loader->out_of_memory = true;
		return;
	}

	size_t index = 0;
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		if (section->kind != SECTION_SENSOR)
			continue;
		verdicts[index] = validate_sensor(loader, section, &config->sensors[index]);
		index++;
	}
	config->sensor_count = count;

	/* A lamp's light sensor: only now are all sensors known. */
	index = 0;
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		if (section->kind != SECTION_SENSOR)
			continue;
		struct sensor_config *sensor = &config->sensors[index];
		struct raw_entry *entry = take(section, "light");
		if (entry && verdicts[index].type_known && sensor->type == SENSOR_LAMP) {
			const struct sensor_config *light = config_find_sensor(config, entry->value);
			if (!light) {
				report(loader, entry->line, "light: no sensor '%s' is configured",
				       shown(entry->value, shown_buffer));
				verdicts[index].sound = false;
			} else if (!verdicts[light - config->sensors].type_known) {
				/* its own type problem was reported; no second guess here */
				verdicts[index].sound = false;
			} else if (light->type != SENSOR_LIGHT) {
				report(loader, entry->line, "light: sensor '%s' is a %s sensor, not a light sensor",
				       light->name, sensor_type_name(light->type));
				verdicts[index].sound = false;
			} else {
				sensor->light = copy_text(loader, light->name);
			}
		}
		index++;
	}

	/* The driver sees the whole sensor last, and only a sensor with no
	 * problem so far: it should not have to guess around half a config. */
	for (index = 0; index < count; index++) {
		const struct driver_ops *driver = verdicts[index].driver;
		if (!verdicts[index].sound || !driver->check_sensor)
			continue;
		char message[DRIVER_MESSAGE_SIZE] = "";
		int r = driver->check_sensor(&config->sensors[index], message, sizeof(message));
		if (r < 0)
			report(loader, config->sensors[index].line, "%s", message[0] ? message : strerror(-r));
	}

	struct raw_section *simulation = find_raw_section(loader, SECTION_SIMULATION, NULL);
	for (index = 0; simulation && index < count; index++) {
		const struct driver_ops *driver = verdicts[index].driver;
		if (driver && !driver->simulated)
			report(loader, simulation->line,
			       "[simulation] needs simulated sensors, but sensor '%s' uses driver '%s'",
			       config->sensors[index].name, driver->name);
	}
	free(verdicts);
}

/* ---- loading ----------------------------------------------------------- */

static int read_file(const char *path, char **text, size_t *size)
{
	int r = 0;
	char *buffer = NULL;
	size_t length = 0;
	int descriptor = open(path, O_RDONLY | O_CLOEXEC);
	if (descriptor < 0)
		return -errno;
	struct stat status;
	if (fstat(descriptor, &status) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(status.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	buffer = malloc(CONFIG_FILE_MAX + 1);
	if (!buffer) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t got = read(descriptor, buffer + length, CONFIG_FILE_MAX + 1 - length);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		length += (size_t)got;
		if (length > CONFIG_FILE_MAX) {
			r = -EFBIG;
			goto out;
		}
	}
	buffer[length] = '\0';
	*text = buffer;
	*size = length;
	buffer = NULL;
out:
	free(buffer);
	close(descriptor);
	return r;
}

/* The file's directory as an absolute path (symbolic links in it resolved,
 * as the kernel will when the paths are opened). */
static int file_directory(const char *path, char **directory)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	*directory = realpath(dirname(copy), NULL);
	int r = *directory ? 0 : -errno;
	free(copy);
	return r;
}

/* Runs inih over the text with the switches this format needs: an indented
 * line must not continue the previous value, ';' and '#' are comments only
 * at the start of a line (so values may hold them), and a line may be as
 * long as a path.  Debian's inih keeps them in process-wide variables, which
 * other readers (the sim profiles) share, so they are put back afterwards. */
static int parse_text(struct loader *loader)
{
	const bool multiline = ini_allow_multiline, inline_comments = ini_allow_inline_comments;
	const bool bom = ini_allow_bom, no_value = ini_allow_no_value;
	const bool stop_on_first_error = ini_stop_on_first_error, use_stack = ini_use_stack;
	const int max_line = ini_max_line;

	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_allow_bom = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
	ini_use_stack = true;   /* the line buffer is then sized by ini_max_line */
	ini_max_line = CONFIG_LINE_MAX;

	int first_error = ini_parse_stream(read_line, loader, on_key, loader);

	ini_allow_multiline = multiline;
	ini_allow_inline_comments = inline_comments;
	ini_allow_bom = bom;
	ini_allow_no_value = no_value;
	ini_stop_on_first_error = stop_on_first_error;
	ini_use_stack = use_stack;
	ini_max_line = max_line;
	return first_error;
}

static void free_loader(struct loader *loader)
{
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		for (size_t j = 0; j < section->entry_count; j++) {
			free(section->entries[j].key);
			free(section->entries[j].value);
		}
		free(section->entries);
		free(section->title);
	}
	free(loader->sections);
	for (size_t i = 0; i < loader->problem_count; i++)
		free(loader->problems[i].message);
	free(loader->problems);
	free(loader->directory);
}

int config_load(const char *path, struct config *out, FILE *errors)
{
	return config_load_with_drivers(path, driver_find, out, errors);
}

int config_load_with_drivers(const char *path, config_driver_lookup find_driver,
                             struct config *out, FILE *errors)
{
	struct config config = { 0 };
	struct loader loader = { .current = CURRENT_NONE, .find_driver = find_driver };
	char *text = NULL;
	size_t size = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = read_file(path, &text, &size);
	if (r < 0) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(-r));
		return r;
	}
	loader.text = text;
	loader.text_size = size;
	r = file_directory(path, &loader.directory);
	if (r < 0) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(-r));
		goto out;
	}

	int first_error = parse_text(&loader);
	if (first_error == -2) {
		loader.out_of_memory = true;
	} else if (first_error > 0) {
		/* inspect_line should have caught it; never lose one if not */
		bool known = false;
		for (size_t i = 0; i < loader.problem_count; i++)
			known |= loader.problems[i].line == first_error;
		if (!known)
			report(&loader, first_error, SYNTAX_MESSAGE);
	}

	config.path = copy_text(&loader, path);
	config.directory = copy_text(&loader, loader.directory);
	validate_gateway(&loader, &config);
	validate_simulation(&loader, &config);
	validate_mqtt(&loader, &config);
	validate_influx(&loader, &config);
	validate_sensors(&loader, &config);

	if (loader.out_of_memory) {
		fprintf(errors, "%s: out of memory\n", path);
		r = -ENOMEM;
		goto out;
	}
	if (loader.problem_count > 0) {
		qsort(loader.problems, loader.problem_count, sizeof(*loader.problems), compare_problems);
		for (size_t i = 0; i < loader.problem_count; i++)
			fprintf(errors, "%s:%d: %s\n", path, loader.problems[i].line, loader.problems[i].message);
		fflush(errors);
		r = -EINVAL;
		goto out;
	}
	*out = config;
	memset(&config, 0, sizeof(config));
	r = 0;

out:
	config_free(&config);
	free_loader(&loader);
	free(text);
	return r;
}

void config_free(struct config *config)
{
	if (!config)
		return;
	free(config->path);
	free(config->directory);
	free(config->gateway.id);
	free(config->gateway.district);
	free(config->gateway.site);
	free(config->gateway.state_dir);
	free(config->simulation.profiles);
	free(config->mqtt.uri);
	free(config->mqtt.topic_prefix);
	free(config->influx.url);
	free(config->influx.database);
	free(config->influx.retention_policy);
	for (size_t i = 0; i < config->sensor_count; i++) {
		struct sensor_config *sensor = &config->sensors[i];
		free(sensor->name);
		free(sensor->driver);
		free(sensor->light);
		for (size_t j = 0; j < sensor->option_count; j++) {
			free(sensor->options[j].key);
			free(sensor->options[j].value);
		}
		free(sensor->options);
	}
	free(config->sensors);
	memset(config, 0, sizeof(*config));
}

/* ---- summary ----------------------------------------------------------- */

static const char *influx_api_name(enum influx_api api)
{
	switch (api) {
	case INFLUX_V1: return "v1";
	case INFLUX_V2: return "v2";
	case INFLUX_V3: return "v3";
	}
	return "?";
}

void config_print_summary(const struct config *config, FILE *out)
{
	const struct gateway_config *gateway = &config->gateway;
	char slug[SLUG_BUFFER_SIZE];
	if (slug_make(gateway->district, slug, sizeof(slug)) < 0)
		snprintf(slug, sizeof(slug), "?");

	fprintf(out, "%s: configuration is valid\n\n", config->path);
	fprintf(out, "gateway     %s in %s (topic level '%s')", gateway->id, gateway->district, slug);
	if (gateway->site)
		fprintf(out, ", site %s", gateway->site);
	fprintf(out, "\nwindow      %d s, aligned to the epoch (UTC)\n", gateway->window_s);
	fprintf(out, "state       %s\n", gateway->state_dir);

	if (config->has_simulation) {
		const struct simulation_config *simulation = &config->simulation;
		char start[TIMEFMT_RFC3339_SIZE], end[TIMEFMT_RFC3339_SIZE];
		timefmt_rfc3339(simulation->start_ms, start);
		fprintf(out, "clock       simulated from %s", start);
		if (simulation->end_ms) {
			timefmt_rfc3339(simulation->end_ms, end);
			fprintf(out, " to %s", end);
		}
		if (simulation->speed == 0)
			fprintf(out, ", as fast as possible\n");
		else
			fprintf(out, ", %g virtual s per real s\n", simulation->speed);
		if (simulation->end_ms)
			fprintf(out, "            at the end, waits up to %d s for delivery\n", simulation->drain_timeout_s);
	} else {
		fprintf(out, "clock       real time\n");
	}
	bool simulated_sensors = false;
	for (size_t i = 0; i < config->sensor_count; i++) {
		const struct driver_ops *driver = driver_find(config->sensors[i].driver);
		simulated_sensors |= driver && driver->simulated;
	}
	if (simulated_sensors)
		fprintf(out, "profiles    %s\n", config->simulation.profiles);

	if (config->has_mqtt) {
		const struct mqtt_config *mqtt = &config->mqtt;
		fprintf(out, "mqtt        %s, qos %d, keepalive %d s, buffer %d messages\n", mqtt->uri, mqtt->qos,
		        mqtt->keepalive_s, mqtt->buffer_max);
		fprintf(out, "            topics %s/%s/%s/... (readings %s)\n", mqtt->topic_prefix, slug, gateway->id,
		        mqtt->publish_readings ? "published" : "not published, windows only");
	} else {
		fprintf(out, "mqtt        off (no [mqtt] section)\n");
	}

	if (config->has_influx) {
		const struct influx_config *influx = &config->influx;
		fprintf(out, "influx      %s, api %s, database %s", influx->url, influx_api_name(influx->api),
		        influx->database);
		if (influx->retention_policy)
			fprintf(out, ", retention policy %s", influx->retention_policy);
		fprintf(out, "\n            timeout %d s, up to %d lines a request\n", influx->timeout_s,
		        influx->batch_lines);
	} else {
		fprintf(out, "influx      off (no [influx] section)\n");
	}

	fprintf(out, "\n%zu sensor%s:\n", config->sensor_count, config->sensor_count == 1 ? "" : "s");
	for (size_t i = 0; i < config->sensor_count; i++) {
		const struct sensor_config *sensor = &config->sensors[i];
		fprintf(out, "  %-16s %-8s  driver %-6s every %d s", sensor->name, sensor_type_name(sensor->type),
		        sensor->driver, sensor->interval_s);
		if (sensor->type == SENSOR_LIGHT)
			fprintf(out, ", dark below %g lx", sensor->dark_lux);
		if (sensor->light)
			fprintf(out, ", paired with %s", sensor->light);
		for (size_t j = 0; j < sensor->option_count; j++)
			fprintf(out, ", %s=%s", sensor->options[j].key, sensor->options[j].value);
		fputc('\n', out);
	}
}

/* ---- lookups ----------------------------------------------------------- */

const struct sensor_config *config_find_sensor(const struct config *config, const char *name)
{
	for (size_t i = 0; i < config->sensor_count; i++)
		if (config->sensors[i].name && strcmp(config->sensors[i].name, name) == 0)
			return &config->sensors[i];
	return NULL;
}
