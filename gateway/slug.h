/* slug.h — the district as a topic level: lower-case ASCII, å/ä→a, ö→o,
 * é→e, any other run of non-alphanumerics → '-'. */
#ifndef TRYGGD_SLUG_H
#define TRYGGD_SLUG_H

#include <stddef.h>

/* Write the slug of the UTF-8 text into out (NUL-terminated).  Returns the
 * slug's length, -ENOSPC when out is too small, -EINVAL when the slug would
 * be empty (e.g. the text has no letter or digit at all). */
int slug_make(const char *text, char *out, size_t out_size);

#endif
