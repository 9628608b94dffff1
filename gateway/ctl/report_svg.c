/* report_svg.c — the report's charts as inline SVG: bars, lines, a grid
 * of coloured cells and the schematic map.  Each is one <svg> element
 * with a viewBox and no fixed size, so that it scales to a phone's width
 * and to A4; nothing in it loads anything (no xmlns is needed inline in
 * HTML, no fonts, no images, no scripts).
 *
 * A missing value (NaN) is never drawn as zero: a bar or a cell is
 * hatched grey, a line is broken over a hatched band, and the legend says
 * what hatching means.  Every text from outside (labels, names) is
 * escaped.  Each function returns allocated markup (the caller frees it)
 * or NULL when out of memory; pattern ids carry the chart's number so
 * that the charts of one document do not collide. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define WIDTH 720
#define LEFT 64
#define RIGHT 12
#define TOP 34
#define PALETTE_SIZE 8

static const char *const palette[PALETTE_SIZE] = {
	"#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#6a4c93", "#8c6d1f", "#00838f", "#555555",
};

void report_put_escaped(FILE *out, const char *text)
{
	for (; text && *text; text++) {
		switch (*text) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*text, out);
		}
	}
}

struct canvas {
	FILE *out;
	char *text;
	size_t size;
};

static FILE *canvas_open(struct canvas *canvas, unsigned id, int height, const char *title)
{
	*canvas = (struct canvas){ 0 };
	canvas->out = open_memstream(&canvas->text, &canvas->size);
	if (!canvas->out)
		return NULL;
	fprintf(canvas->out,
	        "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", WIDTH, height);
	report_put_escaped(canvas->out, title);
	fprintf(canvas->out, "\"><defs><pattern id=\"hatch%u\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
	        "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/>"
	        "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#9a9a9a\" stroke-width=\"2.5\"/></pattern></defs>", id);
	fprintf(canvas->out, "<text x=\"%d\" y=\"18\" class=\"title\">", LEFT);
	report_put_escaped(canvas->out, title);
	fputs("</text>", canvas->out);
	return canvas->out;
}

static char *canvas_close(struct canvas *canvas)
{
	fputs("</svg>", canvas->out);
	bool failed = ferror(canvas->out) != 0;
	if (fclose(canvas->out) != 0 || failed) {
		free(canvas->text);
		return NULL;
	}
	return canvas->text;
}

/* A top of the axis at 1, 2, 2.5 or 5 times a power of ten. */
static double nice_top(double maximum)
{
	if (!(maximum > 0))
		return 1;
	double power = pow(10, floor(log10(maximum)));
	static const double steps[] = { 1, 2, 2.5, 5, 10 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i] * power >= maximum)
			return steps[i] * power;
	return 10 * power;
}

static void y_axis(FILE *out, enum report_lang lang, double top, int plot_top, int plot_height, const char *label)
{
	char number[REPORT_NUMBER_SIZE];
	for (int i = 0; i <= 4; i++) {
		double value = top * i / 4;
		double y = plot_top + plot_height - plot_height * i / 4.0;
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\"/>", LEFT, y, WIDTH - RIGHT, y);
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>", LEFT - 4, y + 4,
		        report_number(lang, value, top < 2 ? 2 : top < 4 ? 1 : 0, number));
	}
	fprintf(out, "<text transform=\"translate(12 %d) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">",
	        plot_top + plot_height / 2);
	report_put_escaped(out, label);
	fputs("</text>", out);
}

static void x_labels(FILE *out, const char *const *labels, size_t count, double step, int y)
{
	size_t every = count > 16 ? (count + 15) / 16 : 1;
	for (size_t i = 0; labels && i < count; i += every) {
		if (!labels[i])
			continue;
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">", LEFT + step * (i + 0.5), y);
		report_put_escaped(out, labels[i]);
		fputs("</text>", out);
	}
}

/* About how wide text is at the tick size (11 px DejaVu Sans), in the
 * SVG's units: 6.6 a character, counted in code points. */
static double text_width(const char *text, size_t length)
{
	size_t points = 0;
	for (size_t i = 0; i < length && text[i]; i++)
		points += ((unsigned char)text[i] & 0xc0) != 0x80;
	return 6.6 * (double)points;
}

