/* lineproto.c — InfluxDB line protocol for closed windows, the gateway's
 * own figures and sensor problems (see lineproto.h).
 *
 * How tag values are escaped, and why: tested against a real influxd 1.6.7
 * (HTTP /write, precision=s, read back with SELECT and SHOW TAG VALUES).
 *
 *  - ',', ' ' and '=' get a backslash in front.  1.6 turns "\," "\ " "\="
 *    back into the character; with that alone, commas, quotes, '=', spaces,
 *    '+', '#', '/', emoji, "Å", leading and trailing spaces, ",a" and "=a"
 *    all come back byte for byte.
 *  - A backslash is written as it is.  1.6 never unescapes "\\" in a tag, so
 *    doubling it (what the documentation suggests) stores two: "a\b" written
 *    as "a\\b" is stored as "a\\b".  Written bare, "a\b", "\a", "a\\b" come
 *    back exactly.
 *  - A value cannot end in a backslash.  The tag parser takes any ',' or ' '
 *    right after a backslash as escaped, whatever came before, so "a\" (or
 *    "a\\", or "\") swallows the separator and the whole point is refused
 *    (400 "invalid tag format"; in a batch, "partial write", that line lost).
 *    Trailing backslashes are therefore dropped: "a\" is stored as "a", and
 *    a value of nothing but backslashes becomes empty; lineproto_window then
 *    leaves that tag out, which InfluxDB treats the same as an empty tag.
 *  - A run of backslashes right before ',', ' ' or '=' must be even.  The
 *    server splits the body into lines with a second scanner that skips a
 *    backslash and the byte after it; an odd run pairs its last backslash
 *    with our escape and sees a bare space, so it thinks the fields have
 *    begun, and with a '"' and a bare-looking '=' later in the line (e.g.
 *    district a\ b with site x\=" — both taken literally) it takes the
 *    newline for part of a string: that point and every later one in the
 *    batch are refused (400 "point is invalid", nothing written).  The
 *    value on its own would round-trip ("a\,b" written "a\\,b" comes back
 *    "a\,b"), but one hostile value must not cost other points, so an odd
 *    run gets one backslash more: "a\ b" is stored as "a\\ b", "a\,b" as
 *    "a\\,b", "a\=b" as "a\\=b".  Even runs ("a\\ b") round-trip and are safe.
 *
 * So every value round-trips exactly unless it ends in a backslash or has an
 * odd run of backslashes right before a comma, space or '='.
 *
 * That is the rule for InfluxDB 1.x and 2.x, which share that parser
 * (LINEPROTO_BACKSLASH_AS_IS).  VictoriaMetrics (measured, 1.79) and
 * InfluxDB 3 (documented) read "\\" as one backslash and keep a backslash
 * before any other character, so for them every backslash is doubled
 * (LINEPROTO_BACKSLASH_DOUBLED): each value then round-trips.  Config
 * validation refuses district and site values with a backslash at the end
 * or right before one of those (lineproto_tag_value_exact), so what a
 * planner queries is exactly what the technician wrote.
 *
 * String fields (an alert's detail) are the same in every store that keeps
 * them: inside the quotes '"' and '\' take a backslash, which InfluxDB 1.x
 * and 2.x (unescapeStringField) and 3 read back as the character; no other
 * byte is special there.  A raw newline would end the point for
 * VictoriaMetrics and InfluxDB 3 (1.x would keep it, inside quotes), so
 * control characters are written as spaces; and since line protocol is
 * UTF-8 text (a store may refuse a point, or a whole body, that is not),
 * and a detail cut to its buffer may end inside a character, a byte that
 * does not belong to a whole UTF-8 character is written as '?'.
 *
 * Numbers: integers carry the 'i' suffix; floats are printed with the
 * fewest digits that strtod reads back to the same double (an integral
 * float like 1 stays a float: without 'i' line protocol reads it as one).
 * Printing relies on the "C" numeric locale, which tryggd never changes. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor_type.h"
#include "lineproto.h"
#include "number.h"

/* A line being written into the caller's buffer; once it does not fit, it
 * only counts, so the caller learns -ENOSPC without a half-written line. */
struct line_writer {
	char *out;
	size_t size;
	size_t length;
};

static void writer_append(struct line_writer *writer, const char *text, size_t length)
{
	if (writer->length + length < writer->size)
		memcpy(writer->out + writer->length, text, length);
	writer->length += length;
}

