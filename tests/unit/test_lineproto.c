/* test_lineproto.c — line protocol for closed windows, the gateway's own
 * point and sensor problems (lineproto.c).
 *
 * Besides exact lines, every hostile tag value is written and read back
 * with a small splitter that follows influxd 1.6's own rules (a separator
 * right after a backslash counts as escaped; only "\," "\ " "\=" are
 * unescaped, one kind after the other), and with the server's second
 * scanner, the one that cuts the body into lines, to check both agree on
 * where the tags end. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"
#include "lineproto.h"

#define MAX_TAGS 8
#define MAX_FIELDS 16
#define TEXT_MAX 256

struct parsed_point {
	char measurement[TEXT_MAX];
	int tag_count;
	char tag_keys[MAX_TAGS][TEXT_MAX];
	char tag_values[MAX_TAGS][TEXT_MAX];
	int field_count;
	char field_keys[MAX_FIELDS][TEXT_MAX];
	char field_values[MAX_FIELDS][TEXT_MAX];
	char timestamp[TEXT_MAX];
	size_t tags_end;           /* offset of the space before the fields */
};

/* influxd 1.6 models.unescapeTag: "\," then "\ " then "\=", each replaced
 * all over the value before the next. */
static void unescape_like_influxd(const char *in, size_t length, char *out)
{
	char work[TEXT_MAX];
	assert_true(length < TEXT_MAX);
	memcpy(work, in, length);
	work[length] = '\0';
	const char codes[] = { ',', ' ', '=' };
	for (size_t c = 0; c < sizeof(codes); c++) {
		size_t from = 0, to = 0;
		while (work[from] != '\0') {
			if (work[from] == '\\' && work[from + 1] == codes[c]) {
				out[to++] = codes[c];
				from += 2;
			} else {
				out[to++] = work[from++];
			}
		}
		out[to] = '\0';
		memcpy(work, out, to + 1);
	}
}

static void copy_text(char *out, const char *from, size_t length)
{
	assert_true(length < TEXT_MAX);
	memcpy(out, from, length);
	out[length] = '\0';
}

/* The measurement and tags, up to the space before the fields (*end).
 * Returns 0, or -1 where influxd 1.6 would refuse the line. */
static int parse_series(const char *line, struct parsed_point *point, size_t *end)
{
	memset(point, 0, sizeof(*point));
	size_t length = strlen(line);
	if (length == 0 || line[length - 1] != '\n')
		return -1;
	size_t i = strcspn(line, ", ");
	copy_text(point->measurement, line, i);
	if (line[i] == ',') {
		for (;;) {
			size_t key_start = ++i;
			while (line[i] != '=' && line[i] != '\n') {
				if (line[i] == '\\')
					i++;
				i++;
			}
			if (line[i] != '=' || point->tag_count == MAX_TAGS)
				return -1;
			copy_text(point->tag_keys[point->tag_count], line + key_start, i - key_start);
			size_t value_start = ++i;
			if (line[i] == ',' || line[i] == ' ' || line[i] == '\n')
				return -1;           /* empty tag value */
			for (;;) {
				i++;
				char c = line[i];
				bool escaped = line[i - 1] == '\\';
				if (c == '\n')
					return -1;
				if (c == '=' && !escaped)
					return -1;
				if ((c == ',' || c == ' ') && !escaped)
					break;
			}
			unescape_like_influxd(line + value_start, i - value_start,
			                      point->tag_values[point->tag_count]);
			point->tag_count++;
			if (line[i] == ' ')
				break;
		}
	}
	if (line[i] != ' ')
		return -1;
	point->tags_end = i;
	*end = i;
	return 0;
}

/* Returns 0, or -1 where influxd 1.6 would refuse the line.  Numeric
 * fields only (parse_alert_line() reads strings). */
