/* config_read.c — pass 1 of config_load(): runs inih over the text and
 * collects [section]s and their key = value entries with line numbers,
 * reporting what inih cannot (every syntax error, not just the first), bad
 * UTF-8, duplicates and unknown sections.  Values are judged in pass 2. */
#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* Longest line inih is allowed to hand over, newline included: room for a
 * PATH_MAX path after its key. */
#define CONFIG_LINE_MAX (PATH_MAX + 256)

#define SYNTAX_MESSAGE "expected [section] or key = value"
#define CARRIAGE_RETURN_MESSAGE \
	"a carriage return (\\r) inside the line: the file has old Mac (CR) line endings, or a value holds one? " \
	"save it as UTF-8 text with LF (or CR LF) line endings"

static const char *const section_names[] = {
	[SECTION_GATEWAY] = "gateway",
	[SECTION_SIMULATION] = "simulation",
	[SECTION_MQTT] = "mqtt",
	[SECTION_INFLUX] = "influx",
};

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

/* ---- raw sections ------------------------------------------------------ */

struct raw_section *config_find_section(struct loader *loader, enum section_kind kind,
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

/* ---- reading with inih ------------------------------------------------- */

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
		if (!config_is_word(sensor_name, 32, false)) {
			config_report(loader, loader->line_number,
			              "sensor name '%s': expected 1 to 32 of a-z 0-9 _ -",
			              config_shown(sensor_name, shown_buffer));
			goto ignore;
		}
		known = true;
	}
	if (!known) {
		config_report(loader, loader->line_number,
		              "unknown section [%s] (expected gateway, simulation, mqtt, influx or sensor.NAME)",
		              config_shown(title, shown_buffer));
		goto ignore;
	}

	const struct raw_section *earlier = config_find_section(loader, kind, sensor_name);
	if (earlier) {
		config_report(loader, loader->line_number, "duplicate section [%s] (first at line %d)", title,
		              earlier->line);
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
			config_report(loader, loader->line_number, SYNTAX_MESSAGE);
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
		config_report(loader, loader->line_number, SYNTAX_MESSAGE);
		return false;
	}
	return true;
}

/* A '\r' before the line's last run of '\r' and '\n'. */
static bool has_inner_carriage_return(const char *line, size_t length)
{
	while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
		length--;
	return memchr(line, '\r', length) != NULL;
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
		config_report(loader, loader->line_number, "NUL byte in the line (the file must be UTF-8 text)");
		goto blank;
	}
	if (length > (size_t)size - 1) {
		config_report(loader, loader->line_number, "line too long (at most %d bytes)", size - 2);
		goto blank;
	}
	memcpy(buffer, start, length);
	buffer[length] = '\0';
	if (!is_utf8(buffer, length))
		config_report(loader, loader->line_number, "not valid UTF-8 (the file must be UTF-8 text)");
	/* CR LF line endings are fine (the CRs at the end are trimmed as
	 * white space); a CR anywhere else is a file with CR alone at the
	 * end of its lines, read as one line, or one pasted into a value,
	 * and either would only be "expected [section] or key = value" or
	 * a value that is not what it looks like. */
	if (has_inner_carriage_return(buffer, length)) {
		config_report(loader, loader->line_number, CARRIAGE_RETURN_MESSAGE);
		goto blank;
	}
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
		config_report(loader, loader->line_number,
		              "'%s' is outside any section; keys go under a [section] header",
		              config_shown(key, shown_buffer));
		return 1;
	}
	struct raw_section *section = &loader->sections[loader->current];
	for (size_t i = 0; i < section->entry_count; i++) {
		if (strcmp(section->entries[i].key, key) == 0) {
			config_report(loader, loader->line_number, "duplicate key '%s' (first at line %d)",
			              config_shown(key, shown_buffer), section->entries[i].line);
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

/* Runs inih over the text with the switches this format needs: an indented
 * line must not continue the previous value, ';' and '#' are comments only
 * at the start of a line (so values may hold them), and a line may be as
 * long as a path.  Debian's inih keeps them in process-wide variables, which
 * other readers (the sim profiles) share, so they are put back afterwards. */
void config_read_sections(struct loader *loader)
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

	if (first_error == -2) {
		loader->out_of_memory = true;
	} else if (first_error > 0) {
		/* inspect_line should have caught it; never lose one if not */
		bool known = false;
		for (size_t i = 0; i < loader->problem_count; i++)
			known |= loader->problems[i].line == first_error;
		if (!known)
			config_report(loader, first_error, SYNTAX_MESSAGE);
	}
}
