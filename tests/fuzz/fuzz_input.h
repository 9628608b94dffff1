/* fuzz_input.h — what the fuzz targets (tests/fuzz/fuzz_*.c) share: taking
 * typed values one after another from libFuzzer's bytes, and a private
 * temporary folder for the targets whose production path reads a file.
 *
 * A struct fuzz_input borrows the fuzzer's bytes for one run; whatever a
 * take_*() function returns that is allocated (fuzz_take_text) is the
 * caller's to free().  The folder lives as long as the process and is
 * removed at its exit. */
#ifndef TRYGGD_FUZZ_INPUT_H
#define TRYGGD_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, which every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_input {
	const uint8_t *data;
	size_t size;
	size_t position;
};

/* The next byte, or 0 once the input is used up. */
uint8_t fuzz_take_byte(struct fuzz_input *input);
/* The next 8 bytes as a number (missing bytes count as 0). */
uint64_t fuzz_take_u64(struct fuzz_input *input);
/* A finite double from the next 8 bytes: their bits when finite, else
 * the same bits read as an integer. */
double fuzz_take_finite(struct fuzz_input *input);
/* The bytes up to the next separator byte (not included) or the end, as a
 * NUL-terminated copy (NUL bytes in it end the text early); NULL only when
 * out of memory. */
char *fuzz_take_text(struct fuzz_input *input, uint8_t separator);
/* The bytes up to the next separator byte (not included) or the end, not
 * copied (NUL bytes included): *length of them. */
const uint8_t *fuzz_take_bytes(struct fuzz_input *input, uint8_t separator, size_t *length);
/* What is left, not copied. */
const uint8_t *fuzz_rest(struct fuzz_input *input, size_t *length);

/* A folder of this process's own, made on first use: its path. */
/* text is whole UTF-8 characters (no overlong forms, no surrogates, none
 * above U+10FFFF), and, unless controls_allowed, no control character. */
bool fuzz_utf8_valid(const char *text, bool controls_allowed);

const char *fuzz_folder(void);
/* Write length bytes as name in fuzz_folder(); the file's path (a static
 * buffer), or NULL when it cannot be written (the run is then skipped). */
const char *fuzz_write_file(const char *name, const void *bytes, size_t length);

/* Abort (a finding) with a message when condition is false. */
#define FUZZ_CHECK(condition, ...) \
	do { \
		if (!(condition)) \
			fuzz_fail(__FILE__, __LINE__, #condition, __VA_ARGS__); \
	} while (0)
__attribute__((noreturn, format(printf, 4, 5)))
void fuzz_fail(const char *file, int line, const char *condition, const char *format, ...);

#endif
