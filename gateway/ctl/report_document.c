/* report_document.c — the report as a list of blocks (headings, text,
 * charts, tables, queries) that the figures add to in reading order and
 * that report_html.c and report_csv.c both write, so the CSV holds exactly
 * the tables of the HTML.
 *
 * The first failure (out of memory) is kept in document->error and every
 * later call does nothing, so the figures need not check each cell; the
 * caller looks once at the end.  The document owns every block, text,
 * chart and table (report_document_free). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static struct report_block *add_block(struct report_document *document, enum report_block_kind kind)
{
	if (document->error)
		return NULL;
	if (document->count == document->capacity) {
		size_t wanted = document->capacity ? document->capacity * 2 : 64;
		struct report_block *grown = realloc(document->blocks, wanted * sizeof(*grown));
		if (!grown) {
			document->error = -ENOMEM;
			return NULL;
		}
		document->blocks = grown;
		document->capacity = wanted;
	}
	struct report_block *block = &document->blocks[document->count++];
	*block = (struct report_block){ .kind = kind };
	return block;
}

void report_add(struct report_document *document, enum report_block_kind kind, const char *text)
{
	char *copy = document->error ? NULL : strdup(text);
	if (!copy) {
		document->error = document->error ? document->error : -ENOMEM;
		return;
	}
	struct report_block *block = add_block(document, kind);
	if (!block) {
		free(copy);
		return;
	}
	block->text = copy;
}

void report_addf(struct report_document *document, enum report_block_kind kind, const char *format, ...)
{
	char *text = NULL;
	va_list arguments;
	if (document->error)
		return;
	va_start(arguments, format);
	int r = vasprintf(&text, format, arguments);
	va_end(arguments);
	if (r < 0) {
		document->error = -ENOMEM;
		return;
	}
	struct report_block *block = add_block(document, kind);
	if (!block) {
		free(text);
		return;
	}
	block->text = text;
}

void report_add_svg(struct report_document *document, char *svg)
{
	if (!svg) {
		document->error = document->error ? document->error : -ENOMEM;
		return;
	}
	struct report_block *block = add_block(document, REPORT_BLOCK_SVG);
	if (!block) {
		free(svg);
		return;
	}
	block->text = svg;
}

static void table_free(struct report_table *table)
{
	if (!table)
		return;
	for (size_t i = 0; i < table->columns; i++)
		free(table->headers[i]);
	for (size_t i = 0; i < table->cell_count; i++)
		free(table->cells[i].text);
	free(table->headers);
	free(table->cells);
	free(table->id);
	free(table->group);
	free(table->caption);
	free(table);
}

struct report_table *report_table(struct report_document *document, const char *id, const char *group,
                                  const char *caption, size_t columns, const char *const headers[])
{
	if (document->error)
		return NULL;
	struct report_table *table = calloc(1, sizeof(*table));
	bool ok = table != NULL;
	if (ok) {
		table->columns = columns;
		table->headers = calloc(columns, sizeof(*table->headers));
		table->id = strdup(id);
		table->group = group ? strdup(group) : NULL;
		table->caption = strdup(caption);
		ok = table->headers && table->id && (!group || table->group) && table->caption;
		for (size_t i = 0; ok && i < columns; i++)
			ok = (table->headers[i] = strdup(headers[i])) != NULL;
	}
	struct report_block *block = ok ? add_block(document, REPORT_BLOCK_TABLE) : NULL;
	if (!block) {
		table_free(table);
		document->error = document->error ? document->error : -ENOMEM;
		return NULL;
	}
	block->table = table;
	return table;
}

static struct report_cell *add_cell(struct report_document *document, struct report_table *table)
{
	if (document->error || !table)
		return NULL;
	if (table->cell_count == table->capacity) {
		size_t wanted = table->capacity ? table->capacity * 2 : 64;
		struct report_cell *grown = realloc(table->cells, wanted * sizeof(*grown));
		if (!grown) {
			document->error = -ENOMEM;
			return NULL;
		}
		table->cells = grown;
		table->capacity = wanted;
	}
	struct report_cell *cell = &table->cells[table->cell_count++];
	*cell = (struct report_cell){ .kind = REPORT_CELL_EMPTY };
	return cell;
}

void report_cell_text(struct report_document *document, struct report_table *table, const char *text)
{
	struct report_cell *cell = add_cell(document, table);
	if (!cell)
		return;
	cell->kind = REPORT_CELL_TEXT;
	if (!(cell->text = strdup(text ? text : "")))
		document->error = -ENOMEM;
}

void report_cell_number(struct report_document *document, struct report_table *table, double value, int decimals)
{
	struct report_cell *cell = add_cell(document, table);
	if (!cell)
		return;
	cell->kind = value != value ? REPORT_CELL_MISSING : REPORT_CELL_NUMBER;
	cell->number = value;
	cell->decimals = decimals;
}

void report_cell_missing(struct report_document *document, struct report_table *table)
{
	struct report_cell *cell = add_cell(document, table);
	if (cell)
		cell->kind = REPORT_CELL_MISSING;
}

void report_document_free(struct report_document *document)
{
	for (size_t i = 0; i < document->count; i++) {
		free(document->blocks[i].text);
		table_free(document->blocks[i].table);
	}
	free(document->blocks);
	document->blocks = NULL;
	document->count = document->capacity = 0;
}