/* text broken at spaces into lines of at most width (a word longer than
 * that on a line of its own), at most max_lines (the rest on the last);
 * each line as a <tspan> at x, the first at y and the next 12 below.
 * With out NULL it only counts.  The number of lines. */
static size_t wrapped(FILE *out, const char *text, double width, size_t max_lines, double x, int y)
{
	size_t lines = 0, length = strlen(text), start = 0;
	while (start < length && text[start] == ' ')
		start++;
	while (start < length) {
		size_t end = length;             /* the last line takes the rest */
		if (lines + 1 < max_lines) {
			end = start;
			while (end < length) {
				size_t word = end;
				while (word < length && text[word] == ' ')
					word++;
				while (word < length && text[word] != ' ')
					word++;
				if (end > start && text_width(text + start, word - start) > width)
					break;
				end = word;
			}
		}
		if (out) {
			char *line = strndup(text + start, end - start);
			if (line) {
				fprintf(out, "<tspan x=\"%.1f\" %s=\"%d\">", x, lines ? "dy" : "y", lines ? 12 : y);
				report_put_escaped(out, line);
				fputs("</tspan>", out);
				free(line);
			}
		}
		lines++;
		start = end;
		while (start < length && text[start] == ' ')
			start++;
	}
	return lines;
}

static void legend_missing(FILE *out, unsigned id, int x, int y, const char *label)
{
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"url(#hatch%u)\" stroke=\"#999\"/>", x,
	        y - 9, id);
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tick\">", x + 18, y);
	report_put_escaped(out, label);
	fputs("</text>", out);
}

char *report_svg_bars(const struct report_bars *chart)
{
	/* A few bars with long names (sites): each name on up to three lines
	 * under its bar rather than running into its neighbours. */
	double step = chart->count ? (double)(WIDTH - LEFT - RIGHT) / (double)chart->count : 1;
	size_t label_lines = 1;
	bool wrap = false;
	for (size_t i = 0; chart->labels && chart->count <= 16 && i < chart->count; i++)
		if (chart->labels[i] && text_width(chart->labels[i], SIZE_MAX) > step - 6) {
			wrap = true;
			size_t lines = wrapped(NULL, chart->labels[i], step - 6, 3, 0, 0);
			label_lines = lines > label_lines ? lines : label_lines;
		}
	const int plot_height = 260 - TOP - 58, height = 260 + 12 * ((int)label_lines - 1), plot_top = TOP;
	struct canvas canvas;
	FILE *out = canvas_open(&canvas, chart->id, height, chart->title);
	if (!out)
		return NULL;
	double maximum = 0;
	bool any_missing = false;
	for (size_t i = 0; i < chart->count; i++) {
		if (!isnan(chart->values[i]) && chart->values[i] > maximum)
			maximum = chart->values[i];
		if (chart->raw && !isnan(chart->raw[i]) && chart->raw[i] > maximum)
			maximum = chart->raw[i];
		any_missing |= isnan(chart->values[i]);
	}
	double top = nice_top(maximum);
	y_axis(out, chart->lang, top, plot_top, plot_height, chart->y_label);
	double gap = step > 6 ? step * 0.15 : 0;
	char number[REPORT_NUMBER_SIZE];
	for (size_t i = 0; i < chart->count; i++) {
		double x = LEFT + step * i + gap / 2, value = chart->values[i];
		const char *label = chart->labels && chart->labels[i] ? chart->labels[i] : "";
		if (isnan(value)) {
			fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"url(#hatch%u)\"><title>",
			        x, plot_top, step - gap, plot_height, chart->id);
			report_put_escaped(out, label);
			fputs(": ", out);
			report_put_escaped(out, chart->missing_label);
			fputs("</title></rect>", out);
			continue;
		}
		double bar = plot_height * value / top;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x,
		        plot_top + plot_height - bar, step - gap, bar, palette[0]);
		report_put_escaped(out, label);
		fprintf(out, ": %s</title></rect>", report_number(chart->lang, value, value < 10 ? 1 : 0, number));
		if (chart->raw && !isnan(chart->raw[i])) {
			double y = plot_top + plot_height - plot_height * chart->raw[i] / top;
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"raw\"/>", x, y, x + step - gap, y);
		}
	}
	for (size_t i = 0; i < chart->count; i++)
		if (chart->raw && !isnan(chart->raw[i]) && isnan(chart->values[i])) {
			double y = plot_top + plot_height - plot_height * chart->raw[i] / top;
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"raw\"/>",
			        LEFT + step * i + gap / 2, y, LEFT + step * (i + 1) - gap / 2, y);
		}
	if (chart->count <= 40)
		for (size_t i = 0; i < chart->count; i++)
			if (isnan(chart->values[i])) {
				fprintf(out, "<text transform=\"translate(%.1f %d) rotate(-90)\" class=\"missing\">",
				        LEFT + step * (i + 0.5) + 3, plot_top + plot_height - 4);
				report_put_escaped(out, chart->missing_label);
				fputs("</text>", out);
			}
	if (!wrap)
		x_labels(out, chart->labels, chart->count, step, plot_top + plot_height + 14);
	for (size_t i = 0; wrap && i < chart->count; i++) {
		if (!chart->labels[i])
			continue;
		fputs("<text class=\"tick\" text-anchor=\"middle\">", out);
		wrapped(out, chart->labels[i], step - 6, 3, LEFT + step * (i + 0.5), plot_top + plot_height + 14);
		fputs("</text>", out);
	}
	int legend_y = height - 14;
	if (any_missing)
		legend_missing(out, chart->id, LEFT, legend_y, chart->missing_label);
	if (chart->raw && chart->raw_label) {
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"raw\"/><text x=\"%d\" y=\"%d\" class=\"tick\">",
		        LEFT + 250, legend_y - 4, LEFT + 264, legend_y - 4, LEFT + 268, legend_y);
		report_put_escaped(out, chart->raw_label);
		fputs("</text>", out);
	}
	return canvas_close(&canvas);
}

