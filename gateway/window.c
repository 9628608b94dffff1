/* window.c — see window.h. */
#include <math.h>
#include <string.h>

#include "calendar.h"
#include "window.h"

int64_t window_align(int64_t t_ms, int64_t length_ms)
{
	/* Floor division, so times before the epoch align the same way. */
	return calendar_floor_divide(t_ms, length_ms) * length_ms;
}

static void window_reset(struct window *w, int64_t start_ms)
{
	w->start_ms = start_ms;
	w->covered_ms = 0;
	w->samples = 0;
	w->count = w->in = w->out = 0;
	w->has_direction = false;
	w->lux_min = w->lux_max = w->lux_sum = 0;
	w->dark_ms = w->on_ms = w->fault_ms = 0;
	w->tail_end_ms = start_ms;
	w->tail_dark = w->tail_on = w->tail_fault = false;
}

void window_init(struct window *w, enum sensor_type type, int64_t length_ms, int64_t now_ms)
{
	memset(w, 0, sizeof(*w));
	w->type = type;
	w->length_ms = length_ms;
	window_reset(w, window_align(now_ms, length_ms));
}

/* Split the span [t, t + span) at the open window's end: returns the part
 * inside, stores the part beyond in *beyond. */
static int64_t window_split(const struct window *w, int64_t t_ms, int64_t span_ms, int64_t *beyond)
{
	int64_t end = w->start_ms + w->length_ms;
	int64_t stop = t_ms + span_ms;
	if (t_ms < w->start_ms)
		t_ms = w->start_ms;
	*beyond = stop > end ? stop - (t_ms > end ? t_ms : end) : 0;
	if (stop > end)
		stop = end;
	return stop > t_ms ? stop - t_ms : 0;
}

static void window_credit(struct window *w, int64_t t_ms, int64_t span_ms,
                          int64_t *total, int64_t *carry)
{
	int64_t beyond;
	*total += window_split(w, t_ms, span_ms, &beyond);
	*carry += beyond;
}

/* Remember the span of the latest sample (what window_cut() may take back)
 * and credit it to the window's coverage. */
static void window_credit_sample(struct window *w, int64_t t_ms, int64_t span_ms,
                                 bool dark, bool on, bool fault)
{
	int64_t end = w->start_ms + w->length_ms;
	window_credit(w, t_ms, span_ms, &w->covered_ms, &w->carry_covered_ms);
	w->tail_end_ms = t_ms + span_ms < end ? t_ms + span_ms : end;
	w->tail_dark = dark;
	w->tail_on = on;
	w->tail_fault = fault;
}

void window_add_footfall(struct window *w, int64_t t_ms, int64_t span_ms,
                         uint64_t count, bool has_direction, uint64_t in, uint64_t out)
{
	window_credit_sample(w, t_ms, span_ms, false, false, false);
	w->samples++;
	window_add_passes(w, count, has_direction, in, out);
}

void window_credit_time(struct window *w, int64_t t_ms, int64_t span_ms)
{
	window_credit_sample(w, t_ms, span_ms, false, false, false);
}

void window_count_sample(struct window *w)
{
	w->samples++;
}

void window_add_passes(struct window *w, uint64_t count, bool has_direction, uint64_t in, uint64_t out)
{
	w->count += count;
	if (has_direction) {
		w->has_direction = true;
		w->in += in;
		w->out += out;
	}
}

void window_add_light(struct window *w, int64_t t_ms, int64_t span_ms, double lux, bool dark)
{
	window_credit_sample(w, t_ms, span_ms, dark, false, false);
	if (dark)
		window_credit(w, t_ms, span_ms, &w->dark_ms, &w->carry_dark_ms);
	if (w->samples == 0 || lux < w->lux_min)
		w->lux_min = lux;
	if (w->samples == 0 || lux > w->lux_max)
		w->lux_max = lux;
	w->lux_sum += lux;
	w->samples++;
}

void window_credit_lamp(struct window *w, int64_t t_ms, int64_t span_ms, bool on, bool fault)
{
	window_credit_sample(w, t_ms, span_ms, false, on, fault);
	if (on)
		window_credit(w, t_ms, span_ms, &w->on_ms, &w->carry_on_ms);
	if (fault)
		window_credit(w, t_ms, span_ms, &w->fault_ms, &w->carry_fault_ms);
}

void window_add_lamp(struct window *w, int64_t t_ms, int64_t span_ms, bool on, bool fault)
{
	window_credit_lamp(w, t_ms, span_ms, on, fault);
	w->samples++;
}

/* A carry longer than a whole window (interval > window) is credited one
 * window at a time. */
static int64_t window_take_carry(int64_t *carry, int64_t length_ms)
{
	int64_t taken = *carry > length_ms ? length_ms : *carry;
	*carry -= taken;
	return taken;
}

