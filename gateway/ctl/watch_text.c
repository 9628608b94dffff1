/* watch_text.c — how `tryggctl watch` prints times, spans, numbers and
 * text that came from the broker, and reads the fields of a payload
 * (watch_internal.h); and one message as a line of JSON (watch.h).
 *
 * Text from a payload is never trusted to be printable: a string in JSON
 * may hold any control character (an escape sequence would repaint the
 * technician's terminal), and a payload need not be UTF-8 at all. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "timefmt.h"
#include "watch.h"
#include "watch_internal.h"

/* ---- times, spans and numbers ------------------------------------------------ */

static bool local_time(int64_t t_ms, struct tm *out)
{
	/* Floor division, so that a time before 1970 still shows its second. */
	time_t seconds = (time_t)(t_ms / 1000 - (t_ms % 1000 < 0));
	return localtime_r(&seconds, out) != NULL;
}

void watch_format_time(int64_t t_ms, int64_t now_ms, char out[WATCH_TIME_SIZE])
{
	struct tm when, today;
	if (!local_time(t_ms, &when) || !local_time(now_ms, &today)) {
		snprintf(out, WATCH_TIME_SIZE, "?");
		return;
	}
	bool same_day = when.tm_year == today.tm_year && when.tm_yday == today.tm_yday;
	if (strftime(out, WATCH_TIME_SIZE, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &when) == 0)
		snprintf(out, WATCH_TIME_SIZE, "?");
}

void watch_format_duration(int64_t ms, char out[WATCH_DURATION_SIZE])
{
	uint64_t s = (uint64_t)(ms < 0 ? -(ms / 1000) : ms / 1000);
	if (s < 60)
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " s", s);
	else if (s < 3600 && s % 60 == 0)
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " min", s / 60);
	else if (s < 3600)
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " min %" PRIu64 " s", s / 60, s % 60);
	else if (s < 86400 && s / 60 % 60 == 0)
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " h", s / 3600);
	else if (s < 86400)
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " h %" PRIu64 " min", s / 3600, s / 60 % 60);
	else if (s / 3600 % 24 == 0)
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " d", s / 86400);
	else
		snprintf(out, WATCH_DURATION_SIZE, "%" PRIu64 " d %" PRIu64 " h", s / 86400, s / 3600 % 24);
}

void watch_format_number(double value, char out[WATCH_NUMBER_SIZE])
{
	if (!isfinite(value))
		snprintf(out, WATCH_NUMBER_SIZE, "?");
	else if (value == floor(value) && fabs(value) < 1e15)
		snprintf(out, WATCH_NUMBER_SIZE, "%.0f", value == 0 ? 0.0 : value);
	else if (fabs(value) >= 1e15)
		snprintf(out, WATCH_NUMBER_SIZE, "%.6g", value);
	else if (fabs(value) >= 10)
		snprintf(out, WATCH_NUMBER_SIZE, "%.1f", value);
	else
		snprintf(out, WATCH_NUMBER_SIZE, "%.3g", value);
}

void watch_format_percent(double share, char out[WATCH_NUMBER_SIZE])
{
	if (!isfinite(share)) {
		snprintf(out, WATCH_NUMBER_SIZE, "?");
		return;
	}
	/* Down to the tenth, so only a full share reads 100 %. */
	double tenths = floor(share * 1000 + 1e-9);
	if (tenths == floor(tenths / 10) * 10)
		snprintf(out, WATCH_NUMBER_SIZE, "%.0f %%", tenths / 10);
	else
		snprintf(out, WATCH_NUMBER_SIZE, "%.1f %%", tenths / 10);
}

/* ---- text from the broker -------------------------------------------------- */

/* The length of the UTF-8 sequence at p (at most left bytes) and its code
 * point, or 0 when it is not well-formed. */
static size_t utf8_sequence(const unsigned char *p, size_t left, uint32_t *code)
{
	size_t length;
	uint32_t minimum;
	if (p[0] < 0x80) {
		*code = p[0];
		return 1;
	} else if ((p[0] & 0xe0) == 0xc0) {
		length = 2, minimum = 0x80, *code = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		length = 3, minimum = 0x800, *code = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		length = 4, minimum = 0x10000, *code = p[0] & 0x07;
	} else {
		return 0;
	}
	if (length > left)
		return 0;
	for (size_t i = 1; i < length; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*code = (*code << 6) | (p[i] & 0x3f);
	}
	if (*code < minimum || *code > 0x10ffff || (*code >= 0xd800 && *code <= 0xdfff))
		return 0;
	return length;
}

bool watch_utf8_valid(const char *text, size_t length)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t code;
	for (size_t i = 0; i < length;) {
		size_t step = utf8_sequence(p + i, length - i, &code);
		if (step == 0)
			return false;
		i += step;
	}
	return true;
}

void watch_put_text(FILE *out, const char *text, size_t length, size_t max)
{
	const unsigned char *p = (const unsigned char *)text;
	if (length == (size_t)-1)
		length = strlen(text);
	uint32_t code;
	for (size_t i = 0; i < length;) {
		size_t step = utf8_sequence(p + i, length - i, &code);
		if (i + (step ? step : 1) > max) {
			fputs("…", out);
			return;
		}
		if (step == 0) {
			fputs("\xef\xbf\xbd", out);   /* U+FFFD */
			i++;
		} else if (code < 0x20 || code == 0x7f || (code >= 0x80 && code < 0xa0)) {
			fputc('?', out);
			i += step;
		} else {
			fwrite(p + i, 1, step, out);
			i += step;
		}
	}
}

/* ---- a payload's fields ------------------------------------------------------------ */

const char *watch_json_text(const cJSON *json, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
	return cJSON_IsString(item) ? item->valuestring : NULL;
}