char *report_svg_lines(const struct report_lines *chart)
{
	/* The legend: entries side by side as wide as their names, a new row
	 * when the next does not fit. */
	size_t series = chart->series_count ? chart->series_count : 1, legend_rows = chart->series_count ? 1 : 0;
	int legend_x[series], legend_row[series];
	double at = LEFT;
	for (size_t s = 0; s < chart->series_count; s++) {
		double width = 20 + text_width(chart->names[s], SIZE_MAX) + 16;
		if (at > LEFT && at + width > WIDTH - RIGHT) {
			legend_rows++;
			at = LEFT;
		}
		legend_x[s] = (int)at;
		legend_row[s] = (int)legend_rows - 1;
		at += width;
	}
	const int plot_height = 170, height = TOP + plot_height + 40 + 16 * (int)legend_rows + 16;
	struct canvas canvas;
	FILE *out = canvas_open(&canvas, chart->id, height, chart->title);
	if (!out)
		return NULL;
	double maximum = 0;
	bool any_missing = false;
	for (size_t s = 0; s < chart->series_count; s++)
		for (size_t i = 0; i < chart->count; i++)
			if (!isnan(chart->values[s][i]) && chart->values[s][i] > maximum)
				maximum = chart->values[s][i];
	double top = nice_top(maximum);
	double step = chart->count ? (double)(WIDTH - LEFT - RIGHT) / (double)chart->count : 1;
	for (size_t i = 0; i < chart->count; i++) {
		/* Hatched where no series is known; a series missing where others
		 * are known is only broken off, so that it cannot read as zero. */
		bool missing = chart->series_count > 0;
		for (size_t s = 0; s < chart->series_count; s++)
			missing &= isnan(chart->values[s][i]) != 0;
		if (!missing)
			continue;
		any_missing = true;
		fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"url(#hatch%u)\"/>",
		        LEFT + step * i, TOP, step, plot_height, chart->id);
	}
	y_axis(out, chart->lang, top, TOP, plot_height, chart->y_label);
	for (size_t s = 0; s < chart->series_count; s++) {
		const char *colour = palette[s % PALETTE_SIZE];
		bool drawing = false;
		for (size_t i = 0; i < chart->count; i++) {
			double value = chart->values[s][i];
			if (isnan(value)) {
				if (drawing)
					fputs("\"/>", out);
				drawing = false;
				continue;
			}
			double x = LEFT + step * (i + 0.5), y = TOP + plot_height - plot_height * value / top;
			if (!drawing)
				fprintf(out, "<polyline class=\"line\" stroke=\"%s\"%s points=\"", colour,
				        s >= PALETTE_SIZE ? " stroke-dasharray=\"4 2\"" : "");
			fprintf(out, "%.1f,%.1f ", x, y);
			drawing = true;
		}
		if (drawing)
			fputs("\"/>", out);
		for (size_t i = 0; i < chart->count && chart->count <= 60; i++)
			if (!isnan(chart->values[s][i]))
				fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"%s\"/>", LEFT + step * (i + 0.5),
				        TOP + plot_height - plot_height * chart->values[s][i] / top, colour);
	}
	x_labels(out, chart->labels, chart->count, step, TOP + plot_height + 14);
	int y = TOP + plot_height + 36;
	for (size_t s = 0; s < chart->series_count; s++) {
		int x = legend_x[s];
		int row_y = y + 16 * legend_row[s];
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>"
		        "<text x=\"%d\" y=\"%d\" class=\"tick\">", x, row_y - 4, x + 16, row_y - 4,
		        palette[s % PALETTE_SIZE], x + 20, row_y);
		report_put_escaped(out, chart->names[s]);
		fputs("</text>", out);
	}
	if (any_missing)
		legend_missing(out, chart->id, LEFT, y + 16 * (int)legend_rows, chart->missing_label);
	return canvas_close(&canvas);
}