static void writer_append_text(struct line_writer *writer, const char *text)
{
	writer_append(writer, text, strlen(text));
}

static void writer_printf(struct line_writer *writer, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void writer_printf(struct line_writer *writer, const char *format, ...)
{
	char buffer[64];
	va_list arguments;
	va_start(arguments, format);
	int length = vsnprintf(buffer, sizeof(buffer), format, arguments);
	va_end(arguments);
	if (length > 0)
		writer_append(writer, buffer, (size_t)length < sizeof(buffer) ? (size_t)length
		                                                                   : sizeof(buffer) - 1);
}

static bool is_tag_special(char character)
{
	return character == ',' || character == ' ' || character == '=';
}

/* See the top of the file for why backslashes are treated this way. */
static void writer_append_escaped(struct line_writer *writer, enum lineproto_backslash backslash, const char *text)
{
	if (backslash == LINEPROTO_BACKSLASH_DOUBLED) {
		for (const char *p = text; *p; p++) {
			if (*p == '\\' || is_tag_special(*p))
				writer_append(writer, "\\", 1);
			writer_append(writer, p, 1);
		}
		return;
	}
	size_t end = strlen(text);
	while (end > 0 && text[end - 1] == '\\')
		end--;
	for (size_t i = 0; i < end;) {
		if (text[i] == '\\') {
			size_t run = 0;
			while (i + run < end && text[i + run] == '\\')
				run++;
			writer_append(writer, text + i, run);
			if (run % 2 == 1 && is_tag_special(text[i + run]))
				writer_append(writer, "\\", 1);
			i += run;
			continue;
		}
		if (is_tag_special(text[i]))
			writer_append(writer, "\\", 1);
		writer_append(writer, text + i, 1);
		i++;
	}
}

static int writer_finish(struct line_writer *writer)
{
	if (writer->length >= writer->size || writer->length > INT_MAX) {
		if (writer->size > 0)
			writer->out[0] = '\0';
		return -ENOSPC;
	}
	writer->out[writer->length] = '\0';
	return (int)writer->length;
}

int lineproto_escape_tag(enum lineproto_backslash backslash, const char *text, char *out, size_t out_size)
{
	struct line_writer writer = { .out = out, .size = out_size, .length = 0 };
	writer_append_escaped(&writer, backslash, text);
	return writer_finish(&writer);
}

static void writer_append_tag(struct line_writer *writer, enum lineproto_backslash backslash, const char *key,
                              const char *value)
{
	if (value == NULL)
		return;
	/* A value that escapes to nothing (empty, or only backslashes) would
	 * make the point invalid; InfluxDB reads an absent tag as empty anyway. */
	struct line_writer probe = { .out = NULL, .size = 0, .length = 0 };
	writer_append_escaped(&probe, backslash, value);
	if (probe.length == 0)
		return;
	writer_append(writer, ",", 1);
	writer_append_text(writer, key);
	writer_append(writer, "=", 1);
	writer_append_escaped(writer, backslash, value);
}

static void writer_append_field(struct line_writer *writer, const struct window_field *field, bool first)
{
	writer_append(writer, first ? " " : ",", 1);
	writer_append_text(writer, field->key);
	writer_append(writer, "=", 1);
	if (field->kind == WINDOW_FIELD_INTEGER) {
		writer_printf(writer, "%" PRId64 "i", field->integer);
	} else {
		/* Without an 'i', line protocol reads a number as a float, so an
		 * integral value like 1 stays a float field. */
		char text[NUMBER_TEXT_SIZE];
		number_format_double(field->number, text);
		writer_append_text(writer, text);
	}
}

/* The length of the UTF-8 character at text (a NUL ends it), or 0 when
 * the bytes there are not one: overlong forms, surrogates and beyond
 * U+10FFFF are refused, as a strict decoder (Rust's, InfluxDB 3's) does. */
static size_t utf8_character_length(const unsigned char *text)
{
	unsigned char lead = text[0];
	size_t length;
	uint32_t code;
	if (lead < 0x80)
		return 1;
	if (lead >= 0xC2 && lead <= 0xDF)
		length = 2, code = lead & 0x1F;
	else if (lead >= 0xE0 && lead <= 0xEF)
		length = 3, code = lead & 0x0F;
	else if (lead >= 0xF0 && lead <= 0xF4)
		length = 4, code = lead & 0x07;
	else
		return 0;
	for (size_t i = 1; i < length; i++) {
		if ((text[i] & 0xC0) != 0x80)
			return 0;
		code = code << 6 | (text[i] & 0x3F);
	}
	if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
	    (length == 4 && (code < 0x10000 || code > 0x10FFFF)))
		return 0;
	return length;
}

