#!/usr/bin/env python3
"""Render one HTML file with headless Chromium and check what came out.

    render_html.py FILE.html [--png OUT.png] [--phone-png OUT.png] [--pdf OUT.pdf]
                   [--expect TEXT]... [--width 1200] [--height 4000] [--phone-width 390]

As a module (tests beside this file `import render_html`):

    result = render_html.render(path, expect_text=["Årby", "Fröslunda"])
    assert result.ok, result.problems   # or render_html.describe(result)

For tryggctl report's HTML, which must be one self-contained file: inline
CSS and SVG, no scripts, no fonts, images or style sheets from anywhere
else, readable on A4 and on a phone.  render() launches Debian's chromium
twice, each time with a fresh profile in a temporary folder:

  1. at WIDTHxHEIGHT (1200x4000: a long page), a --screenshot and a
     --print-to-pdf (no header or footer) in the same launch;
  2. at PHONE_WIDTHxPHONE_HEIGHT (390x844), a --screenshot.

and reports (a Result) what it saw.  The problems it finds:

  * a request left the file.  Three witnesses, because no single one sees
    everything:
      - a proxy of ours (--proxy-server=http://127.0.0.1:PORT, with
        --proxy-bypass-list=<-loopback> so that loopback goes through it
        too): a listening socket in a thread that records every
        connection and its request line ("GET http://host/x.png HTTP/1.1",
        "CONNECT host:443 HTTP/1.1") and answers 502.  It sees every
        http(s)/ws request the network stack makes, the browser's own
        included;
      - the net log (--log-net-log): each URL request with its initiator.
        Requests the page made carry the page's origin ("null" for a
        file:// page); the browser's own carry "not an origin".  Chromium
        156 makes some even with every switch below: accounts.google.com
        ListAccounts (IdentityManager, on every regular profile),
        update.googleapis.com (the optimization guide's on-demand model
        manifest, which --disable-component-update does not stop).  A
        proxied request is put down to the browser only when the net log
        shows a request of the browser's to that same URL or host:port and
        none of the page's; anything the net log does not explain counts
        as the page's, so a net log that went missing fails the check
        instead of hiding a request;
      - file:// loads.  The net log does not see them (a file:// sub-
        resource never reaches the network stack; checked with chromium
        156: <link href=other.css> and <img src=pic.png> leave no trace in
        it, even with --net-log-capture-mode=Everything).  Chromium's own
        verbose log does: content/browser/loader/file_url_loader_factory.cc
        writes "FileURLLoader::Start: file:///..." for every file it is
        asked for, found or not (--enable-logging=stderr
        --vmodule=file_url_loader_factory=1).  Every such load other than
        the page itself left the file.  The page's own load must be in that
        log: if it is not, the log has changed and the check says so
        rather than passing blind.
    --host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 is the net
    under it all: whatever might bypass the proxy cannot resolve a name.
  * a screenshot that is not WIDTHxHEIGHT (read from the PNG's IHDR) or is
    blank: the PNG is decoded here (zlib and the five PNG filters) and the
    distinct colours and the pixels that differ from the most common one
    (the "ink") are counted over a sample of rows; a page in one colour,
    or with fewer than MIN_COLOURS colours or MIN_INK pixels of ink, is
    blank;
  * a PDF whose pages are not A4 (595 x 842 pt within 1 pt, from pdfinfo):
    chromium prints on Letter unless the page's CSS says
    `@page { size: A4 }`, so this checks the report's print style;
  * an expected text missing from the PDF's text (pdftotext): the text
    was laid out in glyphs, SVG <text> included, not merely present in
    the source.

The switches, and why: --headless; --no-sandbox only as root (Chromium
refuses to run as root with its sandbox); --user-data-dir=<temporary>
(HOME and XDG_* point there too, so nothing lands in the real home);
--disable-background-networking, --disable-component-update,
--disable-sync, --no-first-run, --disable-default-apps,
--disable-extensions, --disable-features=NetworkTimeServiceQuerying (the
clients2.google.com/time fetch; the rest of the browser's own traffic is
attributed as above), --mute-audio, --hide-scrollbars (a scroll bar would
eat the width), --force-device-scale-factor=1 and --window-size (the PNG's
size is the window's), --force-color-profile=srgb,
--disable-dev-shm-usage (what Debian's wrapper adds where /dev/shm is
small; harmless elsewhere), --timeout (stop loading after that many ms).
The binary is /usr/lib/chromium/chromium, behind Debian's /usr/bin/chromium
wrapper, which would add switches of its own from /etc/chromium.d
(remote extensions, Google API keys); TRYGGD_CHROMIUM names another.

Standard library only, plus the programs chromium, pdfinfo and pdftotext
(Debian: chromium, poppler-utils; scripts/deps installs them) and a font
with Å, Ä and Ö (fonts-dejavu-core).
"""

