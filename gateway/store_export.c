/* store_export.c — see store_export.h. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store_export.h"

/* Whether one exported series (a JSON object) has a sample at timestamp_ms:
 * 1 or 0, or -EBADMSG when it is not such an object. */
static int series_has_timestamp(const char *text, size_t length, int64_t timestamp_ms)
{
	cJSON *series = cJSON_ParseWithLength(text, length);
	const cJSON *timestamps = cJSON_GetObjectItemCaseSensitive(series, "timestamps");
	int r = -EBADMSG;
	if (!cJSON_IsObject(series) || !cJSON_IsArray(timestamps))
		goto out;
	r = 0;
	const cJSON *timestamp;
	cJSON_ArrayForEach(timestamp, timestamps)
		/* Milliseconds of today are exact in a double. */
		if (cJSON_IsNumber(timestamp) && timestamp->valuedouble == (double)timestamp_ms)
			r = 1;
out:
	cJSON_Delete(series);
	return r;
}

int store_export_has_timestamp(const char *body, size_t length, bool cut, int64_t timestamp_ms)
{
	const char *end = body + length;
	/* A cut answer ends wherever the cut fell, most likely inside a
	 * series: that piece is not an answer that is not export's, only
	 * one not read whole.  What is after the last newline is left out. */
	if (cut) {
		while (end > body && end[-1] != '\n')
			end--;
	}
	int found = 0;
	for (const char *line = body; line < end;) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		const char *line_end = newline ? newline : end;
		if (line_end > line) {
			int r = series_has_timestamp(line, (size_t)(line_end - line), timestamp_ms);
			if (r < 0)
				return r;
			found |= r;
		}
		line = line_end + 1;
	}
	return found || !cut ? found : -EFBIG;
}