static int parse_line(const char *line, struct parsed_point *point)
{
	size_t i;
	if (parse_series(line, point, &i) != 0 || strchr(line, '\n') != line + strlen(line) - 1)
		return -1;
	for (;;) {
		size_t key_start = ++i;
		i += strcspn(line + i, "=");
		if (line[i] != '=' || point->field_count == MAX_FIELDS)
			return -1;
		copy_text(point->field_keys[point->field_count], line + key_start, i - key_start);
		size_t value_start = ++i;
		i += strcspn(line + i, ", \n");
		copy_text(point->field_values[point->field_count], line + value_start, i - value_start);
		point->field_count++;
		if (line[i] != ',')
			break;
	}
	if (line[i] != ' ')
		return -1;
	size_t time_start = ++i;
	i += strspn(line + i, "-0123456789");
	if (line[i] != '\n')
		return -1;
	copy_text(point->timestamp, line + time_start, i - time_start);
	return 0;
}

/* influxd 1.6 models.scanLine, which cuts a body into lines: it skips a
 * backslash together with the byte after it, and counts quotes only after
 * the first space it sees.  Where that space is, by its reckoning. */
static size_t line_splitter_first_space(const char *line)
{
	size_t length = strlen(line);
	for (size_t i = 0; i < length;) {
		if (line[i] == '\\' && i + 2 < length) {
			i += 2;
			continue;
		}
		if (line[i] == ' ')
			return i;
		i++;
	}
	return length;
}

static const char *tag_value(const struct parsed_point *point, const char *key)
{
	for (int i = 0; i < point->tag_count; i++)
		if (strcmp(point->tag_keys[i], key) == 0)
			return point->tag_values[i];
	return NULL;
}

static struct window_result footfall_window(void)
{
	struct window_result w = {
		.type = SENSOR_FOOTFALL,
		.start_ms = INT64_C(1793599200000),
		.end_ms = INT64_C(1793599260000),
		.coverage = 1.0,
		.samples = 3,
		.count = 12,
		.has_direction = true,
		.in = 7,
		.out = 5,
	};
	return w;
}

static void assert_line(const struct identity *id, const char *sensor,
                        const struct window_result *w, const char *expected)
{
	char out[512];
	int length = lineproto_window(LINEPROTO_BACKSLASH_AS_IS, id, sensor, w, out, sizeof(out));
	assert_int_equal(length, (int)strlen(expected));
	assert_string_equal(out, expected);
}

static void test_footfall_line(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget" };
	struct window_result w = footfall_window();
	assert_line(&id, "door", &w,
	            "footfall,district=Årby,gateway=gw-01,sensor=door,site=Torget "
	            "count=12i,in=7i,out=5i,samples=3i,coverage=1 1793599200\n");

	w.has_direction = false;
	w.coverage = 0.5;
	id.site = NULL;
	assert_line(&id, "door", &w,
	            "footfall,district=Årby,gateway=gw-01,sensor=door count=12i,samples=3i,coverage=0.5 1793599200\n");

	w.count = UINT64_MAX;   /* beyond line protocol integers: clamped, not refused */
	assert_line(&id, "door", &w,
	            "footfall,district=Årby,gateway=gw-01,sensor=door "
	            "count=9223372036854775807i,samples=3i,coverage=0.5 1793599200\n");
}

static void test_light_line(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Fröslunda", .site = NULL };
	struct window_result w = {
		.type = SENSOR_LIGHT,
		.start_ms = INT64_C(1793599200000),
		.end_ms = INT64_C(1793599260000),
		.coverage = 0.1,
		.samples = 12,
		.lux_min = 0.5,
		.lux_mean = 12.25,
		.lux_max = 40,
		.dark_s = 30,
	};
	assert_line(&id, "lux", &w,
	            "light,district=Fröslunda,gateway=gw-01,sensor=lux "
	            "lux_min=0.5,lux_mean=12.25,lux_max=40,dark_s=30i,samples=12i,coverage=0.1 "
	            "1793599200\n");

	/* the shortest form that reads back equal: 1/3 needs 16 digits, 0.1 + 0.2 17 */
	w.lux_mean = 1.0 / 3.0;
	w.lux_max = 0.1 + 0.2;
	w.lux_min = 1e-300;
	assert_line(&id, "lux", &w,
	            "light,district=Fröslunda,gateway=gw-01,sensor=lux "
	            "lux_min=1e-300,lux_mean=0.3333333333333333,lux_max=0.30000000000000004,"
	            "dark_s=30i,samples=12i,coverage=0.1 1793599200\n");

	/* no samples: no lux at all, so an outage never reads as darkness */
	w.samples = 0;
	w.coverage = 0;
	w.dark_s = 0;
	assert_line(&id, "lux", &w,
	            "light,district=Fröslunda,gateway=gw-01,sensor=lux dark_s=0i,samples=0i,coverage=0 "
	            "1793599200\n");

	/* a value line protocol cannot spell is left out, not the point refused */
	w.samples = 1;
	w.lux_min = w.lux_max = 3;
	w.lux_mean = NAN;
	w.coverage = 1;
	assert_line(&id, "lux", &w,
	            "light,district=Fröslunda,gateway=gw-01,sensor=lux "
	            "lux_min=3,lux_max=3,dark_s=0i,samples=1i,coverage=1 1793599200\n");
}

