/* lineproto_decode.h — a line-protocol reader for the tests: one point as
 * a store reads it back, to hold lineproto.c's output to what went in.
 *
 * Written from the stores' rules, not from lineproto.c: a tag value ends
 * at the first ',' or ' ' that no backslash escapes (a backslash escapes
 * the byte after it while the line is scanned); InfluxDB 1.x and 2.x then
 * turn "\," "\ " "\=" back into the character, one pass each, and keep
 * every other backslash (LINEPROTO_BACKSLASH_AS_IS), while VictoriaMetrics
 * and InfluxDB 3 also read "\\" as one backslash (DOUBLED).  A string
 * field is in double quotes, with '\"' and '\\' read as the character.
 *
 * The caller owns the struct lineproto_point and frees what it holds with
 * lineproto_point_free(). */
#ifndef TRYGGD_LINEPROTO_DECODE_H
#define TRYGGD_LINEPROTO_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"

#define DECODED_TAGS_MAX 8
#define DECODED_FIELDS_MAX 24

enum decoded_kind { DECODED_INTEGER, DECODED_FLOAT, DECODED_BOOLEAN, DECODED_STRING };

struct decoded_field {
	char *key;
	enum decoded_kind kind;
	int64_t integer;
	double number;
	bool boolean;
	char *text;                  /* DECODED_STRING */
};

struct lineproto_point {
	char *measurement;
	char *tag_keys[DECODED_TAGS_MAX];
	char *tag_values[DECODED_TAGS_MAX];
	size_t tag_count;
	struct decoded_field fields[DECODED_FIELDS_MAX];
	size_t field_count;
	int64_t timestamp;
};

/* Read exactly one point, ending in '\n', from the length bytes of text.
 * 0, or -EBADMSG with *why saying where the text is not one valid point
 * (extra bytes after it included), or -ENOMEM.  *point is filled either
 * way and is freed with lineproto_point_free(). */
int lineproto_decode(enum lineproto_backslash backslash, const char *text, size_t length,
                     struct lineproto_point *point, const char **why);
void lineproto_point_free(struct lineproto_point *point);

/* The value of tag key in point, or NULL. */
const char *lineproto_point_tag(const struct lineproto_point *point, const char *key);

#endif