bool watch_json_number(const cJSON *json, const char *key, double *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
	if (!cJSON_IsNumber(item))
		return false;
	*out = item->valuedouble;
	return true;
}

bool watch_json_time(const cJSON *json, const char *key, int64_t *out)
{
	const char *text = watch_json_text(json, key);
	return text && timefmt_parse_iso8601(text, out) == 0;
}

/* ---- the JSON line ----------------------------------------------------------------- */

/* A JSON string of length bytes of text: what is not UTF-8 as U+FFFD,
 * control characters escaped. */
static void put_json_string(FILE *out, const char *text, size_t length)
{
	const unsigned char *p = (const unsigned char *)text;
	uint32_t code;
	fputc('"', out);
	for (size_t i = 0; i < length;) {
		size_t step = utf8_sequence(p + i, length - i, &code);
		if (step == 0) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		if (code == '"' || code == '\\')
			fprintf(out, "\\%c", (char)code);
		else if (code == '\n')
			fputs("\\n", out);
		else if (code == '\t')
			fputs("\\t", out);
		else if (code < 0x20 || code == 0x7f)
			fprintf(out, "\\u%04x", (unsigned)code);
		else
			fwrite(p + i, 1, step, out);
		i += step;
	}
	fputc('"', out);
}

static bool json_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A line break or another control character anywhere: cJSON takes them
 * raw inside strings too, where JSON does not. */
static bool has_control(const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++)
		if ((unsigned char)text[i] < 0x20)
			return true;
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The length of the JSON number (RFC 8259) at text, or 0 when the bytes
 * there are not one. */
static size_t json_number_length(const char *text, size_t length)
{
	size_t i = 0;
	if (i < length && text[i] == '-')
		i++;
	if (i < length && text[i] == '0')
		i++;
	else if (i < length && is_digit(text[i]))
		while (i < length && is_digit(text[i]))
			i++;
	else
		return 0;
	if (i < length && text[i] == '.') {
		if (++i >= length || !is_digit(text[i]))
			return 0;
		while (i < length && is_digit(text[i]))
			i++;
	}
	if (i < length && (text[i] == 'e' || text[i] == 'E')) {
		if (++i < length && (text[i] == '+' || text[i] == '-'))
			i++;
		if (i >= length || !is_digit(text[i]))
			return 0;
		while (i < length && is_digit(text[i]))
			i++;
	}
	return i;
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether the escape after the backslash at text[i] is one JSON allows:
 * cJSON takes "\u0rag" (its hex reader says 0 for what is not hex). */
static bool json_escape_strict(const char *text, size_t length, size_t i)
{
	if (i + 1 >= length)
		return false;
	if (text[i + 1] != 'u')
		return strchr("\"\\/bfnrt", text[i + 1]) != NULL && text[i + 1] != '\0';
	for (size_t k = 2; k <= 5; k++)
		if (i + k >= length || !is_hex(text[i + k]))
			return false;
	return true;
}

/* Whether every number and every escape in text, which cJSON took, is one
 * JSON allows: cJSON reads numbers with strtod, so it also takes "05",
 * "-01", "1." and "1.e5", and \u escapes that are not four hex digits,
 * which would make the line no JSON for a stricter reader. */
static bool json_tokens_strict(const char *text, size_t length)
{
	for (size_t i = 0; i < length;) {
		if (text[i] == '"') {
			for (i++; i < length && text[i] != '"'; i++) {
				if (text[i] == '\\') {
					if (!json_escape_strict(text, length, i))
						return false;
					i++;
				}
			}
			i++;
		} else if (text[i] == '-' || is_digit(text[i])) {
			/* The whole token as cJSON takes it, against the grammar. */
			size_t token = i;
			while (token < length && text[token] && (is_digit(text[token]) || strchr("+-.eE", text[token])))
				token++;
			if (json_number_length(text + i, length - i) != token - i)
				return false;
			i = token;
		} else {
			i++;
		}
	}
	return true;
}

int watch_json_line(const char *topic, const void *payload, size_t length, bool retained, FILE *out)
{
	const char *text = payload;
	const char *end = NULL;
	cJSON *parsed = NULL;
	/* Too large: not read at all (watch.h). */
	bool too_large = length > WATCH_MESSAGE_MAX;
	/* Well-formed UTF-8 first: cJSON passes any byte through, and a line
	 * that is not UTF-8 is not JSON for the script that reads it. */
	if (!too_large && length > 0 && watch_utf8_valid(text, length)) {
		parsed = cJSON_ParseWithLengthOpts(text, length, &end, false);
		while (parsed && end < text + length && json_blank(*end))
			end++;
		if (parsed && end != text + length) {
			cJSON_Delete(parsed);   /* something after the JSON */
			parsed = NULL;
		}
	}

	fputs("{\"topic\":", out);
	put_json_string(out, topic, strlen(topic));
	fprintf(out, ",\"retained\":%s,\"payload\":", retained ? "true" : "false");
	if (too_large) {
		fprintf(out, "null,\"too_large\":%zu", length);
	} else if (!parsed) {
		fputs("null,\"text\":", out);
		put_json_string(out, text, length);
	} else if (!has_control(text, length) && json_tokens_strict(text, length)) {
		/* As it came, so every digit stays; blanks around it go. */
		size_t first = 0, last = length;
		while (first < last && json_blank(text[first]))
			first++;
		while (last > first && json_blank(text[last - 1]))
			last--;
		fwrite(text + first, 1, last - first, out);
	} else {
		char *one_line = cJSON_PrintUnformatted(parsed);
		if (!one_line) {
			cJSON_Delete(parsed);
			return -ENOMEM;
		}
		fputs(one_line, out);
		free(one_line);
	}
	fputs("}\n", out);
	cJSON_Delete(parsed);
	return 0;
}
