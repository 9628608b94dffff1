/* report_html.c — the report as one self-contained HTML file: inline CSS
 * and inline SVG, no script, no font, image or link that loads anything,
 * so it opens the same offline, in a mail and years later.  It reads on a
 * phone (viewport, charts that scale, wide tables that scroll) and prints
 * on A4 (each part on a page of its own).  Every text from the store is
 * escaped.  Only writes; owns nothing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

static const char style[] =
	"*{box-sizing:border-box}"
	"body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;font-size:15px;line-height:1.45;color:#1a1a1a;"
	"margin:0 auto;max-width:980px;padding:12px}"
	"h1{font-size:1.6em;margin:.3em 0}h2{font-size:1.35em;border-bottom:2px solid #1f5fa8;margin-top:1.6em}"
	"h3{font-size:1.1em;margin:1.3em 0 .4em}"
	"p.note{font-size:.85em;color:#444;border-left:3px solid #ccd;padding-left:8px}"
	"figure{margin:.6em 0}svg.chart{width:100%;height:auto;display:block}"
	"svg text{font-family:inherit}svg .title{font-size:14px;font-weight:bold}svg .tick{font-size:11px;fill:#333}"
	"svg .axis{font-size:11px;fill:#333}svg .grid{stroke:#e3e3e3}svg .raw{stroke:#111;stroke-width:2}"
	"svg .missing{font-size:10px;fill:#555}svg .line{fill:none;stroke-width:2}svg .mapname{font-size:13px;font-weight:bold}"
	"svg .mapframe{fill:#f7f9fc;stroke:#dde}"
	"div.table{overflow-x:auto;margin:.5em 0 1em}"
	"table{border-collapse:collapse;font-size:.82em}caption{text-align:left;font-weight:bold;padding:4px 0}"
	"th,td{border:1px solid #ccc;padding:2px 6px;vertical-align:top}th{background:#eef2f8;text-align:left}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"td.missing{text-align:center;color:#555;"
	"background:repeating-linear-gradient(45deg,#eee,#eee 4px,#ddd 4px,#ddd 8px)}"
	"pre.query{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:6px;font-size:.8em}"
	"@media print{body{max-width:none;font-size:10.5pt;padding:0}@page{size:A4;margin:14mm}"
	"section.part{break-before:page}figure{break-inside:avoid}h2,h3{break-after:avoid}"
	"div.table{overflow:visible}table{font-size:8pt}}"
	"@media (max-width:600px){body{font-size:14px;padding:6px}table{font-size:.75em}}";

static void put_cell(FILE *out, enum report_lang lang, const struct report_cell *cell, const char *missing)
{
	char number[REPORT_NUMBER_SIZE];
	switch (cell->kind) {
	case REPORT_CELL_TEXT:
		fputs("<td>", out);
		report_put_escaped(out, cell->text);
		fputs("</td>", out);
		break;
	case REPORT_CELL_NUMBER:
		fprintf(out, "<td class=\"n\">%s</td>", report_number(lang, cell->number, cell->decimals, number));
		break;
	case REPORT_CELL_MISSING:
		fputs("<td class=\"missing\" title=\"", out);
		report_put_escaped(out, missing);
		fputs("\">–</td>", out);
		break;
	default:
		fputs("<td></td>", out);
	}
}

static void put_table(FILE *out, enum report_lang lang, const struct report_table *table)
{
	fputs("<div class=\"table\"><table><caption>", out);
	report_put_escaped(out, table->caption);
	if (table->group) {
		fputs(" — ", out);
		report_put_escaped(out, table->group);
	}
	fputs("</caption><thead><tr>", out);
	for (size_t c = 0; c < table->columns; c++) {
		fputs("<th>", out);
		report_put_escaped(out, table->headers[c]);
		fputs("</th>", out);
	}
	fputs("</tr></thead><tbody>", out);
	const char *missing = report_word(lang, W_MISSING);
	for (size_t i = 0; i < table->cell_count; i++) {
		if (i % table->columns == 0)
			fputs(i ? "</tr>\n<tr>" : "<tr>", out);
		put_cell(out, lang, &table->cells[i], missing);
	}
	if (table->cell_count)
		fputs("</tr>", out);
	fputs("</tbody></table></div>\n", out);
}

int report_write_html(const struct report_options *options, const struct report_document *document,
                      const char *title, FILE *out)
{
	enum report_lang lang = options->lang;
	bool open = false;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
	        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	        lang == REPORT_LANG_SV ? "sv" : "en");
	report_put_escaped(out, title);
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header><h1>", style);
	report_put_escaped(out, title);
	fputs("</h1></header>\n", out);
	for (size_t i = 0; i < document->count; i++) {
		const struct report_block *block = &document->blocks[i];
		switch (block->kind) {
		case REPORT_BLOCK_SECTION:
			if (open)
				fputs("</section>\n", out);
			fputs("<section class=\"part\"><h2>", out);
			report_put_escaped(out, block->text);
			fputs("</h2>\n", out);
			open = true;
			break;
		case REPORT_BLOCK_HEADING:
			fputs("<h3>", out);
			report_put_escaped(out, block->text);
			fputs("</h3>\n", out);
			break;
		case REPORT_BLOCK_TEXT:
		case REPORT_BLOCK_NOTE:
			fputs(block->kind == REPORT_BLOCK_NOTE ? "<p class=\"note\">" : "<p>", out);
			report_put_escaped(out, block->text);
			fputs("</p>\n", out);
			break;
		case REPORT_BLOCK_SVG:
			fprintf(out, "<figure>%s</figure>\n", block->text);
			break;
		case REPORT_BLOCK_TABLE:
			put_table(out, lang, block->table);
			break;
		case REPORT_BLOCK_QUERY:
			fputs("<pre class=\"query\">", out);
			report_put_escaped(out, block->text);
			fputs("</pre>\n", out);
			break;
		}
	}
	if (open)
		fputs("</section>\n", out);
	fputs("</body>\n</html>\n", out);
	return ferror(out) ? -EIO : 0;
}
