#!/usr/bin/env python3
"""render_html.py, the rendering check of tryggctl report's HTML, checked
against fixtures of its own.

    test_render_html.py WORK_PARENT

No servers.  Needs chromium, pdfinfo and pdftotext (Debian: chromium,
poppler-utils; scripts/deps installs them): without them it FAILS with
their names rather than skipping, because the report test depends on this
check.

  1. The PNG decoder: a small image whose rows use each of the five PNG
     filters is read back pixel for pixel.
  2. A self-contained page (a title, an inline SVG chart whose title and
     axis labels have Å, Ä, Ö, and a table with them; @page A4) renders:
     a 1200x4000 and a 390x844 screenshot of that size that are not
     blank, a PDF of A4 pages whose text has every heading, SVG label and
     table cell (strings that appear only in the SVG among them), and no
     request left the file, though the browser's own requests did reach
     the proxy and were put down to it.
  3. The check can fail:
       - a page with <img src="http://example.invalid/x.png"> and a style
         sheet from https://cdn.example.invalid: both reported as requests
         that left the file, both seen by the proxy (a GET and a CONNECT);
       - a page with <link rel=stylesheet href="other.css"> (a file beside
         it) and <img src="missing.png"> (no such file): both reported;
       - a blank page without @page: reported blank, not A4, and the
         expected text missing.

Exit 0 when all hold, 1 with the list of what did not; the files are kept
on failure.
"""

import os
import struct
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from capture import Problems  # noqa: E402
import render_html  # noqa: E402

# Strings the page must show, and where each is in it.
HEADINGS = ["Trygghetsrapport för Årby och Fröslunda", "Mörka timmar under nätterna"]
SVG_ONLY = ["Mörka timmar per natt, ÅÄÖ", "Årby", "Fröslunda", "Nätter", "Skiftinge"]
TABLE = ["Område", "Ändrad belysning", "Ökning", "Öster om ån"]
EXPECTED = HEADINGS + SVG_ONLY + TABLE

STYLE = """
@page { size: A4; margin: 15mm }
body { font-family: "DejaVu Sans", sans-serif; margin: 16px; color: #1b1b1b; background: #fff }
h1 { font-size: 26px; color: #123c69 }
svg { max-width: 100%; height: auto; display: block }
table { border-collapse: collapse; margin-top: 1em }
th, td { border: 1px solid #8a8a8a; padding: 4px 8px; text-align: left }
th { background: #e8eef5 }
"""