import argparse
import collections
import dataclasses
import itertools
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
import zlib

WIDTH, HEIGHT = 1200, 4000
PHONE_WIDTH, PHONE_HEIGHT = 390, 844
A4_PT = (595.0, 842.0)
A4_TOLERANCE_PT = 1.0
# Not blank: at least this many distinct colours (anti-aliased text alone
# gives dozens) and this many sampled pixels off the background.
MIN_COLOURS = 4
MIN_INK = 20
# Every SAMPLE_STEP-th row of the screenshot is counted.
SAMPLE_STEP = 3
LOAD_TIMEOUT_MS = 20000
PROCESS_TIMEOUT_S = 60

DEBIAN_BINARY = "/usr/lib/chromium/chromium"
DEBIAN_WRAPPER = "/usr/bin/chromium"
BROWSER_INITIATOR = "not an origin"
FILE_LOAD = re.compile(r"FileURLLoader::Start: (\S+)")


class Missing(RuntimeError):
    """A program the check needs is not installed."""


# ---------------------------------------------------------------- programs

def find_chromium():
    """The chromium binary to run, or raise Missing."""
    named = os.environ.get("TRYGGD_CHROMIUM")
    if named:
        if shutil.which(named):
            return shutil.which(named)
        raise Missing(f"TRYGGD_CHROMIUM={named}: not found")
    if os.access(DEBIAN_BINARY, os.X_OK):
        return DEBIAN_BINARY
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise Missing("chromium is not installed (Debian package chromium; scripts/deps installs it)")


def find_tool(name):
    found = shutil.which(name)
    if not found:
        raise Missing(f"{name} is not installed (Debian package poppler-utils; scripts/deps installs it)")
    return found


def require_programs():
    """Raise Missing naming the first program that is not there."""
    find_chromium()
    find_tool("pdfinfo")
    find_tool("pdftotext")


def chromium_version(binary=None):
    try:
        out = subprocess.run([binary or find_chromium(), "--version"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError, Missing):
        return "unknown"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


# ------------------------------------------------------------------- proxy

class Proxy:
    """A listening socket on 127.0.0.1 that chromium takes for its proxy:
    every connection and the request line it sent are recorded, and each
    gets a 502, so nothing goes further."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = 0
        self.lines = []          # request lines, in order of arrival
        self.handlers = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            t.start()
            self.handlers.append(t)

    def _handle(self, conn):
        data = b""
        try:
            conn.settimeout(5)
            while b"\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data:
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                with self.lock:
                    self.lines.append(line)
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        for t in self.handlers:
            t.join(timeout=6)

    def snapshot(self):
        with self.lock:
            return self.connections, list(self.lines)


def proxy_target(line):
    """The URL or host:port of a proxied request line, or the line."""
    parts = line.split()
    return parts[1] if len(parts) >= 2 else line


def host_port(url):
    """host:port of an http(s)/ws(s) URL, the port spelled out."""
    u = urllib.parse.urlsplit(url)
    default = {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(u.scheme)
    if not u.hostname or default is None:
        return None
    host = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
    return f"{host}:{u.port or default}"


# ----------------------------------------------------------------- net log

def read_net_log(path):
    """[(url, initiator)] of every URL request in chromium's net log, or
    None when there is no readable log.  A log cut short (a killed
    chromium) is closed and read as far as it goes."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    try:
        log = json.loads(text)
    except ValueError:
        try:
            log = json.loads(text.rstrip().rstrip(",") + "]}")
        except ValueError:
            return None
    try:
        types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
        events = log.get("events", [])
    except (KeyError, AttributeError, TypeError):
        return None
    requests = []
    for event in events:
        if types.get(event.get("type")) != "URL_REQUEST_START_JOB":
            continue
        params = event.get("params") or {}
        if "url" in params:
            requests.append((params["url"], params.get("initiator")))
    return requests


# --------------------------------------------------------------------- PNG

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass
class Png:
    width: int
    height: int
    colours: int = 0          # distinct colours in the sampled rows
    ink: int = 0              # sampled pixels not of the most common colour
    sampled: int = 0          # pixels sampled
    background: tuple = ()    # the most common colour
    error: str = ""           # why the pixels could not be read


_masks = {}


def _add_bytes(a, b):
    """Bytewise (a + b) mod 256 of two equal-length byte strings, on big
    integers (no per-byte Python loop)."""
    n = len(a)
    if n not in _masks:
        _masks[n] = (int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big"))
    low, high = _masks[n]
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def _unfilter(kind, line, prev, bpp):
    if kind == 0:
        return bytes(line)
    if kind == 2:
        return _add_bytes(line, prev)
    if kind == 1:
        out = bytearray(line)
        for c in range(bpp):
            out[c::bpp] = bytes(v & 255 for v in itertools.accumulate(line[c::bpp]))
        return bytes(out)
    out = bytearray(line)
    n = len(out)
    if kind == 3:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + prev[i]) >> 1)) & 255
        return bytes(out)
    if kind == 4:
        for i in range(n):
            if i >= bpp:
                a, c = out[i - bpp], prev[i - bpp]
            else:
                a = c = 0
            b = prev[i]
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            if pa <= pb and pa <= pc:
                pred = a
            elif pb <= pc:
                pred = b
            else:
                pred = c
            out[i] = (out[i] + pred) & 255
        return bytes(out)
    raise ValueError(f"unknown PNG filter {kind}")