static void test_lamp_line(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget" };
	struct window_result w = {
		.type = SENSOR_LAMP,
		.start_ms = INT64_C(1793599200000),
		.end_ms = INT64_C(1793599260000),
		.coverage = 0.75,
		.samples = 9,
		.on_s = 45,
		.fault_s = 15,
	};
	assert_line(&id, "lamp1", &w,
	            "lamp,district=Årby,gateway=gw-01,sensor=lamp1,site=Torget "
	            "on_s=45i,fault_s=15i,samples=9i,coverage=0.75 1793599200\n");

	/* before 1970 the timestamp is still the window start, floor division */
	w.start_ms = -60000;
	assert_line(&id, "lamp1", &w,
	            "lamp,district=Årby,gateway=gw-01,sensor=lamp1,site=Torget "
	            "on_s=45i,fault_s=15i,samples=9i,coverage=0.75 -60\n");
	w.start_ms = -1500;
	assert_line(&id, "lamp1", &w,
	            "lamp,district=Årby,gateway=gw-01,sensor=lamp1,site=Torget "
	            "on_s=45i,fault_s=15i,samples=9i,coverage=0.75 -2\n");
}

/* The gateway's own point: measurement gateway, no sensor tag, the fields
 * of health_fields() as integers, at the window start. */