/* A colour from light to dark blue for share 0–1. */
static void colour_of(double share, char out[8])
{
	static const int low[3] = { 0xf1, 0xf5, 0xfb }, high[3] = { 0x08, 0x51, 0x9c };
	share = share < 0 ? 0 : share > 1 ? 1 : share;
	snprintf(out, 8, "#%02x%02x%02x", (int)(low[0] + (high[0] - low[0]) * share),
	         (int)(low[1] + (high[1] - low[1]) * share), (int)(low[2] + (high[2] - low[2]) * share));
}

char *report_svg_grid(const struct report_grid *chart)
{
	const int left = 110, row_height = chart->rows > 40 ? 8 : 16;
	int height = TOP + 18 + row_height * (int)chart->rows + 34;
	struct canvas canvas;
	FILE *out = canvas_open(&canvas, chart->id, height, chart->title);
	if (!out)
		return NULL;
	double width = chart->columns ? (double)(WIDTH - left - RIGHT) / (double)chart->columns : 1;
	size_t every = chart->columns > 24 ? (chart->columns + 11) / 12 : 1;
	char number[REPORT_NUMBER_SIZE], colour[8];
	bool any_missing = false;
	for (size_t c = 0; c < chart->columns; c += every) {
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">", left + width * (c + 0.5),
		        TOP + 12);
		report_put_escaped(out, chart->column_labels[c]);
		fputs("</text>", out);
	}
	for (size_t r = 0; r < chart->rows; r++) {
		int y = TOP + 18 + row_height * (int)r;
		if (row_height >= 12 || r % 7 == 0) {
			fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">", left - 4, y + row_height - 4);
			report_put_escaped(out, chart->row_labels[r]);
			fputs("</text>", out);
		}
		for (size_t c = 0; c < chart->columns; c++) {
			double value = chart->values[r * chart->columns + c];
			double x = left + width * c;
			if (isnan(value)) {
				any_missing = true;
				fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"url(#hatch%u)\"><title>",
				        x, y, width, row_height - 1, chart->id);
				report_put_escaped(out, chart->row_labels[r]);
				fputc(' ', out);
				report_put_escaped(out, chart->column_labels[c]);
				fputs(": ", out);
				report_put_escaped(out, chart->missing_label);
				fputs("</title></rect>", out);
				continue;
			}
			colour_of(chart->high > chart->low ? (value - chart->low) / (chart->high - chart->low) : 0, colour);
			fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"><title>", x, y, width,
			        row_height - 1, colour);
			report_put_escaped(out, chart->row_labels[r]);
			fputc(' ', out);
			report_put_escaped(out, chart->column_labels[c]);
			fprintf(out, ": %s</title></rect>",
			        report_number(chart->lang, chart->high <= 1 ? 100 * value : value, chart->high <= 1 ? 0 : 1, number));
		}
	}
	int y = height - 12;
	for (int i = 0; i <= 4; i++) {
		colour_of(i / 4.0, colour);
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"10\" fill=\"%s\" stroke=\"#ccc\"/>", left + i * 18,
		        y - 9, colour);
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">", left - 4, y);
	report_put_escaped(out, chart->low_label);
	fprintf(out, "</text><text x=\"%d\" y=\"%d\" class=\"tick\">", left + 5 * 18 + 4, y);
	if (chart->high_label)
		report_put_escaped(out, chart->high_label);
	else
		fputs(report_number(chart->lang, chart->high, chart->high < 10 ? 1 : 0, number), out);
	fputs("</text>", out);
	if (any_missing)
		legend_missing(out, chart->id, left + 200, y, chart->missing_label);
	return canvas_close(&canvas);
}

