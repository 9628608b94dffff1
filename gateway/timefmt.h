/* timefmt.h — the two time formats of the interface: RFC 3339 UTC with
 * milliseconds out ("2026-11-02T06:00:00.000Z") and ISO-8601 UTC in. */
#ifndef TRYGGD_TIMEFMT_H
#define TRYGGD_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_RFC3339_SIZE 32

/* Format t (Unix epoch ms) as RFC 3339 UTC with milliseconds.  out must hold
 * TIMEFMT_RFC3339_SIZE bytes. */
void timefmt_rfc3339(int64_t t_ms, char out[TIMEFMT_RFC3339_SIZE]);

/* Parse ISO-8601 UTC: "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" (also "+00:00", and a
 * plain date "YYYY-MM-DD" for midnight).  0 and *t_ms set, or -EINVAL. */
int timefmt_parse_iso8601(const char *text, int64_t *t_ms);

#endif
