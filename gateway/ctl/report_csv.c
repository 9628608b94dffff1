/* report_csv.c — the report's tables as one CSV stream (RFC 4180: commas,
 * CRLF, a field with a comma, quote or line break in double quotes with
 * its quotes doubled), for a spreadsheet or a script.
 *
 * One section per table, sections separated by a blank line.  Each
 * section begins with a header row; every row, the header included,
 * starts with two columns: `table` (the table's name, e.g.
 * footfall_per_day) and `district` (the district, the label of all
 * districts, or empty for a table of the whole report), so that the lines
 * of one table can also be picked out of the stream by their first field.
 * Tables of the same name and columns that follow each other (the same
 * table for each district) form one section.  Numbers are written with a
 * point and no grouping whatever the language; a missing figure is an
 * empty field, never 0.  Only writes; owns nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

static void put_field(FILE *out, const char *text)
{
	if (!text || !strpbrk(text, ",\"\r\n")) {
		fputs(text ? text : "", out);
		return;
	}
	fputc('"', out);
	for (; *text; text++) {
		if (*text == '"')
			fputc('"', out);
		fputc(*text, out);
	}
	fputc('"', out);
}

static bool same_columns(const struct report_table *a, const struct report_table *b)
{
	if (strcmp(a->id, b->id) != 0 || a->columns != b->columns)
		return false;
	for (size_t c = 0; c < a->columns; c++)
		if (strcmp(a->headers[c], b->headers[c]) != 0)
			return false;
	return true;
}

static void put_cell(FILE *out, const struct report_cell *cell)
{
	switch (cell->kind) {
	case REPORT_CELL_TEXT:
		put_field(out, cell->text);
		break;
	case REPORT_CELL_NUMBER:
		fprintf(out, "%.*f", cell->decimals, cell->number);
		break;
	default:
		break;
	}
}

int report_write_csv(const struct report_document *document, FILE *out)
{
	const struct report_table *previous = NULL;
	for (size_t i = 0; i < document->count; i++) {
		const struct report_table *table = document->blocks[i].table;
		if (document->blocks[i].kind != REPORT_BLOCK_TABLE || !table)
			continue;
		if (!previous || !same_columns(previous, table)) {
			if (previous)
				fputs("\r\n", out);
			fputs("table,district", out);
			for (size_t c = 0; c < table->columns; c++) {
				fputc(',', out);
				put_field(out, table->headers[c]);
			}
			fputs("\r\n", out);
		}
		for (size_t row = 0; row * table->columns < table->cell_count; row++) {
			put_field(out, table->id);
			fputc(',', out);
			put_field(out, table->group);
			for (size_t c = 0; c < table->columns; c++) {
				fputc(',', out);
				put_cell(out, &table->cells[row * table->columns + c]);
			}
			fputs("\r\n", out);
		}
		previous = table;
	}
	return ferror(out) ? -EIO : 0;
}