def png_rows(path):
    """(header, rows): the IHDR fields (width, height, bit depth, colour
    type, interlace) and, for an 8-bit non-interlaced image (what chromium
    writes), an iterator over its rows unfiltered, each bytes of
    width * channels; rows is None for other images."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != PNG_SIGNATURE or len(data) < 33 or data[12:16] != b"IHDR":
        raise ValueError(f"{path}: not a PNG")
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    header = (width, height, depth, ctype, interlace)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or bpp is None or interlace:
        return header, None
    idat = []
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + length])
        elif kind == b"IEND":
            break
        pos += 12 + length
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    if len(raw) < (stride + 1) * height:
        raise ValueError(f"{path}: image data short: {len(raw)} of {(stride + 1) * height} bytes")

    def rows():
        prev = bytes(stride)
        for y in range(height):
            start = y * (stride + 1)
            prev = _unfilter(raw[start], raw[start + 1:start + 1 + stride], prev, bpp)
            yield prev
    return header, rows()


def read_png(path, sample_step=SAMPLE_STEP):
    """A Png: the size from the IHDR chunk and the colours and ink of
    every sample_step-th row."""
    try:
        (width, height, depth, ctype, interlace), rows = png_rows(path)
    except zlib.error as e:
        raise ValueError(f"{path}: image data: {e}") from e
    png = Png(width, height)
    if rows is None:
        png.error = f"bit depth {depth}, colour type {ctype}, interlace {interlace}: pixels not read"
        return png
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    counts = collections.Counter()
    for y, row in enumerate(rows):
        if y % sample_step == 0:
            counts.update(zip(*(row[c::bpp] for c in range(bpp))))
    png.sampled = sum(counts.values())
    png.colours = len(counts)
    if counts:
        png.background, top = counts.most_common(1)[0]
        png.ink = png.sampled - top
    return png


def png_problems(png, width, height, what):
    problems = []
    if (png.width, png.height) != (width, height):
        problems.append(f"{what}: {png.width}x{png.height}, not {width}x{height}")
    if png.error:
        problems.append(f"{what}: {png.error}")
    elif png.colours < MIN_COLOURS or png.ink < MIN_INK:
        problems.append(f"{what}: blank ({png.colours} colour(s), {png.ink} of {png.sampled} "
                        f"sampled pixels off the background {png.background})")
    return problems


# --------------------------------------------------------------------- PDF

def pdf_pages(path):
    """[(width_pt, height_pt)] of every page (pdfinfo)."""
    info = subprocess.run([find_tool("pdfinfo"), path], capture_output=True, text=True, timeout=60)
    m = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    if info.returncode or not m:
        raise ValueError(f"pdfinfo: exit {info.returncode}: {info.stderr.strip()[-300:]}")
    count = int(m.group(1))
    sizes = subprocess.run([find_tool("pdfinfo"), "-f", "1", "-l", str(count), path],
                           capture_output=True, text=True, timeout=60).stdout
    pages = [(float(w), float(h)) for w, h in
             re.findall(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts", sizes, re.M)]
    if len(pages) != count:
        raise ValueError(f"pdfinfo: {count} page(s) but {len(pages)} size(s)")
    return pages


def pdf_text(path):
    out = subprocess.run([find_tool("pdftotext"), "-enc", "UTF-8", path, "-"],
                         capture_output=True, timeout=60)
    if out.returncode:
        raise ValueError(f"pdftotext: exit {out.returncode}: {out.stderr.decode(errors='replace')[-300:]}")
    return unicodedata.normalize("NFC", out.stdout.decode("utf-8", errors="replace"))


def pdf_fonts(path):
    """Font names in the PDF (pdffonts, also poppler-utils), for the log."""
    tool = shutil.which("pdffonts")
    if not tool:
        return []
    out = subprocess.run([tool, path], capture_output=True, text=True, timeout=60).stdout
    return sorted({line.split()[0] for line in out.splitlines()[2:] if line.strip()})


def squeeze(text):
    return " ".join(unicodedata.normalize("NFC", text).split())


# ------------------------------------------------------------------ render

@dataclasses.dataclass
class Launch:
    """One run of chromium."""
    args: list
    returncode: int
    seconds: float
    file_loads: list          # file:// URLs chromium was asked for
    net_requests: list        # (url, initiator) from the net log, or None
    stderr_tail: str


@dataclasses.dataclass
class Result:
    html: str
    chromium: str = ""
    # What left the file: file:// URLs, URLs and proxied request lines.
    requests: list = dataclasses.field(default_factory=list)
    # The browser's own requests, put down to it by the net log.
    browser_requests: list = dataclasses.field(default_factory=list)
    proxy_connections: int = 0
    proxy_lines: list = dataclasses.field(default_factory=list)
    file_loads: list = dataclasses.field(default_factory=list)
    png: str = ""
    png_info: Png = None
    phone_png: str = ""
    phone_png_info: Png = None
    pdf: str = ""
    pages: list = dataclasses.field(default_factory=list)
    text: str = ""
    fonts: list = dataclasses.field(default_factory=list)
    missing_text: list = dataclasses.field(default_factory=list)
    launches: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    problems: list = dataclasses.field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    @property
    def png_size(self):
        return (self.png_info.width, self.png_info.height) if self.png_info else None

    @property
    def colours(self):
        return self.png_info.colours if self.png_info else 0


def _switches(profile, proxy_port, width, height, net_log):
    args = [
        "--headless",
        f"--user-data-dir={profile}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-features=NetworkTimeServiceQuerying",
        "--mute-audio",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--force-color-profile=srgb",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        f"--timeout={LOAD_TIMEOUT_MS}",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--log-net-log={net_log}",
        "--enable-logging=stderr",
        "--vmodule=file_url_loader_factory=1",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    return args


def _launch(binary, work, name, url, proxy_port, width, height, outputs, timeout):
    """Run chromium once; outputs are the switches that name its files."""
    home = os.path.join(work, f"{name}-home")
    os.makedirs(home)
    net_log = os.path.join(work, f"{name}-netlog.json")
    args = [binary, *_switches(os.path.join(work, f"{name}-profile"), proxy_port, width, height, net_log),
            *outputs, url]
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_DATA_HOME=os.path.join(home, ".local"))
    started = time.monotonic()
    with open(os.path.join(work, f"{name}-stderr.txt"), "w+b") as err:
        # A session of its own: on a timeout its whole process group (the
        # renderer, GPU and zygote processes too) is killed, by its id.
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                env=env, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        err.seek(0)
        log = err.read().decode("utf-8", errors="replace")
    seconds = time.monotonic() - started
    loads = FILE_LOAD.findall(log)
    tail = "\n".join(line for line in log.splitlines()
                     if "dbus" not in line and "FileURLLoader" not in line)[-1500:]
    return Launch(args, code, seconds, loads, read_net_log(net_log), tail)


def _strip_fragment(url):
    return urllib.parse.urldefrag(url)[0]


def render(html, *, out_dir=None, png=None, phone_png=None, pdf=None, expect_text=(),
           width=WIDTH, height=HEIGHT, phone_width=PHONE_WIDTH, phone_height=PHONE_HEIGHT,
           phone=True, print_pdf=True, timeout=PROCESS_TIMEOUT_S):
    """Render html (a path) and check it; a Result whose .problems lists
    what did not hold.  png, phone_png, pdf: where to keep those files
    (otherwise they are made in a temporary folder and removed, the
    Result keeping only what was read from them); out_dir: keep the whole
    working folder there instead (profiles, logs, net logs).  Raises
    Missing when chromium or poppler-utils is not installed."""
    binary = find_chromium()
    if print_pdf:
        find_tool("pdfinfo")
        find_tool("pdftotext")
    html = os.path.abspath(html)
    result = Result(html=html, chromium=chromium_version(binary))
    if not os.path.isfile(html):
        result.problems.append(f"{html}: no such file")
        return result
    page_url = "file://" + urllib.parse.quote(html)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        work = tempfile.mkdtemp(prefix="render-", dir=out_dir)
    else:
        work = tempfile.mkdtemp(prefix="render-html-")
    started = time.monotonic()
    proxy = Proxy()
    try:
        shots = os.path.join(work, "page.png")
        outputs = [f"--screenshot={shots}"]
        pdf_path = os.path.join(work, "page.pdf")
        if print_pdf:
            outputs += [f"--print-to-pdf={pdf_path}", "--no-pdf-header-footer"]
        runs = [("wide", width, height, outputs, shots)]
        if phone:
            phone_shot = os.path.join(work, "phone.png")
            runs.append(("phone", phone_width, phone_height, [f"--screenshot={phone_shot}"], phone_shot))
        for name, w, h, outs, shot in runs:
            launch = _launch(binary, work, name, page_url, proxy.port, w, h, outs, timeout)
            result.launches.append(launch)
            what = f"screenshot {w}x{h}"
            if launch.returncode is None:
                result.problems.append(f"chromium ({name}) still running after {timeout} s: killed")
            elif launch.returncode != 0:
                result.problems.append(f"chromium ({name}) exit {launch.returncode}: {launch.stderr_tail[-600:]}")
            if not os.path.isfile(shot):
                result.problems.append(f"{what}: not written")
                continue
            try:
                info = read_png(shot)
            except ValueError as e:
                result.problems.append(f"{what}: {e}")
                continue
            result.problems += png_problems(info, w, h, what)
            if name == "wide":
                result.png_info = info
                result.png = _keep(shot, png)
            else:
                result.phone_png_info = info
                result.phone_png = _keep(shot, phone_png)
        if print_pdf:
            _check_pdf(result, pdf_path, pdf, expect_text)
    finally:
        # The proxy answers at once; a moment for a straggler's line.
        time.sleep(0.1)
        proxy.close()
    result.proxy_connections, result.proxy_lines = proxy.snapshot()
    _attribute(result, page_url)
    result.seconds = time.monotonic() - started
    if not out_dir:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _keep(path, dest):
    if not dest:
        return ""
    dest = os.path.abspath(dest)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    shutil.copyfile(path, dest)
    return dest


def _check_pdf(result, pdf_path, dest, expect_text):
    if not os.path.isfile(pdf_path):
        result.problems.append("PDF: not written")
        return
    try:
        result.pages = pdf_pages(pdf_path)
        result.text = pdf_text(pdf_path)
    except (ValueError, OSError, subprocess.SubprocessError) as e:
        result.problems.append(f"PDF: {e}")
        return
    result.fonts = pdf_fonts(pdf_path)
    result.pdf = _keep(pdf_path, dest)
    if not result.pages:
        result.problems.append("PDF: no pages")
    for number, (w, h) in enumerate(result.pages, 1):
        if abs(w - A4_PT[0]) > A4_TOLERANCE_PT or abs(h - A4_PT[1]) > A4_TOLERANCE_PT:
            result.problems.append(f"PDF page {number}: {w:g} x {h:g} pt, not A4 (595 x 842; "
                                   "the page's CSS needs @page { size: A4 })")
    text = squeeze(result.text)
    result.missing_text = [t for t in expect_text if squeeze(t) not in text]
    for t in result.missing_text:
        result.problems.append(f"PDF text: {t!r} not found")


def _attribute(result, page_url):
    """Fill result.requests (what left the file) and
    result.browser_requests from the three witnesses."""
    page = _strip_fragment(page_url)
    left = []
    seen_page = False
    for launch in result.launches:
        for url in launch.file_loads:
            if _strip_fragment(url) == page:
                seen_page = True
            else:
                left.append(url)
    result.file_loads = sorted({u for launch in result.launches for u in launch.file_loads})
    launched = [launch for launch in result.launches if launch.returncode is not None]
    if launched and not seen_page:
        result.problems.append("chromium's log shows no FileURLLoader::Start for the page itself: "
                               "file:// loads cannot be seen in this chromium")
    page_keys, browser_keys = set(), set()
    for launch in result.launches:
        if launch.net_requests is None:
            result.problems.append("chromium wrote no readable net log: its requests cannot be attributed")
            continue
        for url, initiator in launch.net_requests:
            keys = {url, host_port(url)} - {None}
            if initiator == BROWSER_INITIATOR:
                browser_keys |= keys
            else:
                page_keys |= keys
                left.append(url)
    for line in result.proxy_lines:
        target = proxy_target(line)
        if target in browser_keys and target not in page_keys:
            result.browser_requests.append(line)
        elif target not in page_keys:
            left.append(f"proxy: {line}")
    result.requests = list(dict.fromkeys(left))
    for r in result.requests:
        result.problems.append(f"a request left the file: {r}")


def describe(result):
    """A few lines for a test's log."""
    lines = [f"{result.html}: {result.chromium}, {len(result.launches)} launch(es) in {result.seconds:.1f} s"]
    for name, info, path in (("screenshot", result.png_info, result.png),
                             ("phone screenshot", result.phone_png_info, result.phone_png)):
        if info:
            lines.append(f"  {name}: {info.width}x{info.height}, {info.colours} colours, "
                         f"{info.ink} of {info.sampled} sampled pixels off {info.background}"
                         + (f" -> {path}" if path else ""))
    if result.pages:
        sizes = sorted({f"{w:g}x{h:g}" for w, h in result.pages})
        lines.append(f"  PDF: {len(result.pages)} page(s) of {', '.join(sizes)} pt; "
                     f"{len(result.text)} characters of text; fonts {', '.join(result.fonts) or '?'}")
    lines.append(f"  proxy: {result.proxy_connections} connection(s); the browser's own: "
                 f"{len(result.browser_requests)}; file:// loads: {len(result.file_loads)}")
    for r in result.browser_requests:
        lines.append(f"    browser's own: {r[:120]}")
    for r in result.requests:
        lines.append(f"    LEFT THE FILE: {r[:160]}")
    for p in result.problems:
        if not p.startswith("a request left the file"):
            lines.append(f"  problem: {p}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html")
    parser.add_argument("--png", help="keep the screenshot here")
    parser.add_argument("--phone-png", help="keep the phone-width screenshot here")
    parser.add_argument("--pdf", help="keep the printed PDF here")
    parser.add_argument("--expect", action="append", default=[], metavar="TEXT",
                        help="text the printed page must contain (repeatable)")
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--height", type=int, default=HEIGHT)
    parser.add_argument("--phone-width", type=int, default=PHONE_WIDTH)
    parser.add_argument("--phone-height", type=int, default=PHONE_HEIGHT)
    parser.add_argument("--keep", metavar="DIR", help="keep the working files (logs, profiles) under DIR")
    args = parser.parse_args(argv)
    try:
        result = render(args.html, out_dir=args.keep, png=args.png, phone_png=args.phone_png, pdf=args.pdf,
                        expect_text=args.expect, width=args.width, height=args.height,
                        phone_width=args.phone_width, phone_height=args.phone_height)
    except Missing as e:
        print(f"render_html: {e}", file=sys.stderr)
        return 2
    print(describe(result))
    print("OK" if result.ok else f"FAIL: {len(result.problems)} problem(s)")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