char *report_svg_map(const struct report_map *chart)
{
	const int height = 330, map_left = 40, map_width = 440, map_top = TOP + 10, map_height = 250;
	struct canvas canvas;
	FILE *out = canvas_open(&canvas, chart->id, height, chart->title);
	if (!out)
		return NULL;
	double south = INFINITY, north = -INFINITY, west = INFINITY, east = -INFINITY, low = INFINITY, high = -INFINITY;
	for (size_t i = 0; i < chart->count; i++) {
		if (!isnan(chart->values[i])) {
			low = fmin(low, chart->values[i]);
			high = fmax(high, chart->values[i]);
		}
		if (isnan(chart->latitude[i]) || isnan(chart->longitude[i]))
			continue;
		south = fmin(south, chart->latitude[i]);
		north = fmax(north, chart->latitude[i]);
		west = fmin(west, chart->longitude[i]);
		east = fmax(east, chart->longitude[i]);
	}
	/* East–west degrees are shorter by cos(latitude): one scale for both. */
	double middle = isfinite(south) ? (south + north) / 2 : 59.4;
	double span_x = (east - west) * cos(middle * M_PI / 180), span_y = north - south;
	/* The circles are placed in the frame less room for a name above the
	 * northernmost and a value below the southernmost, so that neither
	 * runs into the title or out of the frame. */
	const int place_top = map_top + 30, place_height = map_height - 50;
	double span = fmax(fmax(span_x / map_width, span_y / place_height), 1e-4);
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"mapframe\"/>", map_left - 30,
	        map_top - 20, map_width + 60, map_height + 40);
	char colour[8];
	size_t unplaced = 0;
	for (size_t i = 0; i < chart->count; i++) {
		if (isnan(chart->latitude[i]) || isnan(chart->longitude[i])) {
			unplaced++;
			continue;
		}
		double x = map_left + map_width / 2.0 +
		           ((chart->longitude[i] - west) * cos(middle * M_PI / 180) - span_x / 2) / span;
		double y = place_top + place_height / 2.0 - ((chart->latitude[i] - south) - span_y / 2) / span;
		bool known = !isnan(chart->values[i]);
		colour_of(known && high > low ? 0.2 + 0.8 * (chart->values[i] - low) / (high - low) : 0.6, colour);
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"20\" fill=\"%s\" stroke=\"#333\"/>", x, y,
		        known ? colour : "#dddddd");
		if (!known)
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"20\" fill=\"url(#hatch%u)\" stroke=\"#333\"/>", x, y,
			        chart->id);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"mapname\" text-anchor=\"middle\">", x, y - 25);
		report_put_escaped(out, chart->names[i]);
		fprintf(out, "</text><text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">", x, y + 34);
		report_put_escaped(out, chart->value_texts[i]);
		fputs("</text>", out);
	}
	int x = map_left + map_width + 50, y = map_top;
	fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tick\">", map_left - 30, height - 6);
	report_put_escaped(out, chart->value_label);
	fputs("</text>", out);
	if (unplaced) {
		y += 24;
		fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tick\">", x, y);
		report_put_escaped(out, chart->missing_label);
		fputs(":</text>", out);
		for (size_t i = 0; i < chart->count; i++) {
			if (!isnan(chart->latitude[i]) && !isnan(chart->longitude[i]))
				continue;
			y += 16;
			fprintf(out, "<text x=\"%d\" y=\"%d\" class=\"tick\">", x + 6, y);
			report_put_escaped(out, chart->names[i]);
			fputs(": ", out);
			report_put_escaped(out, chart->value_texts[i]);
			fputs("</text>", out);
		}
	}
	return canvas_close(&canvas);
}
