/* store_export.h — what VictoriaMetrics' /api/v1/export answers, read for
 * the read-back (store_readback.h): whether the answer holds a sample at
 * a given time.
 *
 * The answer is JSON lines, one series a line, as VictoriaMetrics 1.79
 * writes them:
 *
 *     {"metric":{"__name__":"light_lux_min","district":"Årby",...},"values":[12.5],"timestamps":[1793599200000]}
 *
 * A pure function of the body's bytes, apart from the HTTP answer that
 * carries them, so that it can be fuzzed (tests/fuzz/fuzz_readback_answer.c).
 * The body is borrowed for the call; nothing is kept. */
#ifndef TRYGGD_STORE_EXPORT_H
#define TRYGGD_STORE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether the length bytes of body (NUL bytes included, no NUL needed at
 * the end) hold a series with a sample at timestamp_ms: 1 found; 0 not;
 * -EBADMSG when a line is not a series (a JSON object with a
 * "timestamps" array); -EFBIG when it is not found and cut says the body
 * was cut short (store_http.h keeps at most STORE_HTTP_BODY_MAX bytes):
 * the sample may be in what was not kept.  Of a cut body the last line,
 * which the cut may have ended early, is not read unless it ends in a
 * newline. */
int store_export_has_timestamp(const char *body, size_t length, bool cut, int64_t timestamp_ms);

#endif
