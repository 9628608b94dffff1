/* fuzz_watch.c — libFuzzer target: what `tryggctl watch` makes of the MQTT
 * messages it receives (gateway/ctl/watch_view.c, watch_show.c,
 * watch_seq.c, watch_text.c): each message through the human view and
 * through the --json line, then the summary.
 *
 * The input is a run of messages, each a selector byte (which topic under
 * the gateway, whether retained, how much later it arrives) and a payload
 * up to the next 0xff byte; a topic of the input's own comes first, up to
 * a 0xfe byte, when the selector asks for one.
 *
 * What must hold: nothing crashes or leaks; the view writes no control
 * character but the newline and, in colour, ESC; each --json line is one
 * line of strict JSON (RFC 8259, checked by a validator here, not by the
 * cJSON that wrote it) holding topic, retained and payload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz_input.h"
#include "watch.h"

#define BASE "trygghet/arby/arby-01"

static const char *const topics[] = {
	BASE "/status", BASE "/health", BASE "/torg-ljus/reading", BASE "/torg-ljus/window",
	BASE "/torg-ljus/alert", BASE "/torg-lampa/reading", BASE "/torg-passage/reading",
	BASE "/torg-passage/window", BASE "/torg-lampa/window", BASE "/status/extra", BASE "/x/y/z",
};

/* ---- a strict JSON validator (RFC 8259) ---- */

struct json_reader {
	const char *p, *end;
	int depth;
};

static void skip_blank(struct json_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool json_value(struct json_reader *r);

static bool json_string(struct json_reader *r)
{
	if (r->p >= r->end || *r->p != '"')
		return false;
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			r->p++;
			if (r->p >= r->end)
				return false;
			if (*r->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (r->p + i >= r->end || !strchr("0123456789abcdefABCDEF", r->p[i]) || !r->p[i])
						return false;
				r->p += 4;
			} else if (!strchr("\"\\/bfnrt", *r->p) || !*r->p) {
				return false;
			}
		}
		r->p++;
	}
	if (r->p >= r->end)
		return false;
	r->p++;
	return true;
}

static bool digits(struct json_reader *r)
{
	const char *start = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > start;
}

static bool json_number(struct json_reader *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!digits(r))
		return false;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!digits(r))
			return false;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!digits(r))
			return false;
	}
	return true;
}

static bool json_literal(struct json_reader *r, const char *word)
{
	size_t length = strlen(word);
	if ((size_t)(r->end - r->p) < length || memcmp(r->p, word, length) != 0)
		return false;
	r->p += length;
	return true;
}

static bool json_value(struct json_reader *r)
{
	if (++r->depth > 1000)
		return false;
	skip_blank(r);
	bool good;
	if (r->p >= r->end) {
		good = false;
	} else if (*r->p == '{' || *r->p == '[') {
		char close = *r->p == '{' ? '}' : ']';
		bool object = *r->p == '{';
		r->p++;
		skip_blank(r);
		good = true;
		if (r->p < r->end && *r->p == close) {
			r->p++;
		} else {
			for (;;) {
				if (object) {
					skip_blank(r);
					if (!json_string(r)) {
						good = false;
						break;
					}
					skip_blank(r);
					if (r->p >= r->end || *r->p != ':') {
						good = false;
						break;
					}
					r->p++;
				}
				if (!json_value(r)) {
					good = false;
					break;
				}
				skip_blank(r);
				if (r->p < r->end && *r->p == ',') {
					r->p++;
					continue;
				}
				good = r->p < r->end && *r->p == close;
				if (good)
					r->p++;
				break;
			}
		}
	} else if (*r->p == '"') {
		good = json_string(r);
	} else if (*r->p == 't' || *r->p == 'f' || *r->p == 'n') {
		good = json_literal(r, "true") || json_literal(r, "false") || json_literal(r, "null");
	} else {
		good = json_number(r);
	}
	r->depth--;
	return good;
}

static bool strict_json(const char *text, size_t length)
{
	struct json_reader r = { .p = text, .end = text + length };
	bool good = json_value(&r);
	skip_blank(&r);
	return good && r.p == r.end;
}

/* ---- the target ---- */

static void check_view_output(const char *text, size_t length, bool color)
{
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)text[i];
		FUZZ_CHECK(c >= 0x20 || c == '\n' || (color && c == 0x1b), "control byte 0x%02x at %zu in: %.*s", c, i,
		           (int)length, text);
		FUZZ_CHECK(c != 0x7f, "DEL at %zu in: %.*s", i, (int)length, text);
	}
}

static void check_json_line(const char *text, size_t length)
{
	FUZZ_CHECK(length > 0 && text[length - 1] == '\n' && memchr(text, '\n', length) == text + length - 1,
	           "not one line: %.*s", (int)length, text);
	FUZZ_CHECK(strict_json(text, length - 1), "not strict JSON: %.*s", (int)length, text);
	cJSON *json = cJSON_ParseWithLength(text, length);
	FUZZ_CHECK(json && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "topic")) &&
	           cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(json, "retained")) &&
	           cJSON_GetObjectItemCaseSensitive(json, "payload"), "fields missing: %.*s", (int)length, text);
	cJSON_Delete(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input input = { .data = data, .size = size };
	bool color = fuzz_take_byte(&input) & 1;
	struct watch_view view;
	if (watch_view_init(&view, BASE, color) < 0)
		abort();
	watch_view_add_sensor(&view, "torg-ljus");
	char *view_text = NULL, *json_text = NULL;
	size_t view_length = 0, json_length = 0;
	int64_t now_ms = INT64_C(1793599200000);

	while (input.position < input.size) {
		uint8_t selector = fuzz_take_byte(&input);
		char *own_topic = (selector & 0x80) ? fuzz_take_text(&input, 0xfe) : NULL;
		size_t payload_length;
		const uint8_t *bytes = fuzz_take_bytes(&input, 0xff, &payload_length);
		/* An allocation of its own, exactly as long, as Paho hands it
		 * over (no NUL after it): a read past its end is a finding. */
		char *payload = malloc(payload_length ? payload_length : 1);
		if (!payload || ((selector & 0x80) && !own_topic))
			abort();
		const char *topic = own_topic ? own_topic : topics[(selector & 0x0f) % (sizeof(topics) / sizeof(topics[0]))];
		bool retained = selector & 0x40;
		now_ms += (selector & 0x30) == 0x30 ? -3600000 : (int64_t)(selector & 0x30) * 1000;

		memcpy(payload, bytes, payload_length);
		FILE *view_out = open_memstream(&view_text, &view_length);
		FILE *json_out = open_memstream(&json_text, &json_length);
		if (!view_out || !json_out)
			abort();
		watch_view_message(&view, topic, payload, payload_length, retained, now_ms, view_out);
		watch_json_line(topic, payload, payload_length, retained, json_out);
		fclose(view_out);
		fclose(json_out);
		check_view_output(view_text, view_length, color);
		check_json_line(json_text, json_length);
		free(view_text);
		free(json_text);
		view_text = json_text = NULL;
		free(own_topic);
		free(payload);
	}

	FILE *summary = open_memstream(&view_text, &view_length);
	if (!summary)
		abort();
	watch_view_summary(&view, now_ms, summary);
	fclose(summary);
	check_view_output(view_text, view_length, color);
	free(view_text);
	watch_view_free(&view);
	return 0;
}