/* A string field's value, quoted; see the top of the file. */
static void writer_append_string(struct line_writer *writer, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	writer_append(writer, "\"", 1);
	while (*p) {
		size_t length = utf8_character_length(p);
		if (length == 0) {
			writer_append(writer, "?", 1);
			p++;
			continue;
		}
		if (length == 1 && (*p < 0x20 || *p == 0x7F)) {
			writer_append(writer, " ", 1);
		} else {
			if (*p == '"' || *p == '\\')
				writer_append(writer, "\\", 1);
			writer_append(writer, (const char *)p, length);
		}
		p += length;
	}
	writer_append(writer, "\"", 1);
}

static void writer_append_timestamp(struct line_writer *writer, int64_t ts_ms)
{
	/* The store writer sends precision=s; floor division, before 1970 too. */
	int64_t ts_s = ts_ms / 1000 - (ts_ms % 1000 < 0);
	writer_printf(writer, " %" PRId64 "\n", ts_s);
}

/* measurement,district=…,gateway=…[,sensor=…][,site=…] FIELDS START_S */
static int lineproto_point(enum lineproto_backslash backslash, const char *measurement, const struct identity *id, const char *sensor,
                           const struct window_field *fields, size_t count, int64_t start_ms,
                           char *out, size_t out_size)
{
	struct line_writer writer = { .out = out, .size = out_size, .length = 0 };

	writer_append_text(&writer, measurement);
	/* Tags in key order: the server sorts them anyway, but sorted input
	 * spares it the work on every point. */
	writer_append_tag(&writer, backslash, "district", id->district);
	writer_append_tag(&writer, backslash, "gateway", id->gateway);
	writer_append_tag(&writer, backslash, "sensor", sensor);
	writer_append_tag(&writer, backslash, "site", id->site);

	for (size_t i = 0; i < count; i++)
		writer_append_field(&writer, &fields[i], i == 0);

	writer_append_timestamp(&writer, start_ms);
	return writer_finish(&writer);
}

int lineproto_window(enum lineproto_backslash backslash, const struct identity *id, const char *sensor,
                     const struct window_result *w, char *out, size_t out_size)
{
	struct window_field fields[WINDOW_FIELDS_MAX];
	size_t count = window_fields(w, fields);
	return lineproto_point(backslash, sensor_type_name(w->type), id, sensor, fields, count, w->start_ms, out, out_size);
}

int lineproto_gateway(enum lineproto_backslash backslash, const struct identity *id, int64_t start_ms, const struct health *health,
                      char *out, size_t out_size)
{
	struct window_field fields[HEALTH_FIELDS_MAX];
	size_t count = health_fields(health, fields);
	return lineproto_point(backslash, "gateway", id, NULL, fields, count, start_ms, out, out_size);
}

int lineproto_alert(enum lineproto_backslash backslash, const struct identity *id, const struct lineproto_alert *alert,
                    char *out, size_t out_size)
{
	struct line_writer writer = { .out = out, .size = out_size, .length = 0 };
	writer_append_text(&writer, "alert");
	writer_append_tag(&writer, backslash, "district", id->district);
	writer_append_tag(&writer, backslash, "gateway", id->gateway);
	writer_append_tag(&writer, backslash, "problem", alert->problem);
	writer_append_tag(&writer, backslash, "sensor", alert->sensor);
	writer_append_tag(&writer, backslash, "site", id->site);
	/* active first: VictoriaMetrics' read-back (store_readback.c) asks
	 * for a point by its first field, and this is the one every store
	 * keeps (VictoriaMetrics as 1 and 0). */
	writer_append_text(&writer, alert->active ? " active=true" : " active=false");
	if (alert->detail) {
		writer_append_text(&writer, ",detail=");
		writer_append_string(&writer, alert->detail);
	}
	writer_append_timestamp(&writer, alert->ts_ms);
	return writer_finish(&writer);
}

bool lineproto_tag_value_exact(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p == '\\' && (p[1] == '\0' || p[1] == ',' || p[1] == ' ' || p[1] == '='))
			return false;
	return true;
}
