/* window.h — aggregation of one sensor's samples into aligned time windows.
 *
 * Windows are [start, start + length) with start a multiple of length since
 * the Unix epoch, UTC.  Every sample stands for the interval after it
 * ([t, t + interval)); the part of that span inside the window is credited
 * to it (coverage, dark_s, on_s, fault_s) and the part past the window's end
 * is carried into the next one, so coverage is exact whatever the interval.
 * A struct window is a plain value owned by whoever embeds it. */
#ifndef TRYGGD_WINDOW_H
#define TRYGGD_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor_type.h"

/* One closed window of one sensor: what goes to MQTT and to the store. */
struct window_result {
	enum sensor_type type;
	int64_t start_ms, end_ms;
	double coverage;             /* 0..1: share of the window the sensor was up and read */
	unsigned samples;
	/* footfall */
	uint64_t count;
	bool has_direction;
	uint64_t in, out;
	/* light (lux_* meaningful only when samples > 0) */
	double lux_min, lux_mean, lux_max;
	int64_t dark_s;
	/* lamp */
	int64_t on_s, fault_s;
};

/* One field of a closed window.  window_fields() is the one place that
 * says which fields a window has, so the store point and the MQTT window
 * message can never carry different ones. */
enum window_field_kind { WINDOW_FIELD_INTEGER, WINDOW_FIELD_FLOAT };

struct window_field {
	const char *key;
	enum window_field_kind kind;
	int64_t integer;             /* counts above INT64_MAX are clamped: line protocol integers are signed */
	double number;
};

#define WINDOW_FIELDS_MAX 8

struct window {
	enum sensor_type type;
	int64_t length_ms;
	int64_t start_ms;            /* start of the open window */
	int64_t covered_ms;          /* credited to the open window so far */
	int64_t carry_covered_ms;    /* spans that reach past the open window */
	int64_t carry_dark_ms, carry_on_ms, carry_fault_ms;
	unsigned samples;
	uint64_t count, in, out;
	bool has_direction;
	double lux_min, lux_max, lux_sum;
	int64_t dark_ms, on_ms, fault_ms;
	/* The last sample's span in the open window, for window_cut(). */
	int64_t tail_end_ms;
	bool tail_dark, tail_on, tail_fault;
};

/* The start of the window that holds t. */
int64_t window_align(int64_t t_ms, int64_t length_ms);

/* Open the window that holds now_ms. */
void window_init(struct window *w, enum sensor_type type, int64_t length_ms, int64_t now_ms);

/* Add a sample taken at t_ms (inside the open window) that stands for the
 * following span_ms.  dark: light below dark_lux; for a lamp, fault: the lamp
 * was off while its paired light sensor read dark. */
void window_add_footfall(struct window *w, int64_t t_ms, int64_t span_ms,
                         uint64_t count, bool has_direction, uint64_t in, uint64_t out);
void window_add_light(struct window *w, int64_t t_ms, int64_t span_ms, double lux, bool dark);
void window_add_lamp(struct window *w, int64_t t_ms, int64_t span_ms, bool on, bool fault);

/* An edge counter's passes: they add to the counts but not to coverage or
 * samples, which the sensor credits for the time it stays up
 * (window_add_footfall with a count of 0). */
void window_add_passes(struct window *w, uint64_t count, bool has_direction, uint64_t in, uint64_t out);

/* An edge counter was up and watched for [t, t + span): coverage, without
 * counting a sample (window_count_sample does, once per interval). */
void window_credit_time(struct window *w, int64_t t_ms, int64_t span_ms);
void window_count_sample(struct window *w);

/* A lamp watched by its edges: the span [t, t + span) in which it was on (or
 * off, and at fault), credited like a sample's span without counting as one. */
void window_credit_lamp(struct window *w, int64_t t_ms, int64_t span_ms, bool on, bool fault);

/* The sensor was read no further than now_ms (a stop): take back what the
 * open window credited beyond it, so a window cut short says so in its
 * coverage. */
void window_cut(struct window *w, int64_t now_ms);

/* The same window (type, start, length) as it stood when a stop cut it
 * short, in an earlier run: add what it had read to the open window, which
 * a start within that window just opened, so that the window's one point
 * holds both parts (the store keeps the last point of a series and time).
 * The parts do not overlap: the cut one ended before the restart. */
void window_absorb(struct window *w, const struct window *cut);
/* Close the open window: fill *out and open the next one (start + length),
 * which starts with what was carried over. */
void window_close(struct window *w, struct window_result *out);

/* The fields of a closed window: the type's own (footfall count, in, out;
 * light lux_min, lux_mean, lux_max when there were samples, dark_s; lamp
 * on_s, fault_s), then samples and coverage.  Returns how many. */
size_t window_fields(const struct window_result *w, struct window_field fields[WINDOW_FIELDS_MAX]);

#endif
