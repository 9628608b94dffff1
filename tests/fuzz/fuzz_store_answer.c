/* fuzz_store_answer.c — libFuzzer target: what tryggd makes of the store's
 * answer to a write (gateway/store_response.c): store_classify() on any
 * transport result, status, Retry-After header (seconds, the three HTTP
 * date forms, or garbage) and body of any size, and store_body_for_log()
 * on that body for any size of log buffer.
 *
 * The input: a switches byte, the status (2 bytes), the clock (8 bytes),
 * the log buffer's size (1 byte), the Retry-After value up to a 0xff byte,
 * and the body, the rest.
 *
 * What must hold: the verdict store_response.h's table gives for the
 * status; a wait of 1 to STORE_RETRY_AFTER_MAX_S seconds; dropped -1 or
 * more; and a log line that fits its buffer, has no control character, no
 * blank at either end, and is UTF-8 whenever the body was. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "store_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input input = { .data = data, .size = size };
	uint8_t switches = fuzz_take_byte(&input);
	long status = (long)(fuzz_take_byte(&input) << 8 | fuzz_take_byte(&input)) % 1000;
	if (switches & 0x04)
		status = -status;
	int64_t now_s = (int64_t)fuzz_take_u64(&input);
	size_t log_size = fuzz_take_byte(&input) + 1u;
	char *retry_after = fuzz_take_text(&input, 0xff);
	char *body = fuzz_take_text(&input, 0xff);   /* the rest: 0xff is never a UTF-8 byte anyway */
	char *line = malloc(log_size);
	if (!retry_after || !body || !line)
		abort();

	struct store_answer answer = {
		.transport_ok = switches & 0x01,
		.status = status,
		.retry_after = (switches & 0x02) ? retry_after : NULL,
		.body = body,
		.now_s = now_s,
	};
	struct store_decision decision = store_classify(&answer);
	FUZZ_CHECK(store_reason_text(decision.reason) != NULL, "reason %d", (int)decision.reason);
	FUZZ_CHECK(decision.dropped >= -1, "dropped %ld", decision.dropped);
	if (!answer.transport_ok) {
		FUZZ_CHECK(decision.verdict == STORE_BACK_OFF && decision.reason == STORE_REASON_NETWORK, "status %ld", status);
	} else if (status >= 200 && status < 300) {
		FUZZ_CHECK(decision.verdict == STORE_DONE, "status %ld gave %d", status, (int)decision.verdict);
	} else if (status == 400 || status == 422 || status == 413) {
		FUZZ_CHECK(decision.verdict == STORE_SPLIT, "status %ld gave %d", status, (int)decision.verdict);
	} else if (status == 429 || status == 503) {
		FUZZ_CHECK(decision.verdict == STORE_WAIT_UNTIL || decision.verdict == STORE_BACK_OFF, "status %ld gave %d",
		           status, (int)decision.verdict);
	} else {
		FUZZ_CHECK(decision.verdict == STORE_BACK_OFF, "status %ld gave %d", status, (int)decision.verdict);
	}
	if (decision.verdict == STORE_WAIT_UNTIL)
		FUZZ_CHECK(decision.wait_s >= 1 && decision.wait_s <= STORE_RETRY_AFTER_MAX_S, "wait %lld s for '%s'",
		           (long long)decision.wait_s, retry_after);

	FUZZ_CHECK(store_body_for_log(body, line, log_size) == line, "%s", "not its buffer");
	size_t length = strlen(line);
	FUZZ_CHECK(length < log_size, "%zu bytes in a buffer of %zu", length, log_size);
	for (size_t i = 0; i < length; i++)
		FUZZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f, "control byte in '%s'", line);
	FUZZ_CHECK(length == 0 || (line[0] != ' ' && line[length - 1] != ' '), "blank at an end of '%s'", line);
	if (fuzz_utf8_valid(body, true))
		FUZZ_CHECK(fuzz_utf8_valid(line, true), "a character cut in '%s'", line);

	free(line);
	free(body);
	free(retry_after);
	return 0;
}
