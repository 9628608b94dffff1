/* store_response.h — what the store's answer to a write means, in one pure
 * function: from the transport result, the HTTP status, the Retry-After
 * header and the body, to one of five things the forwarder does next.
 *
 * The rules, as InfluxDB (1.x, 2.x, 3.x) and VictoriaMetrics define their
 * answers:
 *   2xx                       DONE       the lines are stored
 *   400, 422                  SPLIT      something in the body is refused
 *                                        (1.x "partial write: ... dropped=N",
 *                                        "unable to parse"); halve the batch
 *                                        until the bad lines stand alone,
 *                                        then set them aside (a resent good
 *                                        point replaces itself)
 *   413                       SPLIT      the body is too large
 *   429, 503 + Retry-After    WAIT_UNTIL the time the store asked for
 *                                        (seconds or an HTTP date; capped)
 *   429, 503 without it       BACK_OFF
 *   401, 403                  BACK_OFF   credentials: a clear message
 *   404                       BACK_OFF   no such database or bucket
 *   other 4xx, 5xx, 1xx, 3xx  BACK_OFF
 *   network error, timeout    BACK_OFF
 * A batch of one line that gets SPLIT is SET_ASIDE by the forwarder, not
 * here (the classifier does not know the batch).  Nothing here logs or
 * allocates. */
#ifndef TRYGGD_STORE_RESPONSE_H
#define TRYGGD_STORE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest wait a Retry-After may ask for; longer is taken as this. */
#define STORE_RETRY_AFTER_MAX_S 3600

enum store_verdict {
	STORE_DONE,
	STORE_SPLIT,
	STORE_SET_ASIDE,
	STORE_WAIT_UNTIL,
	STORE_BACK_OFF,
};

/* Why, for messages and counters. */
enum store_reason {
	STORE_REASON_STORED,
	STORE_REASON_BAD_LINES,      /* 400, 422 */
	STORE_REASON_TOO_LARGE,      /* 413 */
	STORE_REASON_BUSY,           /* 429, 503 */
	STORE_REASON_CREDENTIALS,    /* 401, 403 */
	STORE_REASON_NOT_FOUND,      /* 404 */
	STORE_REASON_SERVER,         /* 5xx but 503 */
	STORE_REASON_UNEXPECTED,     /* any other status */
	STORE_REASON_NETWORK,        /* no answer: transport error or timeout */
};

struct store_answer {
	bool transport_ok;           /* false: no HTTP answer (status ignored) */
	long status;
	const char *retry_after;     /* the header's value, or NULL */
	const char *body;            /* NUL-terminated, possibly cut short */
	int64_t now_s;               /* wall clock (seconds since the epoch),
	                                for an HTTP-date Retry-After */
};

struct store_decision {
	enum store_verdict verdict;
	enum store_reason reason;
	/* STORE_WAIT_UNTIL: seconds to wait from now (1 to
	 * STORE_RETRY_AFTER_MAX_S). */
	int64_t wait_s;
	/* 1.x "partial write: ... dropped=N": N; otherwise -1. */
	long dropped;
};

struct store_decision store_classify(const struct store_answer *answer);

/* A short phrase for reason, such as "refused the credentials". */
const char *store_reason_text(enum store_reason reason);

/* True for reasons that waiting does not cure: credentials refused, no such
 * database or bucket, a status no store gives. */
bool store_reason_needs_operator(enum store_reason reason);

/* Copy body into out as one line for a log: newlines, tabs and other
 * control characters become spaces, runs of them one space, leading and
 * trailing space dropped, cut at out_size - 1 bytes (with "..." when cut)
 * without splitting a UTF-8 character.  Returns out. */
char *store_body_for_log(const char *body, char *out, size_t out_size);

#endif