static void test_gateway_line(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget 3, ingång=öst" };
	struct health health = {
		.readings = 1234, .published = 1300, .buffered = 2, .dropped = 3, .lost = 4, .reconnects = 5,
		.spooled = 6, .sent = 7, .spool_dropped = 8, .rejected = 9, .missing = 10, .problems = 1,
		.unstamped_windows = 11, .implausible = 12, .uptime_s = 3600, .window_s = 60,
		.memory = INT64_C(5431296),
	};
	char out[512];
	const char *expected =
		"gateway,district=Årby,gateway=gw-01,site=Torget\\ 3\\,\\ ingång\\=öst "
		"readings=1234i,published=1300i,buffered=2i,dropped=3i,lost=4i,reconnects=5i,spooled=6i,sent=7i,"
		"spool_dropped=8i,rejected=9i,missing=10i,problems=1i,unstamped_windows=11i,implausible=12i,uptime_s=3600i,"
		"window_s=60i,memory=5431296i 1793599200\n";
	int length = lineproto_gateway(LINEPROTO_BACKSLASH_AS_IS, &id, INT64_C(1793599200000), &health, out, sizeof(out));
	assert_int_equal(length, (int)strlen(expected));
	assert_string_equal(out, expected);

	/* no site, memory unknown (left out), a huge counter clamped */
	id.site = NULL;
	health = (struct health){ .sent = UINT64_MAX, .uptime_s = 59, .window_s = 300, .memory = -1 };
	expected = "gateway,district=Årby,gateway=gw-01 readings=0i,published=0i,buffered=0i,dropped=0i,lost=0i,"
	           "reconnects=0i,spooled=0i,sent=9223372036854775807i,spool_dropped=0i,rejected=0i,missing=0i,"
	           "problems=0i,unstamped_windows=0i,implausible=0i,uptime_s=59i,window_s=300i -60\n";
	length = lineproto_gateway(LINEPROTO_BACKSLASH_AS_IS, &id, -60000, &health, out, sizeof(out));
	assert_int_equal(length, (int)strlen(expected));
	assert_string_equal(out, expected);

	/* too small: nothing half-written */
	char small[16];
	assert_int_equal(lineproto_gateway(LINEPROTO_BACKSLASH_AS_IS, &id, 0, &health, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
}

struct escape_case {
	const char *value;
	const char *escaped;
	const char *stored;      /* what influxd 1.6 keeps; NULL: the tag is left out */
};

/* Findings against a real influxd 1.6.7; see the top of lineproto.c. */
static const struct escape_case escape_cases[] = {
	{ "plain", "plain", "plain" },
	{ "a,b", "a\\,b", "a,b" },
	{ "a\"b", "a\"b", "a\"b" },
	{ "\"", "\"", "\"" },
	{ "a=b", "a\\=b", "a=b" },
	{ "=a", "\\=a", "=a" },
	{ ",a", "\\,a", ",a" },
	{ "a b", "a\\ b", "a b" },
	{ " lead", "\\ lead", " lead" },
	{ "trail ", "trail\\ ", "trail " },
	{ "  both  ", "\\ \\ both\\ \\ ", "  both  " },
	{ "a+b#c/d", "a+b#c/d", "a+b#c/d" },
	{ "#", "#", "#" },
	{ "\xF0\x9F\x98\x80 emoji", "\xF0\x9F\x98\x80\\ emoji", "\xF0\x9F\x98\x80 emoji" },
	{ "Årby", "Årby", "Årby" },
	{ "Norra Nyfors / Centrum", "Norra\\ Nyfors\\ /\\ Centrum", "Norra Nyfors / Centrum" },
	{ "x=1i", "x\\=1i", "x=1i" },
	{ "a, b=c d", "a\\,\\ b\\=c\\ d", "a, b=c d" },
	/* backslashes are kept as they are: 1.6 never unescapes "\\" */
	{ "a\\b", "a\\b", "a\\b" },
	{ "\\a", "\\a", "\\a" },
	{ "a\\\\b", "a\\\\b", "a\\\\b" },
	{ "a\\\\ b", "a\\\\\\ b", "a\\\\ b" },       /* even run before a space */
	{ "a\\\\,b", "a\\\\\\,b", "a\\\\,b" },
	/* what cannot be stored exactly: an odd run right before , space = gains
	 * one backslash; trailing backslashes are dropped */
	{ "a\\ b", "a\\\\\\ b", "a\\\\ b" },
	{ "a\\,b", "a\\\\\\,b", "a\\\\,b" },
	{ "a\\=b", "a\\\\\\=b", "a\\\\=b" },
	{ "\\ \\=\"", "\\\\\\ \\\\\\=\"", "\\\\ \\\\=\"" },
	{ "a\\", "a", "a" },
	{ "a\\\\", "a", "a" },
	{ "a \\", "a\\ ", "a " },
	{ "\\", "", NULL },
	{ "\\\\\\", "", NULL },
	{ "", "", NULL },
};

static void test_escape_tag(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
		char out[TEXT_MAX];
		int length = lineproto_escape_tag(LINEPROTO_BACKSLASH_AS_IS, escape_cases[i].value, out, sizeof(out));
		if (length != (int)strlen(escape_cases[i].escaped) ||
		    strcmp(out, escape_cases[i].escaped) != 0)
			fail_msg("escaping \"%s\" gave \"%s\" (%d), not \"%s\"", escape_cases[i].value,
			         out, length, escape_cases[i].escaped);
	}
}

/* The rule for VictoriaMetrics and InfluxDB 3: every backslash doubled,
 * so every value, trailing backslashes included, comes back as it was. */
static void test_escape_tag_doubled(void **state)
{
	(void)state;
	static const struct { const char *value, *escaped; } cases[] = {
		{ "plain", "plain" },
		{ "a b,c=d", "a\\ b\\,c\\=d" },
		{ "a\\b", "a\\\\b" },
		{ "a\\\\b", "a\\\\\\\\b" },
		{ "a\\ b", "a\\\\\\ b" },
		{ "end\\", "end\\\\" },
		{ "\"#+/ \u00c5", "\"#+/\\ \u00c5" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[TEXT_MAX];
		int length = lineproto_escape_tag(LINEPROTO_BACKSLASH_DOUBLED, cases[i].value, out, sizeof(out));
		if (length != (int)strlen(cases[i].escaped) || strcmp(out, cases[i].escaped) != 0)
			fail_msg("escaping \"%s\" gave \"%s\" (%d), not \"%s\"", cases[i].value, out, length,
			         cases[i].escaped);
	}
}

/* Every hostile value as district and as site, next to every other one:
 * the line must parse to exactly the four tags, with the values influxd
 * stores, and the server's line splitter must see the tags end where the
 * tag parser does (else a quote later in the line can swallow the newline
 * and take the following points of the batch with it). */
static void test_hostile_tags_read_back(void **state)
{
	(void)state;
	size_t count = sizeof(escape_cases) / sizeof(escape_cases[0]);
	struct window_result w = footfall_window();
	for (size_t d = 0; d < count; d++) {
		for (size_t s = 0; s < count; s++) {
			struct identity id = { .gateway = "gw-01", .district = escape_cases[d].value,
			                       .site = escape_cases[s].value };
			char line[1024];
			struct parsed_point point;
			assert_true(lineproto_window(LINEPROTO_BACKSLASH_AS_IS, &id, "door", &w, line, sizeof(line)) > 0);
			if (parse_line(line, &point) != 0)
				fail_msg("influxd would refuse: %s", line);
			assert_string_equal(point.measurement, "footfall");
			assert_int_equal(point.tags_end, line_splitter_first_space(line));

			int expected_tags = 2 + (escape_cases[d].stored != NULL) +
			                    (escape_cases[s].stored != NULL);
			assert_int_equal(point.tag_count, expected_tags);
			assert_string_equal(tag_value(&point, "gateway"), "gw-01");
			assert_string_equal(tag_value(&point, "sensor"), "door");
			if (escape_cases[d].stored != NULL)
				assert_string_equal(tag_value(&point, "district"), escape_cases[d].stored);
			else
				assert_null(tag_value(&point, "district"));
			if (escape_cases[s].stored != NULL)
				assert_string_equal(tag_value(&point, "site"), escape_cases[s].stored);
			else
				assert_null(tag_value(&point, "site"));

			assert_int_equal(point.field_count, 5);
			assert_string_equal(point.field_keys[0], "count");
			assert_string_equal(point.field_values[0], "12i");
			assert_string_equal(point.field_keys[3], "samples");
			assert_string_equal(point.field_keys[4], "coverage");
			assert_string_equal(point.timestamp, "1793599200");
		}
	}
}

/* The values that round-trip do so exactly: the same string comes back. */
static void test_round_trip_exact(void **state)
{
	(void)state;
	static const char *const values[] = {
		"Årby", "a,b", "a\"b", "a=b", "a b", "a\\b", "a+b", "#a", "a/b",
		"\xF0\x9F\x98\x80", " lead", "trail ", "a\\\\ b", "x=1i,y=2 3",
	};
	struct window_result w = footfall_window();
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct identity id = { .gateway = "gw-01", .district = values[i], .site = values[i] };
		char line[512];
		struct parsed_point point;
		assert_true(lineproto_window(LINEPROTO_BACKSLASH_AS_IS, &id, "door", &w, line, sizeof(line)) > 0);
		assert_int_equal(parse_line(line, &point), 0);
		assert_string_equal(tag_value(&point, "district"), values[i]);
		assert_string_equal(tag_value(&point, "site"), values[i]);
	}
}

static void test_enospc(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "a b,c", .site = "Torget" };
	struct window_result w = footfall_window();
	char out[512];
	int length = lineproto_window(LINEPROTO_BACKSLASH_AS_IS, &id, "door", &w, out, sizeof(out));
	assert_true(length > 0);
	char expected[512];
	strcpy(expected, out);
	for (size_t size = 0; size <= (size_t)length; size++) {
		char small[512];
		memset(small, 'X', sizeof(small));
		assert_int_equal(lineproto_window(LINEPROTO_BACKSLASH_AS_IS, &id, "door", &w, small, size), -ENOSPC);
		if (size > 0)
			assert_string_equal(small, "");
		assert_int_equal(small[size], 'X');   /* nothing written past the buffer */
	}
	assert_int_equal(lineproto_window(LINEPROTO_BACKSLASH_AS_IS, &id, "door", &w, out, (size_t)length + 1), length);
	assert_string_equal(out, expected);

	assert_int_equal(lineproto_escape_tag(LINEPROTO_BACKSLASH_AS_IS, "a,b", out, 4), -ENOSPC);
	assert_int_equal(lineproto_escape_tag(LINEPROTO_BACKSLASH_AS_IS, "a,b", out, 5), 4);
	assert_string_equal(out, "a\\,b");
	assert_int_equal(lineproto_escape_tag(LINEPROTO_BACKSLASH_AS_IS, "", out, 0), -ENOSPC);
	assert_int_equal(lineproto_escape_tag(LINEPROTO_BACKSLASH_AS_IS, "", out, 1), 0);
}

