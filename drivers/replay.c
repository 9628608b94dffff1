/* replay.c — the driver "replay": footfall, light and lamp readings played
 * back from a CSV file recorded at a site, to reproduce its day in a
 * simulation (or in real time, at the file's own timestamps).
 *
 * The file holds one reading a line, "ts,sensor,value[,dir]"; one file can
 * feed several sensors, each taking the rows whose sensor column names it.
 * open() reads the file once, checks every row the sensor takes and keeps
 * only those rows, in time order; sample() then answers from memory.  The
 * clock mostly moves forward one interval at a time, so a cursor remembers
 * where the last sample ended, and a step costs only the rows it passes
 * over (a jump costs their logarithm, a step back one binary search).
 *
 * open() allocates a struct replay_state with its rows, which close()
 * frees; it keeps no pointer into the sensor config or the environment. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver.h"
#include "parse.h"
#include "timefmt.h"

#define MS_PER_DAY INT64_C(86400000)

/* A year of 5-second rows of one sensor is about 220 MB of text; a larger
 * file is a mistake (a whole archive given by accident) and is refused
 * before it fills the board's memory.  Only the sensor's own rows are kept,
 * at 16 bytes (footfall 17) each. */
#define REPLAY_FILE_MAX (256 * 1024 * 1024)
#define TOO_LARGE "the file is larger than 256 MiB; keep only the rows of this board's sensors"
#define REPLAY_SENSOR_MAX 255
#define REPLAY_MAX_AGE_MAX (365 * MS_PER_DAY)
/* No counter sees a million people in one row; more is a corrupt file. */
#define FOOTFALL_ROW_MAX 1000000L
/* Light and lamp: by default a row older than this many intervals no
 * longer stands for now: the recorder was off. */
#define DEFAULT_MAX_AGE_INTERVALS 3
/* Field values quoted back in messages are cut here. */
#define SHOWN_MAX 40
#define SHOWN_SIZE (SHOWN_MAX + 4)
/* Every time in a file lies within the years 0000-9999 (about ±2.5e14 ms);
 * a clock beyond ±2^62 ms is clamped, so slot arithmetic cannot overflow. */
#define CLOCK_LIMIT (INT64_C(1) << 62)

struct row {
	int64_t ts_ms;
	double value;   /* lux, 0/1, or passes */
};

struct replay_state {
	enum sensor_type type;
	int64_t interval_ms;
	int64_t max_age_ms;          /* light and lamp */
	struct row *rows;            /* count rows, ts_ms never decreasing */
	unsigned char *directions;   /* footfall: an enum reading_direction per row; else NULL */
	size_t count;
	bool has_direction;          /* footfall: some row of the sensor has a dir */
	/* rows[cursor] is the first row at or after cursor_end_ms. */
	size_t cursor;
	int64_t cursor_end_ms;
};

/* What open() needs while it reads the file; borrows everything. */
struct loader {
	const char *path;
	const char *wanted;          /* the sensor column's value for our rows */
	struct replay_state *state;
	size_t capacity;
	int previous_line;           /* line of the last row taken */
	bool seen_content;           /* a line other than blank or comment was read */
	char *err;
	size_t err_size;
};

static const char header_short[] = "ts,sensor,value";
static const char header_long[] = "ts,sensor,value,dir";

/* ---- text ---------------------------------------------------------------- */

static bool has_control_character(const char *text)
{
	for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++)
		if (*cursor < 0x20 || *cursor == 0x7F)
			return true;
	return false;
}

static char *trim(char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	size_t length = strlen(text);
	while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == '\t'))
		text[--length] = '\0';
	return text;
}

/* A field as quoted in a message: cut to one short line, controls shown as '?'. */
static const char *shown(const char *text, char buffer[SHOWN_SIZE])
{
	size_t length = 0;
	for (; text[length] && length < SHOWN_MAX; length++) {
		unsigned char c = (unsigned char)text[length];
		buffer[length] = c < 0x20 || c == 0x7F ? '?' : (char)c;
	}
	if (text[length]) {
		/* Cut before a UTF-8 continuation byte, not inside a character. */
		while (length > 0 && ((unsigned char)text[length] & 0xC0) == 0x80)
			length--;
		memcpy(buffer + length, "...", 3);
		length += 3;
	}
	buffer[length] = '\0';
	return buffer;
}

static bool valid_file_option(const char *value)
{
	return value && value[0] != '\0' && strlen(value) < PATH_MAX && !has_control_character(value);
}