void window_cut(struct window *w, int64_t now_ms)
{
	if (now_ms < w->start_ms || w->tail_end_ms <= now_ms)
		return;
	int64_t excess = w->tail_end_ms - now_ms;
	/* Spans are contiguous and in time order, so what lies past now_ms is
	 * the end of the last one; never take back more than was credited. */
	if (excess > w->covered_ms)
		excess = w->covered_ms;
	w->covered_ms -= excess;
	if (w->tail_dark)
		w->dark_ms = w->dark_ms > excess ? w->dark_ms - excess : 0;
	if (w->tail_on)
		w->on_ms = w->on_ms > excess ? w->on_ms - excess : 0;
	if (w->tail_fault)
		w->fault_ms = w->fault_ms > excess ? w->fault_ms - excess : 0;
	w->tail_end_ms = now_ms;
	/* What the last span carried into the next window is not read either. */
	w->carry_covered_ms = w->carry_dark_ms = w->carry_on_ms = w->carry_fault_ms = 0;
}

void window_absorb(struct window *w, const struct window *cut)
{
	if (cut->samples > 0 && w->type == SENSOR_LIGHT) {
		if (w->samples == 0 || cut->lux_min < w->lux_min)
			w->lux_min = cut->lux_min;
		if (w->samples == 0 || cut->lux_max > w->lux_max)
			w->lux_max = cut->lux_max;
		w->lux_sum += cut->lux_sum;
	}
	w->covered_ms += cut->covered_ms;
	w->samples += cut->samples;
	window_add_passes(w, cut->count, cut->has_direction, cut->in, cut->out);
	w->dark_ms += cut->dark_ms;
	w->on_ms += cut->on_ms;
	w->fault_ms += cut->fault_ms;
}

void window_close(struct window *w, struct window_result *out)
{
	memset(out, 0, sizeof(*out));
	out->type = w->type;
	out->start_ms = w->start_ms;
	out->end_ms = w->start_ms + w->length_ms;
	out->coverage = (double)w->covered_ms / (double)w->length_ms;
	if (out->coverage > 1.0)
		out->coverage = 1.0;
	out->samples = w->samples;
	out->count = w->count;
	out->has_direction = w->has_direction;
	out->in = w->in;
	out->out = w->out;
	if (w->samples > 0) {
		out->lux_min = w->lux_min;
		out->lux_max = w->lux_max;
		out->lux_mean = w->lux_sum / w->samples;
	}
	/* Seconds, rounded: spans are whole milliseconds. */
	out->dark_s = (w->dark_ms + 500) / 1000;
	out->on_s = (w->on_ms + 500) / 1000;
	out->fault_s = (w->fault_ms + 500) / 1000;

	window_reset(w, out->end_ms);
	w->covered_ms = window_take_carry(&w->carry_covered_ms, w->length_ms);
	w->dark_ms = window_take_carry(&w->carry_dark_ms, w->length_ms);
	w->on_ms = window_take_carry(&w->carry_on_ms, w->length_ms);
	w->fault_ms = window_take_carry(&w->carry_fault_ms, w->length_ms);
	/* What was carried over is the rest of the last span, which a cut
	 * (a stop, a reload) may still take back. */
	w->tail_end_ms = w->start_ms + w->covered_ms;
	w->tail_dark = w->dark_ms > 0;
	w->tail_on = w->on_ms > 0;
	w->tail_fault = w->fault_ms > 0;
}

static void field_integer(struct window_field *fields, size_t *count, const char *key, int64_t value)
{
	fields[(*count)++] = (struct window_field){ .key = key, .kind = WINDOW_FIELD_INTEGER, .integer = value };
}

static void field_count(struct window_field *fields, size_t *count, const char *key, uint64_t value)
{
	field_integer(fields, count, key, value > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)value);
}

static void field_float(struct window_field *fields, size_t *count, const char *key, double value)
{
	/* NaN and infinities have no spelling in line protocol or JSON: the
	 * field is left out rather than the point refused. */
	if (isfinite(value))
		fields[(*count)++] = (struct window_field){ .key = key, .kind = WINDOW_FIELD_FLOAT, .number = value };
}

size_t window_fields(const struct window_result *w, struct window_field fields[WINDOW_FIELDS_MAX])
{
	size_t count = 0;
	switch (w->type) {
	case SENSOR_FOOTFALL:
		field_count(fields, &count, "count", w->count);
		if (w->has_direction) {
			field_count(fields, &count, "in", w->in);
			field_count(fields, &count, "out", w->out);
		}
		break;
	case SENSOR_LIGHT:
		/* No samples, no lux: an outage must never read as darkness. */
		if (w->samples > 0) {
			field_float(fields, &count, "lux_min", w->lux_min);
			field_float(fields, &count, "lux_mean", w->lux_mean);
			field_float(fields, &count, "lux_max", w->lux_max);
		}
		field_integer(fields, &count, "dark_s", w->dark_s);
		break;
	case SENSOR_LAMP:
		field_integer(fields, &count, "on_s", w->on_s);
		field_integer(fields, &count, "fault_s", w->fault_s);
		break;
	}
	field_count(fields, &count, "samples", w->samples);
	field_float(fields, &count, "coverage", w->coverage);
	return count;
}