/* ---- sensor problems: measurement alert ---- */

/* influxd 1.6 models.scanLine over a whole body: where the first line ends
 * (the index of its '\n'), with the quotes of string fields counted once
 * the first space is behind it and an '=' outnumbers the ','s. */
static size_t line_splitter_end(const char *body)
{
	size_t length = strlen(body), i = 0;
	bool quoted = false, fields = false;
	int equals = 0, commas = 0;
	while (i < length) {
		if (body[i] == '\\' && i + 2 < length) {
			i += 2;
			continue;
		}
		if (body[i] == ' ')
			fields = true;
		if (fields) {
			if (!quoted && body[i] == '=') {
				i++;
				equals++;
				continue;
			}
			if (!quoted && body[i] == ',') {
				i++;
				commas++;
				continue;
			}
			if (body[i] == '"' && equals > commas) {
				i++;
				quoted = !quoted;
				continue;
			}
		}
		if (body[i] == '\n' && !quoted)
			break;
		i++;
	}
	return i;
}

/* An alert line as influxd 1.6 reads it: the tags (parse_series), then
 * fields whose string values are unescaped as unescapeStringField does
 * ("\\" and "\"" are the character, any other backslash stays).
 * Returns 0, or -1 where it would refuse the line. */
static int parse_alert_line(const char *line, struct parsed_point *point)
{
	size_t i;
	if (parse_series(line, point, &i) != 0)
		return -1;
	for (;;) {
		size_t key_start = ++i;
		i += strcspn(line + i, "=");
		if (line[i] != '=' || point->field_count == MAX_FIELDS)
			return -1;
		copy_text(point->field_keys[point->field_count], line + key_start, i - key_start);
		char *value = point->field_values[point->field_count];
		size_t length = 0;
		if (line[++i] == '"') {
			for (i++; line[i] != '"'; ) {
				if (line[i] == '\0')
					return -1;
				assert_true(length + 1 < TEXT_MAX);
				if (line[i] == '\\' && (line[i + 1] == '"' || line[i + 1] == '\\'))
					i++;
				value[length++] = line[i++];
			}
			i++;
			value[length] = '\0';
		} else {
			size_t value_start = i;
			i += strcspn(line + i, ", \n");
			copy_text(value, line + value_start, i - value_start);
		}
		point->field_count++;
		if (line[i] != ',')
			break;
	}
	if (line[i] != ' ')
		return -1;
	size_t time_start = ++i;
	i += strspn(line + i, "-0123456789");
	if (line[i] != '\n' || line[i + 1] != '\0')
		return -1;
	copy_text(point->timestamp, line + time_start, i - time_start);
	return 0;
}

