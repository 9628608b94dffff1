/* config_take.c — the typed readers of pass 2 (config_take_*()) that every
 * section's validation uses, so that a key of one kind (an integer, a
 * duration, a text, a path) is judged and reported alike in every section. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "parse.h"

/* ---- text checks ------------------------------------------------------- */

bool config_has_control_characters(const char *text)
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

bool config_is_word(const char *text, size_t maximum, bool allow_upper)
{
	size_t length = strlen(text);
	if (length == 0 || length > maximum)
		return false;
	for (size_t i = 0; i < length; i++)
		if (!is_word_character((unsigned char)text[i], allow_upper))
			return false;
	return true;
}

/* ---- taking keys ------------------------------------------------------- */

/* The entry for key in section (NULL when absent), marked as used so that
 * whatever is left over can be reported as unknown. */
struct raw_entry *config_take(struct raw_section *section, const char *key)
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

struct raw_entry *config_take_required(struct loader *loader, struct raw_section *section, const char *key)
{
	struct raw_entry *entry = config_take(section, key);
	if (!entry)
		config_report(loader, section->line, "missing required key '%s' in [%s]", key, section->title);
	return entry;
}

void config_report_unused(struct loader *loader, struct raw_section *section)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	for (size_t i = 0; i < section->entry_count; i++)
		if (!section->entries[i].used)
			config_report(loader, section->entries[i].line, "unknown key '%s' in [%s]",
			              config_shown(section->entries[i].key, shown_buffer), section->title);
}

/* An integer key; *field keeps its default when the key is absent or bad. */
void config_take_integer(struct loader *loader, struct raw_section *section, const char *key,
                         const char *what, long minimum, long maximum, int *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take(section, key);
	if (!entry)
		return;
	long value;
	if (!parse_integer(entry->value, minimum, maximum, &value)) {
		config_report(loader, entry->line, "%s: expected %s from %ld to %ld, got '%s'", key, what, minimum,
		              maximum, config_shown(entry->value, shown_buffer));
		return;
	}
	*field = (int)value;
}

/* A duration key ("90", "250ms", "2h"); *field keeps its default when the
 * key is absent or bad. */
void config_take_duration(struct loader *loader, struct raw_section *section, const char *key,
                          int64_t minimum_ms, int64_t maximum_ms, int64_t *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take(section, key);
	if (entry && !parse_duration_ms(entry->value, minimum_ms, maximum_ms, field))
		config_report(loader, entry->line,
		              "%s: expected a time like 30s, 15min or 3h (0 turns it off, at most 7d), got '%s'",
		              key, config_shown(entry->value, shown_buffer));
}

/* A text key that must be non-empty and free of control characters.
 * Returns the entry (or NULL) and sets *valid. */
struct raw_entry *config_take_text(struct loader *loader, struct raw_section *section, const char *key,
                                   bool required, size_t maximum, bool *valid)
{
	struct raw_entry *entry = required ? config_take_required(loader, section, key) : config_take(section, key);
	*valid = false;
	if (!entry)
		return NULL;
	if (entry->value[0] == '\0')
		config_report(loader, entry->line, "%s must not be empty", key);
	else if (config_has_control_characters(entry->value))
		config_report(loader, entry->line, "control characters are not allowed in %s", key);
	else if (maximum && strlen(entry->value) > maximum)
		config_report(loader, entry->line, "%s is too long (at most %zu bytes)", key, maximum);
	else
		*valid = true;
	return entry;
}

/* A path key: relative paths are taken from the configuration file's
 * directory, so a file and what it names can move together. */
char *config_resolve_path(struct loader *loader, const char *path)
{
	if (path[0] == '/')
		return config_copy_text(loader, path);
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (path[0] == '/')
			path++;
	}
	if (path[0] == '\0' || strcmp(path, ".") == 0)
		return config_copy_text(loader, loader->directory);
	char *joined = NULL;
	const char *separator = strcmp(loader->directory, "/") == 0 ? "" : "/";
	if (asprintf(&joined, "%s%s%s", loader->directory, separator, path) < 0) {
		loader->out_of_memory = true;
		return NULL;
	}
	return joined;
}

char *config_take_path(struct loader *loader, struct raw_section *section, const char *key,
                       const char *fallback)
{
	bool valid;
	struct raw_entry *entry = config_take_text(loader, section, key, false, PATH_MAX - 1, &valid);
	if (entry && valid)
		return config_resolve_path(loader, entry->value);
	return config_resolve_path(loader, fallback);
}

const char *config_host_end(const char *text, const char **problem)
{
	if (text[0] != '[')
		return text + strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
	const char *end = strchr(text, ']');
	if (!end || end == text + 1 || strspn(text + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - text - 1)) {
		*problem = "bad IPv6 address";
		return NULL;
	}
	return end + 1;
}

bool config_port(const char *text, size_t *length)
{
	size_t digits = strspn(text, "0123456789");
	char number[8];
	long value;
	if (digits == 0 || digits >= sizeof(number))
		return false;
	memcpy(number, text, digits);
	number[digits] = '\0';
	if (!parse_integer(number, 1, 65535, &value))
		return false;
	*length = digits;
	return true;
}