/* The sensor column is trimmed and split on commas, so a name with a comma,
 * or with spaces around it, could never match a row. */
static bool valid_sensor_option(const char *value)
{
	size_t length = value ? strlen(value) : 0;
	return length > 0 && length <= REPLAY_SENSOR_MAX && !has_control_character(value) &&
	       !strchr(value, ',') && value[0] != ' ' && value[length - 1] != ' ';
}

static bool parse_max_age(const char *value, int64_t *out)
{
	return value && parse_duration_ms(value, 0, REPLAY_MAX_AGE_MAX, out);
}

/* ---- reading the file ------------------------------------------------------ */

/* A problem with the file: at a line, or (line 0) with the file as a whole.
 * Returns result. */
__attribute__((format(printf, 4, 5)))
static int loader_fail(struct loader *loader, int result, int line, const char *format, ...)
{
	char message[256];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	if (line > 0)
		snprintf(loader->err, loader->err_size, "replay: %s:%d: %s", loader->path, line, message);
	else
		snprintf(loader->err, loader->err_size, "replay: %s: %s", loader->path, message);
	return result;
}

static int loader_append(struct loader *loader, int64_t ts_ms, double value, enum reading_direction direction)
{
	struct replay_state *state = loader->state;
	if (state->count == loader->capacity) {
		size_t capacity = loader->capacity ? loader->capacity * 2 : 1024;
		struct row *rows = reallocarray(state->rows, capacity, sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		state->rows = rows;
		if (state->type == SENSOR_FOOTFALL) {
			unsigned char *directions = realloc(state->directions, capacity);
			if (!directions)
				return -ENOMEM;
			state->directions = directions;
		}
		loader->capacity = capacity;
	}
	state->rows[state->count] = (struct row){ .ts_ms = ts_ms, .value = value };
	if (state->type == SENSOR_FOOTFALL) {
		state->directions[state->count] = (unsigned char)direction;
		state->has_direction = state->has_direction || direction != DIRECTION_NONE;
	}
	state->count++;
	return 0;
}

static int parse_value(struct loader *loader, int line, const char *text, double *value)
{
	char buffer[SHOWN_SIZE];
	switch (loader->state->type) {
	case SENSOR_LIGHT:
		if (!parse_decimal(text, 0, value))
			return loader_fail(loader, -EINVAL, line, "value '%s' is not a number of lux (0 or more)",
			                   shown(text, buffer));
		if (!sensor_type_value_plausible(SENSOR_LIGHT, *value))
			return loader_fail(loader, -EINVAL, line, "value '%s' is more lux than a light sensor can read",
			                   shown(text, buffer));
		return 0;
	case SENSOR_LAMP:
		if (!parse_decimal(text, 0, value) || !sensor_type_value_plausible(SENSOR_LAMP, *value))
			return loader_fail(loader, -EINVAL, line, "value '%s' must be 1 (lamp lit) or 0 (dark)",
			                   shown(text, buffer));
		return 0;
	case SENSOR_FOOTFALL: {
		long passes;
		if (text[0] == '-' && parse_integer(text, LONG_MIN, -1, &passes))
			return loader_fail(loader, -EINVAL, line, "value '%s' is negative; a count of passes is 0 or more",
			                   shown(text, buffer));
		if (!parse_integer(text, 0, LONG_MAX, &passes))
			return loader_fail(loader, -EINVAL, line, "value '%s' is not a whole number of passes",
			                   shown(text, buffer));
		if (passes > FOOTFALL_ROW_MAX)
			return loader_fail(loader, -EINVAL, line, "value '%s' is more than %ld passes in one row",
			                   shown(text, buffer), FOOTFALL_ROW_MAX);
		*value = (double)passes;
		return 0;
	}
	}
	return loader_fail(loader, -EINVAL, line, "unknown sensor type");
}

static int parse_direction(struct loader *loader, int line, const char *text, enum reading_direction *direction)
{
	char buffer[SHOWN_SIZE];
	*direction = DIRECTION_NONE;
	if (text[0] == '\0')
		return 0;
	if (loader->state->type != SENSOR_FOOTFALL)
		return loader_fail(loader, -EINVAL, line, "dir '%s' given, but only footfall rows have a direction",
		                   shown(text, buffer));
	if (strcmp(text, "in") == 0)
		*direction = DIRECTION_IN;
	else if (strcmp(text, "out") == 0)
		*direction = DIRECTION_OUT;
	else
		return loader_fail(loader, -EINVAL, line, "dir '%s' must be in, out or empty", shown(text, buffer));
	return 0;
}

/* One line of the file, without its line ending: 0 when it was taken or
 * skipped, or a negative errno with the message in loader->err. */
static int loader_line(struct loader *loader, int line, char *text)
{
	char buffer[SHOWN_SIZE];
	char *content = trim(text);
	if (content[0] == '\0' || content[0] == '#')
		return 0;
	bool first_content = !loader->seen_content;
	loader->seen_content = true;
	if (first_content && (strcmp(content, header_short) == 0 || strcmp(content, header_long) == 0))
		return 0;

	char *fields[4];
	size_t field_count = 0;
	for (char *cursor = content;; field_count++) {
		char *comma = strchr(cursor, ',');
		if (field_count < 4)
			fields[field_count] = cursor;
		if (!comma)
			break;
		*comma = '\0';
		cursor = comma + 1;
	}
	field_count++;
	/* Checked on every line, ours or not: a line with the wrong shape
	 * means the file is not what it claims to be. */
	if (field_count < 3 || field_count > 4)
		return loader_fail(loader, -EINVAL, line, "found %zu field%s; a row is ts,sensor,value or ts,sensor,value,dir",
		                   field_count, field_count == 1 ? "" : "s");
	for (size_t i = 0; i < field_count; i++)
		fields[i] = trim(fields[i]);
	if (strcmp(fields[1], loader->wanted) != 0)
		return 0;

	int64_t ts_ms;
	if (timefmt_parse_iso8601(fields[0], &ts_ms) < 0)
		return loader_fail(loader, -EINVAL, line, "ts '%s' is not an ISO-8601 UTC time such as 2026-11-02T06:00:05Z",
		                   shown(fields[0], buffer));
	struct replay_state *state = loader->state;
	if (state->count > 0 && ts_ms < state->rows[state->count - 1].ts_ms)
		return loader_fail(loader, -EINVAL, line,
		                   "ts %s is earlier than the row before it (line %d); "
		                   "the rows of sensor '%s' must be in time order",
		                   shown(fields[0], buffer), loader->previous_line, loader->wanted);

	double value;
	int result = parse_value(loader, line, fields[2], &value);
	if (result < 0)
		return result;
	enum reading_direction direction = DIRECTION_NONE;
	if (field_count == 4) {
		result = parse_direction(loader, line, fields[3], &direction);
		if (result < 0)
			return result;
	}
	result = loader_append(loader, ts_ms, value, direction);
	if (result < 0)
		return loader_fail(loader, result, 0, "out of memory for the rows of sensor '%s'", loader->wanted);
	loader->previous_line = line;
	return 0;
}

static int loader_read(struct loader *loader)
{
	char *line = NULL;
	size_t line_size = 0;
	int result = 0;
	FILE *file = fopen(loader->path, "re");
	struct stat status;
	if (!file || fstat(fileno(file), &status) < 0) {
		result = loader_fail(loader, -errno, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(status.st_mode)) {
		result = loader_fail(loader, -EINVAL, 0, "not a regular file");
		goto out;
	}
	if (status.st_size > REPLAY_FILE_MAX) {
		result = loader_fail(loader, -EFBIG, 0, TOO_LARGE);
		goto out;
	}

	size_t total = 0;
	for (int number = 1;; number++) {
		errno = 0;
		ssize_t length = getline(&line, &line_size, file);
		if (length < 0) {
			if (ferror(file))
				result = loader_fail(loader, errno ? -errno : -EIO, 0, "cannot read: %s",
				                     strerror(errno ? errno : EIO));
			break;
		}
		/* The size was checked, but the file may be growing while we read. */
		total += (size_t)length;
		if (total > REPLAY_FILE_MAX) {
			result = loader_fail(loader, -EFBIG, 0, TOO_LARGE);
			break;
		}
		if (memchr(line, '\0', (size_t)length)) {
			result = loader_fail(loader, -EINVAL, number, "contains a NUL byte; the file must be UTF-8 text");
			break;
		}
		if (length > 0 && line[length - 1] == '\n')
			line[--length] = '\0';
		if (length > 0 && line[length - 1] == '\r')
			line[--length] = '\0';   /* written on Windows */
		char *text = line;
		if (number == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
			text += 3;   /* the byte-order mark a spreadsheet puts first */
		result = loader_line(loader, number, text);
		if (result < 0)
			break;
	}
	if (result == 0 && loader->state->count == 0)
		result = loader_fail(loader, -EINVAL, 0, "no rows for sensor '%s'", loader->wanted);

out:
	free(line);
	if (file)
		fclose(file);
	return result;
}

/* ---- sampling ---------------------------------------------------------------- */

/* The first row in [low, high) at or after time, or high. */
static size_t first_at_or_after(const struct row *rows, size_t low, size_t high, int64_t time)
{
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (rows[middle].ts_ms < time)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* The first row at or after end_ms: every row before it is in the past of
 * the slot that ends there.  Moves the cursor. */
static size_t rows_before(struct replay_state *state, int64_t end_ms)
{
	size_t found;
	if (end_ms >= state->cursor_end_ms) {
		/* Galloping forward: rows before the cursor all lie before end_ms. */
		size_t low = state->cursor, high = state->cursor, step = 1;
		while (high < state->count && state->rows[high].ts_ms < end_ms) {
			low = high + 1;
			high = step < state->count - high ? high + step : state->count;
			step *= 2;
		}
		found = first_at_or_after(state->rows, low, high, end_ms);
	} else {
		/* Backwards (a restarted simulation): the answer is before the cursor. */
		found = first_at_or_after(state->rows, 0, state->cursor, end_ms);
	}
	state->cursor = found;
	state->cursor_end_ms = end_ms;
	return found;
}

static unsigned clamp_unsigned(uint64_t value)
{
	return value > UINT_MAX ? UINT_MAX : (unsigned)value;
}

static int footfall_sample(struct replay_state *state, int64_t slot_ms, int64_t end_ms, struct sample *out)
{
	/* The recording runs from the slot of its first row to the slot of
	 * its last: outside it nothing was read, which is not the same as
	 * nobody passing.  Within it, a slot without rows is a quiet one. */
	if (end_ms <= state->rows[0].ts_ms || slot_ms > state->rows[state->count - 1].ts_ms)
		return -ENODATA;
	uint64_t total = 0, inward = 0, outward = 0;
	for (size_t index = rows_before(state, end_ms); index > 0 && state->rows[index - 1].ts_ms >= slot_ms; index--) {
		uint64_t passes = (uint64_t)state->rows[index - 1].value;
		total += passes;
		if (state->directions[index - 1] == DIRECTION_IN)
			inward += passes;
		else if (state->directions[index - 1] == DIRECTION_OUT)
			outward += passes;
	}
	out->value = (double)clamp_unsigned(total);
	out->has_direction = state->has_direction;
	if (state->has_direction) {
		out->in = clamp_unsigned(inward);
		out->out = clamp_unsigned(outward);
	}
	return 0;
}

static int level_sample(struct replay_state *state, int64_t slot_ms, int64_t end_ms, struct sample *out)
{
	size_t index = rows_before(state, end_ms);
	if (index == 0 || state->rows[index - 1].ts_ms < slot_ms - state->max_age_ms)
		return -ENODATA;
	out->value = state->rows[index - 1].value;
	return 0;
}

/* ---- driver operations ------------------------------------------------------- */

static int replay_check_option(enum sensor_type type, const char *key, const char *value,
                               char *err, size_t err_size)
{
	if (strcmp(key, "file") == 0) {
		if (!valid_file_option(value)) {
			snprintf(err, err_size, "file must be the path of a CSV file of readings "
			         "(relative paths are taken from this file's folder)");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "sensor") == 0) {
		if (!valid_sensor_option(value)) {
			snprintf(err, err_size, "sensor must be a name from the file's sensor column "
			         "(1–%d bytes, no comma, no control characters)", REPLAY_SENSOR_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "max_age") == 0) {
		int64_t max_age_ms;
		if (type == SENSOR_FOOTFALL) {
			snprintf(err, err_size, "max_age applies only to light and lamp sensors");
			return -EINVAL;
		}
		if (!parse_max_age(value, &max_age_ms)) {
			snprintf(err, err_size, "max_age must be a duration from 0 to 365d, e.g. 15s, 10min or 1h");
			return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

static int replay_check_sensor(const struct sensor_config *sc, char *err, size_t err_size)
{
	/* The file itself is read at open: a relative path needs the config's
	 * folder, which only the environment knows. */
	if (!sensor_option(sc, "file")) {
		snprintf(err, err_size, "driver replay needs file = PATH, the CSV file of recorded readings");
		return -EINVAL;
	}
	return 0;
}

static void replay_close(void *opaque)
{
	struct replay_state *state = opaque;
	if (!state)
		return;
	free(state->rows);
	free(state->directions);
	free(state);
}

static int replay_open(const struct sensor_config *sc, const struct driver_env *env,
                       void **state_out, char *err, size_t err_size)
{
	struct replay_state *state = NULL;
	char *path = NULL;
	const char *file = sensor_option(sc, "file");
	const char *wanted = sensor_option(sc, "sensor");
	const char *max_age = sensor_option(sc, "max_age");
	int result = 0;

	if (sc->type != SENSOR_FOOTFALL && sc->type != SENSOR_LIGHT && sc->type != SENSOR_LAMP) {
		snprintf(err, err_size, "replay: unknown sensor type");
		result = -EINVAL;
		goto out;
	}
	if (sc->interval_s <= 0) {
		snprintf(err, err_size, "replay: interval must be positive");
		result = -EINVAL;
		goto out;
	}
	if (!valid_file_option(file)) {
		snprintf(err, err_size, "replay: file must be the path of a CSV file of readings");
		result = -EINVAL;
		goto out;
	}
	if (!wanted)
		wanted = sc->name;
	if (!valid_sensor_option(wanted)) {
		snprintf(err, err_size, "replay: sensor must be a name from the file's sensor column");
		result = -EINVAL;
		goto out;
	}

	state = calloc(1, sizeof(*state));
	if (!state) {
		snprintf(err, err_size, "replay: out of memory");
		result = -ENOMEM;
		goto out;
	}
	state->type = sc->type;
	state->interval_ms = (int64_t)sc->interval_s * 1000;
	state->max_age_ms = DEFAULT_MAX_AGE_INTERVALS * state->interval_ms;
	state->cursor_end_ms = INT64_MIN;
	if (max_age && (sc->type == SENSOR_FOOTFALL || !parse_max_age(max_age, &state->max_age_ms))) {
		snprintf(err, err_size, "replay: max_age must be a duration from 0 to 365d, for light and lamp sensors");
		result = -EINVAL;
		goto out;
	}

	if (file[0] == '/') {
		path = strdup(file);
	} else if (env && env->config_directory) {
		if (asprintf(&path, "%s/%s", env->config_directory, file) < 0)
			path = NULL;
	} else {
		snprintf(err, err_size, "replay: file %s is relative, but the configuration's folder is not known", file);
		result = -EINVAL;
		goto out;
	}
	if (!path) {
		snprintf(err, err_size, "replay: out of memory");
		result = -ENOMEM;
		goto out;
	}

	struct loader loader = {
		.path = path, .wanted = wanted, .state = state, .err = err, .err_size = err_size,
	};
	result = loader_read(&loader);
	if (result < 0)
		goto out;
	/* Give back what doubling left over; keeping it is harmless if it fails. */
	struct row *fitted = realloc(state->rows, state->count * sizeof(*state->rows));
	if (fitted)
		state->rows = fitted;

	*state_out = state;
	state = NULL;   /* now the caller's, until close() */

out:
	free(path);
	replay_close(state);
	return result;
}

static int replay_sample(void *opaque, int64_t now_ms, struct sample *out)
{
	struct replay_state *state = opaque;
	memset(out, 0, sizeof(*out));

	/* The daemon's slot: a timer that woke a few ms late still reads the
	 * slot it was due for, so no row is counted twice or missed. */
	int64_t now = now_ms > CLOCK_LIMIT ? CLOCK_LIMIT : now_ms < -CLOCK_LIMIT ? -CLOCK_LIMIT : now_ms;
	int64_t slot_ms = now / state->interval_ms * state->interval_ms;
	if (slot_ms > now)
		slot_ms -= state->interval_ms;   /* division truncates towards zero */
	int64_t end_ms = slot_ms + state->interval_ms;

	switch (state->type) {
	case SENSOR_FOOTFALL:
		return footfall_sample(state, slot_ms, end_ms, out);
	case SENSOR_LIGHT:
	case SENSOR_LAMP:
		return level_sample(state, slot_ms, end_ms, out);
	}
	return -EINVAL;
}

const struct driver_ops replay_driver = {
	.name = "replay",
	.types = (1u << SENSOR_FOOTFALL) | (1u << SENSOR_LIGHT) | (1u << SENSOR_LAMP),
	.simulated = true,
	.check_option = replay_check_option,
	.check_sensor = replay_check_sensor,
	.open = replay_open,
	.sample = replay_sample,
	.close = replay_close,
};