static void assert_alert_line(enum lineproto_backslash backslash, const struct identity *id,
                              const struct lineproto_alert *alert, const char *expected)
{
	char out[1024];
	int length = lineproto_alert(backslash, id, alert, out, sizeof(out));
	if (length != (int)strlen(expected) || strcmp(out, expected) != 0)
		fail_msg("alert line\n  %s  (%d), not\n  %s", out, length, expected);
}

/* A raise at its since, a clear at its time, in every store's spelling. */
static void test_alert_line(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Fröslunda", .site = "Skolvägen 2, norr" };
	struct lineproto_alert alert = {
		.sensor = "skolvag-passage", .problem = "failed", .active = true,
		.detail = "cannot read: No such device", .ts_ms = INT64_C(1794049200000),
	};
	assert_alert_line(LINEPROTO_BACKSLASH_AS_IS, &id, &alert,
	                  "alert,district=Fröslunda,gateway=gw-01,problem=failed,sensor=skolvag-passage,"
	                  "site=Skolvägen\\ 2\\,\\ norr active=true,detail=\"cannot read: No such device\" 1794049200\n");

	/* cleared, to the second (floor), no site */
	id.site = NULL;
	alert.active = false;
	alert.ts_ms = INT64_C(1794050400999);
	assert_alert_line(LINEPROTO_BACKSLASH_AS_IS, &id, &alert,
	                  "alert,district=Fröslunda,gateway=gw-01,problem=failed,sensor=skolvag-passage "
	                  "active=false,detail=\"cannot read: No such device\" 1794050400\n");

	/* VictoriaMetrics keeps no text: the detail is left out, active stays
	 * first (the read-back asks for alert_active) */
	id.district = "a\\b c";
	alert.problem = "lamp_fault";
	alert.detail = NULL;
	alert.active = true;
	alert.ts_ms = -1500;
	assert_alert_line(LINEPROTO_BACKSLASH_DOUBLED, &id, &alert,
	                  "alert,district=a\\\\b\\ c,gateway=gw-01,problem=lamp_fault,sensor=skolvag-passage "
	                  "active=true -2\n");
	assert_alert_line(LINEPROTO_BACKSLASH_AS_IS, &id, &alert,
	                  "alert,district=a\\b\\ c,gateway=gw-01,problem=lamp_fault,sensor=skolvag-passage "
	                  "active=true -2\n");
}

