/* slug.c — the district as a topic level (see slug.h and CONTRACT.md):
 * "Årby" → "arby", "Norra Nyfors / Centrum" → "norra-nyfors-centrum". */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "slug.h"

/* The ASCII letter a two-byte UTF-8 sequence C3 xx folds to, or 0.  Only
 * the Swedish letters the contract names fold; every other non-ASCII letter
 * becomes a separator, so slugs stay predictable for subscribers. */
static char slug_fold_c3(unsigned char second)
{
	switch (second) {
	case 0xA5: /* å */
	case 0xA4: /* ä */
	case 0x85: /* Å */
	case 0x84: /* Ä */
		return 'a';
	case 0xB6: /* ö */
	case 0x96: /* Ö */
		return 'o';
	case 0xA9: /* é */
	case 0x89: /* É */
		return 'e';
	default:
		return 0;
	}
}

/* A combining diacritical mark (U+0300..U+036F) is part of the letter before
 * it: text typed or pasted in decomposed form ("a" + U+0308) must give the
 * same slug as the composed "ä", not "a-". */
static bool slug_is_combining_mark(const unsigned char *cursor)
{
	return (cursor[0] == 0xCC && cursor[1] >= 0x80 && cursor[1] <= 0xBF) ||
	       (cursor[0] == 0xCD && cursor[1] >= 0x80 && cursor[1] <= 0xAF);
}

int slug_make(const char *text, char *out, size_t out_size)
{
	if (text == NULL)
		return -EINVAL;
	const unsigned char *cursor = (const unsigned char *)text;
	size_t length = 0;          /* slug length, counted even past out_size */
	bool separator_pending = false;

	while (*cursor != '\0') {
		char letter = 0;
		size_t consumed = 1;
		if ((*cursor >= 'a' && *cursor <= 'z') || (*cursor >= '0' && *cursor <= '9')) {
			letter = (char)*cursor;
		} else if (*cursor >= 'A' && *cursor <= 'Z') {
			letter = (char)(*cursor - 'A' + 'a');
		} else if (*cursor == 0xC3 && cursor[1] != '\0') {
			letter = slug_fold_c3(cursor[1]);
			if (letter != 0)
				consumed = 2;
		} else if (cursor[1] != '\0' && slug_is_combining_mark(cursor)) {
			cursor += 2;
			continue;
		}
		cursor += consumed;
		if (letter == 0) {
			/* Any byte that is not kept, one byte at a time: a whole run
			 * of them (a multi-byte character included) is one '-'. */
			separator_pending = true;
			continue;
		}
		if (separator_pending && length > 0) {
			if (length + 1 < out_size)
				out[length] = '-';
			length++;
		}
		separator_pending = false;
		if (length + 1 < out_size)
			out[length] = letter;
		length++;
	}

	if (out_size > 0)
		out[length < out_size ? length : out_size - 1] = '\0';
	if (length == 0)
		return -EINVAL;
	if (length >= out_size || length > INT_MAX) {
		if (out_size > 0)
			out[0] = '\0';   /* never hand back a truncated slug */
		return -ENOSPC;
	}
	return (int)length;
}
