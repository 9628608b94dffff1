#!/usr/bin/env python3
"""`tryggctl report`'s HTML from a real run, rendered by headless Chromium
(render_html.py): it renders, prints on A4, loads nothing, and shows Å, Ä
and Ö in headings, in charts and in tables.

    test_report_render.py TRYGGD SOURCE_DIR SERVERS_DIR

tryggctl is the binary next to TRYGGD.  The five gateways of the demo year
(config/demo-year/*.conf, via demo_year.py) run at speed 0 over the demo's
week, 2026-11-02 to 2026-11-09 local, into the fixture's influxd as
"Årby <tag>", ... (a fraction of a second); then the report in Swedish, the
default, for those five districts with
--change "Årby <tag>=2026-11-05:Ändrad belysning på Östra torget".

render_html.render() then launches chromium twice with a fresh profile
(1200x4000 with a screenshot and a PDF, 390x844 with a screenshot) and the
test holds:

  - both screenshots are of that size and not blank;
  - the PDF has pages, every one A4 (595 x 842 pt: the report's
    `@media print { @page { size: A4 } }`; chromium prints Letter without);
  - no request left the file (proxy, net log, file:// loads; the browser's
    own requests are told apart) and the only file loaded is the page;
  - the PDF's text (pdftotext: text laid out in glyphs, SVG <text>
    included) has each of these, and the HTML has each only where it is
    said to be, so that finding it proves that kind of element rendered:
      headings  "Trygghetsrapport: belysning, skötsel och rörelse" (h1),
                "Årby <tag>: Ändrad belysning på Östra torget — före och
                efter" (h3): Å, Ä, Ö;
      charts    the weekday axis of the typical week, "mån tis ons tors fre
                lör sön" (SVG text; the tables write måndag ... söndag),
                "Passager per dag (uppräknade; streck = råtal)" and "Täckt
                andel per gateway och dag" (chart titles): å, ä, ö;
      tables    "Övriga" (the before/after table's header), "Täckt (%)"
                (a header), "stadsdelarna — Årby <tag>" (a caption): Ö, ä, Å.

Needs chromium and poppler-utils (scripts/deps installs them): without
them it FAILS, naming them.  About 5 s here.

Exit 0 when all hold, 1 with the list of what did not; the working folder
(the report, the screenshots, the PDF) is kept on failure and printed.
"""

import os
import re
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import demo_year  # noqa: E402 (beside this file)
import render_html  # noqa: E402
from capture import Problems, load_servers  # noqa: E402

SINCE, UNTIL = "2026-11-02", "2026-11-09"
START, END = "2026-11-01T23:00:00Z", "2026-11-08T23:00:00Z"   # local midnights (CET)
CHANGE_DATE, CHANGE_TEXT = "2026-11-05", "Ändrad belysning på Östra torget"
WEEKDAY_AXIS = "mån tis ons tors fre lör sön"   # the typical week's rows, top to bottom


def text_of(fragment):
    """The text of an HTML fragment: tags dropped, entities of the report
    (&amp; &lt; &gt; &quot;) read, white space squeezed."""
    text = re.sub(r"<[^>]+>", " ", fragment)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return render_html.squeeze(text)


def places(html):
    """{kind: text} of the HTML's headings, charts (SVG), tables, and the
    rest, each the squeezed text of those elements."""
    parts = {}
    rest = html
    for kind, pattern in (("charts", r"<svg\b.*?</svg>"), ("tables", r"<table\b.*?</table>"),
                          ("headings", r"<h[1-3]\b.*?</h[1-3]>")):
        parts[kind] = " | ".join(text_of(m) for m in re.findall(pattern, rest, re.S))
        rest = re.sub(pattern, " ", rest, flags=re.S)
    parts["rest"] = text_of(re.sub(r"<head\b.*?</head>", " ", rest, flags=re.S))
    return parts