struct detail_case {
	const char *detail;
	const char *written;     /* between the quotes */
	const char *stored;      /* what influxd keeps */
};

static const struct detail_case detail_cases[] = {
	{ "plain text", "plain text", "plain text" },
	{ "", "", "" },
	{ "say \"hi\"", "say \\\"hi\\\"", "say \"hi\"" },
	{ "a\\b", "a\\\\b", "a\\b" },
	{ "end\\", "end\\\\", "end\\" },
	{ "\\\"", "\\\\\\\"", "\\\"" },
	{ "\"", "\\\"", "\"" },
	{ "x=1i,y=\"2\" 3 4", "x=1i,y=\\\"2\\\" 3 4", "x=1i,y=\"2\" 3 4" },
	{ "a, b=c d #+/", "a, b=c d #+/", "a, b=c d #+/" },
	{ "Årby \xF0\x9F\x98\x80 ö", "Årby \xF0\x9F\x98\x80 ö", "Årby \xF0\x9F\x98\x80 ö" },
	/* one point a line: control characters are spaces */
	{ "line\nbreak\ttab\r\x7f", "line break tab  ", "line break tab  " },
	{ "\"\n\\", "\\\" \\\\", "\" \\" },
	/* not UTF-8: a character cut at the end of a buffer, stray bytes, an
	 * overlong form, a surrogate, beyond U+10FFFF */
	{ "cut \xC3", "cut ?", "cut ?" },
	{ "cut \xF0\x9F\x98", "cut ???", "cut ???" },
	{ "bad \xFF \xC0\xAF \x80", "bad ? ?? ?", "bad ? ?? ?" },
	{ "\xED\xA0\x80 \xF4\x90\x80\x80", "??? ????", "??? ????" },
};

/* The detail: escaped so that every store reads back what was meant, and
 * the line ends where the server's line splitter thinks it does, whatever
 * the text; with every hostile district and site beside it. */
