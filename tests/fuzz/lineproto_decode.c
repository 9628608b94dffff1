/* lineproto_decode.c — see lineproto_decode.h: one point of line protocol
 * read back as a store reads it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto_decode.h"

struct reader {
	const char *text;
	size_t length;
	size_t position;
	const char *why;
};

static bool at_end(const struct reader *reader)
{
	return reader->position >= reader->length;
}

static char peek(const struct reader *reader)
{
	return at_end(reader) ? '\0' : reader->text[reader->position];
}

/* The raw bytes of an element up to an unescaped byte of stops (or the
 * end): a backslash and the byte after it are skipped as a pair, as the
 * stores' scanners do.  The element is returned as it is written. */
static char *scan_element(struct reader *reader, const char *stops)
{
	size_t start = reader->position;
	while (!at_end(reader)) {
		char c = reader->text[reader->position];
		if (c == '\\') {
			reader->position += 2;
			continue;
		}
		if (strchr(stops, c) || c == '\n')
			break;
		reader->position++;
	}
	if (reader->position > reader->length)
		reader->position = reader->length;
	return strndup(reader->text + start, reader->position - start);
}

/* Every occurrence of "\" + c in text replaced by c, left to right, in
 * place (Go's bytes.Replace, which InfluxDB 1.x runs once a character). */
