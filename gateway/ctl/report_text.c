/* report_text.c — the words of `tryggctl report` (report_words.h) and how
 * each language writes numbers and weekdays.  Pure; nothing is allocated. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

static const char *const words[REPORT_WORD_COUNT][2] = {
#define REPORT_WORD(key, sv, en) [key] = { sv, en },
#include "report_words.h"
#undef REPORT_WORD
};

const char *report_word(enum report_lang lang, enum report_word word)
{
	if ((unsigned)word >= REPORT_WORD_COUNT)
		return "";
	return words[word][lang == REPORT_LANG_EN];
}

const char *report_number(enum report_lang lang, double value, int decimals, char out[REPORT_NUMBER_SIZE])
{
	/* sv: 1 234,5 with no-break spaces; en: 1,234.5. */
	const char *group = lang == REPORT_LANG_EN ? "," : "\xc2\xa0";
	char point = lang == REPORT_LANG_EN ? '.' : ',';
	char plain[REPORT_NUMBER_SIZE];
	if (!isfinite(value)) {
		snprintf(out, REPORT_NUMBER_SIZE, "–");
		return out;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	snprintf(plain, sizeof(plain), "%.*f", decimals, value);
	if (strcmp(plain, "-0") == 0 || strspn(plain, "-0.") == strlen(plain))
		snprintf(plain, sizeof(plain), "%.*f", decimals, 0.0);   /* no "-0,0" */
	const char *digits = plain[0] == '-' ? plain + 1 : plain;
	const char *dot = strchr(digits, '.');
	size_t whole = dot ? (size_t)(dot - digits) : strlen(digits), at = 0;
	if (plain[0] == '-')
		out[at++] = '-';
	for (size_t i = 0; i < whole && at + 4 < REPORT_NUMBER_SIZE; i++) {
		if (i > 0 && (whole - i) % 3 == 0 && whole > 4) {
			size_t length = strlen(group);
			memcpy(out + at, group, length);
			at += length;
		}
		out[at++] = digits[i];
	}
	if (dot && at + strlen(dot) + 1 < REPORT_NUMBER_SIZE) {
		out[at++] = point;
		size_t rest = strlen(dot + 1);
		memcpy(out + at, dot + 1, rest);
		at += rest;
	}
	out[at] = '\0';
	return out;
}

const char *report_weekday(enum report_lang lang, int weekday, bool short_form)
{
	static const char *const names[2][2][7] = {
		{ { "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag" },
		  { "mån", "tis", "ons", "tors", "fre", "lör", "sön" } },
		{ { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" },
		  { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" } },
	};
	if (weekday < 0 || weekday > 6)
		return "";
	return names[lang == REPORT_LANG_EN][short_form][weekday];
}