static void test_alert_detail(void **state)
{
	(void)state;
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = NULL };
	for (size_t i = 0; i < sizeof(detail_cases) / sizeof(detail_cases[0]); i++) {
		struct lineproto_alert alert = {
			.sensor = "door", .problem = "blocked", .active = true, .detail = detail_cases[i].detail,
			.ts_ms = INT64_C(1793599200000),
		};
		char expected[512];
		snprintf(expected, sizeof(expected),
		         "alert,district=Årby,gateway=gw-01,problem=blocked,sensor=door active=true,detail=\"%s\" 1793599200\n",
		         detail_cases[i].written);
		assert_alert_line(LINEPROTO_BACKSLASH_AS_IS, &id, &alert, expected);
	}

	size_t tag_count = sizeof(escape_cases) / sizeof(escape_cases[0]);
	for (size_t t = 0; t < tag_count; t++) {
		for (size_t d = 0; d < sizeof(detail_cases) / sizeof(detail_cases[0]); d++) {
			struct identity hostile = { .gateway = "gw-01", .district = escape_cases[t].value,
			                            .site = escape_cases[tag_count - 1 - t].value };
			struct lineproto_alert alert = {
				.sensor = "door", .problem = "stuck", .active = d % 2 == 0, .detail = detail_cases[d].detail,
				.ts_ms = INT64_C(1793599200000),
			};
			char body[2048];
			int length = lineproto_alert(LINEPROTO_BACKSLASH_AS_IS, &hostile, &alert, body, sizeof(body));
			assert_true(length > 0);
			/* a second point after it in the same body */
			assert_true(lineproto_alert(LINEPROTO_BACKSLASH_AS_IS, &hostile, &alert, body + length,
			                            sizeof(body) - (size_t)length) > 0);
			if (line_splitter_end(body) != (size_t)length - 1)
				fail_msg("the server cuts the body elsewhere: %s", body);
			body[length] = '\0';

			struct parsed_point point;
			if (parse_alert_line(body, &point) != 0)
				fail_msg("influxd would refuse: %s", body);
			assert_string_equal(point.measurement, "alert");
			assert_int_equal(point.tags_end, line_splitter_first_space(body));
			assert_string_equal(tag_value(&point, "gateway"), "gw-01");
			assert_string_equal(tag_value(&point, "problem"), "stuck");
			assert_string_equal(tag_value(&point, "sensor"), "door");
			const char *district = tag_value(&point, "district"), *site = tag_value(&point, "site");
			if (escape_cases[t].stored)
				assert_string_equal(district, escape_cases[t].stored);
			else
				assert_null(district);
			if (escape_cases[tag_count - 1 - t].stored)
				assert_string_equal(site, escape_cases[tag_count - 1 - t].stored);
			else
				assert_null(site);
			assert_int_equal(point.field_count, 2);
			assert_string_equal(point.field_keys[0], "active");
			assert_string_equal(point.field_values[0], d % 2 == 0 ? "true" : "false");
			assert_string_equal(point.field_keys[1], "detail");
			assert_string_equal(point.field_values[1], detail_cases[d].stored);
			assert_string_equal(point.timestamp, "1793599200");
		}
	}
}

/* The longest detail a sensor can hold, all of it escaped, fits the
 * daemon's line; a buffer too small gets nothing half-written. */
static void test_alert_enospc(void **state)
{
	(void)state;
	char detail[ALERT_DETAIL_SIZE];
	memset(detail, '"', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	struct identity id = { .gateway = "gw-01", .district = "Årby", .site = "Torget" };
	struct lineproto_alert alert = {
		.sensor = "door", .problem = "covered", .active = false, .detail = detail, .ts_ms = 0,
	};
	char out[1024];
	int length = lineproto_alert(LINEPROTO_BACKSLASH_AS_IS, &id, &alert, out, sizeof(out));
	assert_true(length > 2 * (ALERT_DETAIL_SIZE - 1));
	assert_true(length < 512);
	for (size_t size = 0; size <= (size_t)length; size += 7) {
		char small[1024];
		memset(small, 'X', sizeof(small));
		assert_int_equal(lineproto_alert(LINEPROTO_BACKSLASH_AS_IS, &id, &alert, small, size), -ENOSPC);
		if (size > 0)
			assert_string_equal(small, "");
		assert_int_equal(small[size], 'X');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_footfall_line),
		cmocka_unit_test(test_light_line),
		cmocka_unit_test(test_lamp_line),
		cmocka_unit_test(test_gateway_line),
		cmocka_unit_test(test_escape_tag),
		cmocka_unit_test(test_escape_tag_doubled),
		cmocka_unit_test(test_hostile_tags_read_back),
		cmocka_unit_test(test_round_trip_exact),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_alert_line),
		cmocka_unit_test(test_alert_detail),
		cmocka_unit_test(test_alert_enospc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
