/* fuzz_readback_answer.c — libFuzzer target: what the read-back
 * (gateway/store_readback.c) makes of VictoriaMetrics' answer to
 * /api/v1/export, store_export_has_timestamp() (store_export.h), on any
 * body, cut short or not, for any time asked for.
 *
 * The input: a switches byte (bit 0: the body was cut, as
 * STORE_HTTP_BODY_MAX cuts a long answer), the time asked for (8 bytes,
 * Unix ms), and the body, the rest (NUL bytes and all).
 *
 * What must hold: an answer of 1, 0, -EBADMSG or -EFBIG, -EFBIG only for a
 * cut body and never 0 for one; the same answer for the body again with a
 * series without that time added as a line of its own; and, for a body
 * that is read, 1 once a series with that time is added. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "store_export.h"

/* body, a newline unless it ends in one, and a series of one sample at
 * sample_ms, as a new allocation; its length in *total. */
static char *with_series(const uint8_t *body, size_t length, int64_t sample_ms, size_t *total)
{
	char series[128];
	int written = snprintf(series, sizeof(series),
	                       "{\"metric\":{\"__name__\":\"light_lux_min\",\"sensor\":\"sky\"},\"values\":[1],"
	                       "\"timestamps\":[%" PRId64 "]}\n", sample_ms);
	bool newline = length > 0 && body[length - 1] != '\n';
	char *text = malloc(length + 1 + (size_t)written);
	if (!text)
		abort();
	memcpy(text, body, length);
	if (newline)
		text[length] = '\n';
	memcpy(text + length + newline, series, (size_t)written);
	*total = length + newline + (size_t)written;
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input input = { .data = data, .size = size };
	bool cut = fuzz_take_byte(&input) & 0x01;
	/* Times as the read-back asks for them: whole seconds in ms, whose
	 * doubles are exact; the fuzzer's own above 2^53 are compared as
	 * doubles and may meet a neighbour. */
	int64_t timestamp_ms = (int64_t)(fuzz_take_u64(&input) % (UINT64_C(1) << 52));
	size_t length;
	const uint8_t *body = fuzz_rest(&input, &length);

	int r = store_export_has_timestamp((const char *)body, length, cut, timestamp_ms);
	FUZZ_CHECK(r == 1 || r == 0 || r == -EBADMSG || r == -EFBIG, "answer %d", r);
	FUZZ_CHECK(r != -EFBIG || cut, "%s", "too large, but not cut");
	FUZZ_CHECK(r != 0 || !cut, "%s", "not found in a cut body");

	/* A series at another time changes nothing: its line is read whole
	 * either way, and it holds no sample at timestamp_ms. */
	size_t total;
	char *other = with_series(body, length, timestamp_ms + 1000, &total);
	int again = store_export_has_timestamp(other, total, cut, timestamp_ms);
	/* Cut: the body's last piece, not read before, now ends in a newline
	 * and is read; only a whole, unread piece could change the answer. */
	if (!cut)
		FUZZ_CHECK(again == r, "answer %d, then %d with another series", r, again);
	free(other);

	/* A series at that very time is found in a body that is read. */
	char *found = with_series(body, length, timestamp_ms, &total);
	int present = store_export_has_timestamp(found, total, false, timestamp_ms);
	FUZZ_CHECK(present == 1 || present == -EBADMSG, "answer %d with the series added", present);
	FUZZ_CHECK(r != -EBADMSG || present == -EBADMSG, "%s", "a bad line, then none");
	free(found);
	return 0;
}