static void replace_escape(char *text, char c)
{
	char *out = text;
	for (const char *p = text; *p;) {
		if (p[0] == '\\' && p[1] == c) {
			*out++ = c;
			p += 2;
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
}

static void unescape_tag(enum lineproto_backslash backslash, char *text)
{
	if (backslash == LINEPROTO_BACKSLASH_AS_IS) {
		replace_escape(text, ',');
		replace_escape(text, ' ');
		replace_escape(text, '=');
		return;
	}
	char *out = text;
	for (const char *p = text; *p;) {
		if (p[0] == '\\' && p[1] && strchr("\\, =", p[1])) {
			*out++ = p[1];
			p += 2;
		} else {
			*out++ = *p++;
		}
	}
	*out = '\0';
}

static bool expect(struct reader *reader, char c, const char *why)
{
	if (peek(reader) != c) {
		reader->why = why;
		return false;
	}
	reader->position++;
	return true;
}

/* A decimal integer: optional '-', digits; no overflow. */
static bool read_integer(const char *text, int64_t *value)
{
	char *end;
	if (!*text || (*text != '-' && (*text < '0' || *text > '9')))
		return false;
	errno = 0;
	long long parsed = strtoll(text, &end, 10);
	if (errno || *end || end == text)
		return false;
	*value = parsed;
	return true;
}

static bool read_float(const char *text, double *value)
{
	char *end;
	/* Line protocol has no nan or inf, and no hex floats. */
	for (const char *p = text; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return false;
	if (!*text)
		return false;
	*value = strtod(text, &end);
	return *end == '\0';
}

static int read_field_value(struct reader *reader, struct decoded_field *field)
{
	if (peek(reader) == '"') {
		reader->position++;
		size_t start = reader->position;
		while (!at_end(reader) && reader->text[reader->position] != '"')
			reader->position += reader->text[reader->position] == '\\' ? 2 : 1;
		if (at_end(reader)) {
			reader->why = "a string field without its closing quote";
			return -EBADMSG;
		}
		field->kind = DECODED_STRING;
		field->text = strndup(reader->text + start, reader->position - start);
		if (!field->text)
			return -ENOMEM;
		reader->position++;
		char *out = field->text;
		for (const char *p = field->text; *p;) {
			if (p[0] == '\\' && (p[1] == '"' || p[1] == '\\')) {
				*out++ = p[1];
				p += 2;
			} else {
				*out++ = *p++;
			}
		}
		*out = '\0';
		return 0;
	}
	char *raw = scan_element(reader, ", ");
	if (!raw)
		return -ENOMEM;
	size_t length = strlen(raw);
	int r = 0;
	if (strcmp(raw, "true") == 0 || strcmp(raw, "false") == 0) {
		field->kind = DECODED_BOOLEAN;
		field->boolean = raw[0] == 't';
	} else if (length > 1 && raw[length - 1] == 'i') {
		raw[length - 1] = '\0';
		field->kind = DECODED_INTEGER;
		if (!read_integer(raw, &field->integer)) {
			reader->why = "a bad integer field";
			r = -EBADMSG;
		}
	} else {
		field->kind = DECODED_FLOAT;
		if (!read_float(raw, &field->number)) {
			reader->why = "a bad float field";
			r = -EBADMSG;
		}
	}
	free(raw);
	return r;
}

static int decode(enum lineproto_backslash backslash, struct reader *reader, struct lineproto_point *point)
{
	point->measurement = scan_element(reader, ", ");
	if (!point->measurement)
		return -ENOMEM;
	if (!point->measurement[0]) {
		reader->why = "no measurement";
		return -EBADMSG;
	}
	while (peek(reader) == ',') {
		reader->position++;
		if (point->tag_count == DECODED_TAGS_MAX) {
			reader->why = "too many tags";
			return -EBADMSG;
		}
		size_t index = point->tag_count++;
		point->tag_keys[index] = scan_element(reader, "=, ");
		if (!point->tag_keys[index])
			return -ENOMEM;
		if (!expect(reader, '=', "a tag without '='"))
			return -EBADMSG;
		point->tag_values[index] = scan_element(reader, ", ");
		if (!point->tag_values[index])
			return -ENOMEM;
		if (!point->tag_keys[index][0] || !point->tag_values[index][0]) {
			reader->why = "an empty tag key or value";
			return -EBADMSG;
		}
		unescape_tag(backslash, point->tag_keys[index]);
		unescape_tag(backslash, point->tag_values[index]);
	}
	if (!expect(reader, ' ', "no space before the fields"))
		return -EBADMSG;
	do {
		if (point->field_count == DECODED_FIELDS_MAX) {
			reader->why = "too many fields";
			return -EBADMSG;
		}
		struct decoded_field *field = &point->fields[point->field_count++];
		field->key = scan_element(reader, "=, ");
		if (!field->key)
			return -ENOMEM;
		if (!field->key[0]) {
			reader->why = "an empty field key";
			return -EBADMSG;
		}
		if (!expect(reader, '=', "a field without '='"))
			return -EBADMSG;
		int r = read_field_value(reader, field);
		if (r < 0)
			return r;
	} while (peek(reader) == ',' && ++reader->position);
	if (!expect(reader, ' ', "no space before the timestamp"))
		return -EBADMSG;
	char *timestamp = scan_element(reader, " ");
	if (!timestamp)
		return -ENOMEM;
	bool good = read_integer(timestamp, &point->timestamp);
	free(timestamp);
	if (!good) {
		reader->why = "a bad timestamp";
		return -EBADMSG;
	}
	if (!expect(reader, '\n', "no newline after the timestamp"))
		return -EBADMSG;
	if (!at_end(reader)) {
		reader->why = "bytes after the point's newline";
		return -EBADMSG;
	}
	return 0;
}

int lineproto_decode(enum lineproto_backslash backslash, const char *text, size_t length,
                     struct lineproto_point *point, const char **why)
{
	struct reader reader = { .text = text, .length = length };
	memset(point, 0, sizeof(*point));
	int r = decode(backslash, &reader, point);
	*why = r == -EBADMSG ? reader.why : r == -ENOMEM ? "out of memory" : NULL;
	return r;
}

void lineproto_point_free(struct lineproto_point *point)
{
	free(point->measurement);
	for (size_t i = 0; i < point->tag_count; i++) {
		free(point->tag_keys[i]);
		free(point->tag_values[i]);
	}
	for (size_t i = 0; i < point->field_count; i++) {
		free(point->fields[i].key);
		free(point->fields[i].text);
	}
	memset(point, 0, sizeof(*point));
}

const char *lineproto_point_tag(const struct lineproto_point *point, const char *key)
{
	for (size_t i = 0; i < point->tag_count; i++)
		if (point->tag_keys[i] && strcmp(point->tag_keys[i], key) == 0)
			return point->tag_values[i];
	return NULL;
}
