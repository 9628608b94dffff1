/* fuzz_input.c — see fuzz_input.h: typed values from the fuzzer's bytes,
 * and the targets' private temporary folder. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_input.h"

uint8_t fuzz_take_byte(struct fuzz_input *input)
{
	return input->position < input->size ? input->data[input->position++] : 0;
}

uint64_t fuzz_take_u64(struct fuzz_input *input)
{
	uint64_t value = 0;
	for (int i = 0; i < 8; i++)
		value = value << 8 | fuzz_take_byte(input);
	return value;
}

double fuzz_take_finite(struct fuzz_input *input)
{
	uint64_t bits = fuzz_take_u64(input);
	double value;
	memcpy(&value, &bits, sizeof(value));
	return isfinite(value) ? value : (double)(int64_t)bits;
}

const uint8_t *fuzz_take_bytes(struct fuzz_input *input, uint8_t separator, size_t *length)
{
	const uint8_t *start = input->data + input->position;
	size_t left = input->size - input->position;
	const uint8_t *end = memchr(start, separator, left);
	*length = end ? (size_t)(end - start) : left;
	input->position += end ? *length + 1 : *length;
	return start;
}

char *fuzz_take_text(struct fuzz_input *input, uint8_t separator)
{
	size_t length;
	const uint8_t *start = fuzz_take_bytes(input, separator, &length);
	return strndup((const char *)start, length);
}

const uint8_t *fuzz_rest(struct fuzz_input *input, size_t *length)
{
	const uint8_t *rest = input->data + input->position;
	*length = input->size - input->position;
	input->position = input->size;
	return rest;
}

static char folder[64];

static void remove_folder(void)
{
	/* Only the targets' own files are in it, and no subfolders. */
	char command[128];
	snprintf(command, sizeof(command), "rm -rf -- '%s'", folder);
	if (system(command) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", folder);
}

const char *fuzz_folder(void)
{
	if (!folder[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(folder, sizeof(folder), "%s/tryggd-fuzz.XXXXXX", base && strlen(base) < 32 ? base : "/tmp");
		if (!mkdtemp(folder)) {
			perror("fuzz: mkdtemp");
			abort();
		}
		atexit(remove_folder);
	}
	return folder;
}

const char *fuzz_write_file(const char *name, const void *bytes, size_t length)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", fuzz_folder(), name);
	FILE *file = fopen(path, "we");
	if (!file)
		return NULL;
	bool written = fwrite(bytes, 1, length, file) == length;
	written = fclose(file) == 0 && written;
	return written ? path : NULL;
}

void fuzz_fail(const char *file, int line, const char *condition, const char *format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	fprintf(stderr, "%s:%d: check failed: %s: ", file, line, condition);
	vfprintf(stderr, format, arguments);
	va_end(arguments);
	fputc('\n', stderr);
	abort();
}

bool fuzz_utf8_valid(const char *text, bool controls_allowed)
{
	const unsigned char *p = (const unsigned char *)text;
	while (*p) {
		if (!controls_allowed && (*p < 0x20 || *p == 0x7f))
			return false;
		size_t length = *p < 0x80 ? 1 : (*p >= 0xc2 && *p <= 0xdf) ? 2 : (*p >= 0xe0 && *p <= 0xef) ? 3
		              : (*p >= 0xf0 && *p <= 0xf4) ? 4 : 0;
		if (length == 0)
			return false;
		uint32_t code = length == 1 ? *p : length == 2 ? *p & 0x1f : length == 3 ? *p & 0x0f : *p & 0x07;
		for (size_t i = 1; i < length; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			code = code << 6 | (p[i] & 0x3f);
		}
		if ((length == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) ||
		    (length == 4 && (code < 0x10000 || code > 0x10ffff)))
			return false;
		p += length;
	}
	return true;
}