def main(argv):
    tryggd, source, _, _, info = load_servers(argv)
    tryggctl = os.path.join(os.path.dirname(tryggd), "tryggctl")
    try:
        render_html.require_programs()
    except render_html.Missing as e:
        print(f"FAIL: {e}")
        return 1
    p = Problems()
    work = tempfile.mkdtemp(prefix="tryggd-report-render-")
    tag = uuid.uuid4().hex[:6]
    started = time.monotonic()
    print(f"work {work}, tag {tag}; {render_html.chromium_version()}")

    names, runs = {}, []
    for gateway in demo_year.read(source):
        names[gateway.district] = f"{gateway.district} {tag}"
        config = demo_year.write(gateway, os.path.join(work, f"{gateway.name}.conf"), work, source, info,
                                 f"render-{tag}-{gateway.id}", names[gateway.district], START, END,
                                 comment="Written by tests/integration/test_report_render.py")
        runs.append((config, os.path.join(work, f"{gateway.name}.log")))
    results, seconds = demo_year.run_all(tryggd, runs)
    print(f"  {len(runs)} gateways, {SINCE} to {UNTIL}: {seconds:.1f} s")
    for config, code in results:
        p.expect(code == 0, f"tryggd -c {os.path.basename(config)} ran to its end", f"exit {code}")
    p.expect("Årby" in names, "config/demo-year has Årby", f"{sorted(names)}")
    arby = names.get("Årby", f"Årby {tag}")

    html_path = os.path.join(work, "report.html")
    args = ["--influx", info["influx_url"], "--db", info["database"], "--since", SINCE, "--until", UNTIL]
    for name in names.values():
        args += ["--district", name]
    status, _ = demo_year.report(tryggctl, *args, "--change", f"{arby}={CHANGE_DATE}:{CHANGE_TEXT}", "-o", html_path)
    if not p.expect(status == 0 and os.path.exists(html_path), "the report is written (Swedish)", f"exit {status}"):
        return p.verdict(work, "")
    with open(html_path, encoding="utf-8") as f:
        html = f.read()

    expected = {
        "headings": ["Trygghetsrapport: belysning, skötsel och rörelse",
                     f"{arby}: {CHANGE_TEXT} — före och efter"],
        "charts": [WEEKDAY_AXIS, "Passager per dag (uppräknade; streck = råtal)",
                   "Täckt andel per gateway och dag"],
        "tables": ["Övriga", "Täckt (%)", f"stadsdelarna — {arby}"],
    }
    where = places(html)
    svg_texts = {text_of(m) for m in re.findall(r"<text\b.*?</text>", html, re.S)}
    for kind, strings in expected.items():
        for text in strings:
            if text == WEEKDAY_AXIS:
                # Its own <text> per weekday, each a word found nowhere else
                # (the per-cell <title>s fall between them in the source).
                words = text.split()
                missing = [w for w in words if w not in svg_texts]
                elsewhere = [w for w in words for k in where
                             if k != kind and re.search(rf"(?<!\w){w}(?!\w)", where[k])]
                p.expect(not missing and not elsewhere, f"HTML: the weekday axis {text!r}: SVG <text> only",
                         f"not in SVG: {missing}; elsewhere: {elsewhere}")
                continue
            elsewhere = [k for k in where if k != kind and text in where[k]]
            p.expect(text in where[kind] and not elsewhere, f"HTML: {text!r} in {kind} only",
                     f"in {kind}: {text in where[kind]}; also in {elsewhere}")
        letters = "".join(strings)
        for letter in "ÅÄÖ":
            p.expect(letter in letters or letter.lower() in letters, f"{kind}: the strings checked have {letter} "
                     "(or its small letter)")

    result = render_html.render(html_path, expect_text=[t for strings in expected.values() for t in strings],
                                png=os.path.join(work, "report-1200.png"),
                                phone_png=os.path.join(work, "report-390.png"), pdf=os.path.join(work, "report.pdf"))
    print(render_html.describe(result))
    wide, phone = result.png_info, result.phone_png_info
    p.expect(wide is not None and (wide.width, wide.height) == (render_html.WIDTH, render_html.HEIGHT)
             and not render_html.png_problems(wide, render_html.WIDTH, render_html.HEIGHT, "wide"),
             f"a screenshot of {render_html.WIDTH}x{render_html.HEIGHT}, not blank", str(wide))
    p.expect(phone is not None and (phone.width, phone.height) == (render_html.PHONE_WIDTH, render_html.PHONE_HEIGHT)
             and not render_html.png_problems(phone, render_html.PHONE_WIDTH, render_html.PHONE_HEIGHT, "phone"),
             f"a screenshot of {render_html.PHONE_WIDTH}x{render_html.PHONE_HEIGHT} (a phone), not blank", str(phone))
    p.expect(len(result.pages) >= 2 and all(abs(w - 595) <= 1 and abs(h - 842) <= 1 for w, h in result.pages),
             f"the PDF: {len(result.pages)} pages, every one A4", str(sorted(set(result.pages))))
    p.expect(result.requests == [], "no request left the file", str(result.requests))
    page = "file://" + urllib.parse.quote(os.path.abspath(html_path))
    p.expect(result.file_loads == [page], "file:// loads: the page itself and nothing else", str(result.file_loads))
    p.expect(not result.missing_text, "the PDF's text has every heading, chart and table string above",
             str(result.missing_text))
    p.expect(result.ok, "render_html finds no problem", "; ".join(result.problems))
    print(f"all in {time.monotonic() - started:.1f} s")
    return p.verdict(work, "the report renders at 1200 and 390 px and on A4, loads nothing, and shows Å, Ä and Ö "
                           "in headings, charts and tables", remove_work=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