def chart():
    """An inline SVG bar chart: the title, both axes and their labels in
    <text>, the y-axis label turned a quarter."""
    bars = [("Årby", 9, "#c0392b"), ("Fröslunda", 6, "#2471a3"), ("Skiftinge", 3, "#229954")]
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 520 300" width="520" height="300"'
             ' role="img" aria-labelledby="chart-title">',
             '<title id="chart-title">Mörka timmar per natt, ÅÄÖ</title>',
             '<text x="260" y="24" text-anchor="middle" font-size="18" font-weight="bold">'
             'Mörka timmar per natt, ÅÄÖ</text>',
             '<line x1="70" y1="250" x2="500" y2="250" stroke="#000"/>',
             '<line x1="70" y1="40" x2="70" y2="250" stroke="#000"/>',
             '<text transform="translate(24 150) rotate(-90)" text-anchor="middle" font-size="14">Nätter</text>']
    for i, (name, value, colour) in enumerate(bars):
        x = 100 + i * 140
        h = value * 20
        parts.append(f'<rect x="{x}" y="{250 - h}" width="90" height="{h}" fill="{colour}"/>')
        parts.append(f'<text x="{x + 45}" y="272" text-anchor="middle" font-size="14">{name}</text>')
    for v in (0, 5, 10):
        parts.append(f'<text x="62" y="{254 - v * 20}" text-anchor="end" font-size="12">{v}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def page(body, title="Trygghetsrapport – Årby", style=STYLE, head_extra=""):
    return f"""<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
{head_extra}
</head>
<body>
{body}
</body>
</html>
"""


def good_page():
    rows = [("Årby", "ja", "+12 %", "Öster om ån"), ("Fröslunda", "nej", "−3 %", "Väster om ån")]
    table = ["<table>", "<caption>Ändrad belysning och gångtrafik</caption>",
             "<tr><th>Område</th><th>Ändrad belysning</th><th>Ökning</th><th>Läge</th></tr>"]
    table += [f"<tr><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in rows]
    table.append("</table>")
    return page(f"<h1>{HEADINGS[0]}</h1>\n<h2>{HEADINGS[1]}</h2>\n{chart()}\n" + "\n".join(table))


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


# ------------------------------------------------------------ PNG decoder

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def filtered(kind, row, prev, bpp):
    """The PNG filter `kind` applied to a row (the encoder's side)."""
    out = bytearray()
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = a
        elif kind == 2:
            pred = b
        elif kind == 3:
            pred = (a + b) >> 1
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out.append((x - pred) & 255)
    return bytes(out)


def check_png_decoder(p, work):
    width, height, bpp = 7, 10, 3
    rows = [bytes((x * 37 + y * 91 + c * 53 + x * y * 7) % 256 for x in range(width) for c in range(bpp))
            for y in range(height)]
    raw = bytearray()
    prev = bytes(width * bpp)
    for y, row in enumerate(rows):
        kind = y % 5
        raw += bytes([kind]) + filtered(kind, row, prev, bpp)
        prev = row
    png = (render_html.PNG_SIGNATURE
           + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + png_chunk(b"IDAT", zlib.compress(bytes(raw)))
           + png_chunk(b"IEND", b""))
    path = os.path.join(work, "filters.png")
    with open(path, "wb") as f:
        f.write(png)
    header, decoded = render_html.png_rows(path)
    p.expect(header[:2] == (width, height), "PNG decoder: the size from IHDR", str(header))
    p.expect(list(decoded) == rows, "PNG decoder: rows with filters None, Sub, Up, Average and Paeth read back")
    info = render_html.read_png(path, sample_step=1)
    distinct = len({row[i:i + bpp] for row in rows for i in range(0, len(row), bpp)})
    p.expect(info.colours == distinct, f"PNG decoder: {distinct} distinct colours counted", str(info))


# ------------------------------------------------------------------ pages

def check_good(p, work):
    path = write(os.path.join(work, "good", "report.html"), good_page())
    result = render_html.render(path, expect_text=EXPECTED, png=os.path.join(work, "good", "report.png"),
                                phone_png=os.path.join(work, "good", "report-phone.png"),
                                pdf=os.path.join(work, "good", "report.pdf"))
    print(render_html.describe(result))
    p.expect(result.ok, "the self-contained page passes every check", "; ".join(result.problems))
    p.expect(result.png_size == (render_html.WIDTH, render_html.HEIGHT),
             f"screenshot is {render_html.WIDTH}x{render_html.HEIGHT}", str(result.png_size))
    phone = result.phone_png_info
    p.expect(phone is not None and (phone.width, phone.height) == (render_html.PHONE_WIDTH, render_html.PHONE_HEIGHT),
             f"phone screenshot is {render_html.PHONE_WIDTH}x{render_html.PHONE_HEIGHT}", str(phone))
    p.expect(result.colours >= render_html.MIN_COLOURS and result.png_info.ink >= render_html.MIN_INK,
             "screenshot is not blank", str(result.png_info))
    p.expect(bool(result.pages) and all(abs(w - 595) <= 1 and abs(h - 842) <= 1 for w, h in result.pages),
             "PDF pages are A4", str(result.pages))
    p.expect(not result.missing_text, "PDF text has the headings, the SVG's title and axis labels, the table",
             str(result.missing_text))
    p.expect(result.requests == [], "no request left the file", str(result.requests))
    # The file:// witness saw the page itself (else it would be blind).
    p.expect(result.file_loads == ["file://" + os.path.abspath(path)],
             "file:// loads: the page itself and nothing else", str(result.file_loads))
    # Chromium's own requests still reach the proxy; they are told apart.
    p.expect(all(line in result.browser_requests for line in result.proxy_lines),
             "every proxied request was the browser's own",
             f"{len(result.proxy_lines)} line(s), {len(result.browser_requests)} put down to the browser")
    return result


def check_network(p, work):
    path = write(os.path.join(work, "network", "report.html"), page(
        '<h1>Årby</h1><img src="http://example.invalid/x.png" alt="x" width="10" height="10">',
        head_extra='<link rel="stylesheet" href="https://cdn.example.invalid/s.css">'))
    result = render_html.render(path, phone=False)
    print(render_html.describe(result))
    p.expect("http://example.invalid/x.png" in result.requests,
             "<img src=http://example.invalid/x.png>: a request that left the file", str(result.requests))
    p.expect("https://cdn.example.invalid/s.css" in result.requests,
             "<link href=https://cdn.example.invalid/s.css>: a request that left the file", str(result.requests))
    p.expect(any(line.startswith("GET http://example.invalid/x.png ") for line in result.proxy_lines),
             "the proxy saw GET http://example.invalid/x.png", str(result.proxy_lines))
    p.expect(any(line.startswith("CONNECT cdn.example.invalid:443 ") for line in result.proxy_lines),
             "the proxy saw CONNECT cdn.example.invalid:443", str(result.proxy_lines))
    p.expect(not result.ok, "the check fails")


def check_files(p, work):
    folder = os.path.join(work, "files")
    path = write(os.path.join(folder, "report.html"), page(
        '<h1>Årby</h1><img src="missing.png" alt="x" width="10" height="10">',
        head_extra='<link rel=stylesheet href="other.css">'))
    write(os.path.join(folder, "other.css"), "h1 { color: #a00 }\n")
    result = render_html.render(path, phone=False)
    print(render_html.describe(result))
    base = "file://" + os.path.abspath(folder)
    p.expect(base + "/other.css" in result.requests,
             "<link rel=stylesheet href=other.css> (a file beside it): a request that left the file",
             str(result.requests))
    p.expect(base + "/missing.png" in result.requests,
             "<img src=missing.png> (no such file): a request that left the file", str(result.requests))
    p.expect(not result.ok, "the check fails")


def check_blank(p, work):
    path = write(os.path.join(work, "blank", "report.html"),
                 page("", title="tom", style="body { background: #fff }"))
    result = render_html.render(path, expect_text=["Årby"])
    print(render_html.describe(result))
    problems = " | ".join(result.problems)
    p.expect(result.png_info is not None and result.png_info.colours == 1,
             "a white page has one colour", str(result.png_info))
    p.expect(sum("blank" in x for x in result.problems) == 2, "reported blank, both screenshots", problems)
    p.expect("not A4" in problems, "without @page { size: A4 } the PDF is reported not A4", problems)
    p.expect(result.missing_text == ["Årby"], "the expected text reported missing", problems)
    p.expect(result.requests == [], "and no request left it", str(result.requests))


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} WORK_PARENT")
    parent = os.path.abspath(argv[1])
    try:
        render_html.require_programs()
    except render_html.Missing as e:
        print(f"FAIL: {e}")
        return 1
    p = Problems()
    print(render_html.chromium_version())
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="render-html-", dir=parent)
    for sub in ("good", "network", "files", "blank"):
        os.makedirs(os.path.join(work, sub))
    started = time.monotonic()
    check_png_decoder(p, work)
    for check in (check_good, check_network, check_files, check_blank):
        t = time.monotonic()
        print(f"-- {check.__name__}")
        check(p, work)
        print(f"   {time.monotonic() - t:.1f} s")
    print(f"all in {time.monotonic() - started:.1f} s")
    return p.verdict(work, "the page renders and passes; requests off the file, a blank page, Letter pages "
                           "and missing text are each caught", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
