#!/usr/bin/env python3
"""A scripted HTTP time-series store, for what a real influxd or
VictoriaMetrics will not do on demand: refuse part of a batch, say 413, 429
or 503 with Retry-After for a while, refuse credentials, lose a database,
answer slowly or not at all.

    with FakeStore(busy_first(2, 503, retry_after=3)) as store:
        ... point tryggd at store.url ...
        store.wait_requests(3, 10)
        assert not store.duplicates()     # every point stored once

Every request is recorded (FakeStore.requests): method, path, parsed query,
headers, the body as received and decoded (gzip), the time it came and the
answer given.  What the script lets through is stored as InfluxDB would
store it: FakeStore.stored maps (series, timestamp in ns) to the last line
written for that point, so a resent point replaces itself, and
FakeStore.history keeps every line each time it was stored, so resends can
be counted.

The script is either
  - a callable(request) -> answer, or None to leave the request to `then`;
  - a list of rules, one per write (POST), in order, each a callable as
    above or an answer; once the list is used up, or for a request that is
    not a POST, or when a rule returns None, `then` answers;
and `then` (default accept()) answers the rest.  An answer is an Answer, a
tuple (status, headers dict, body bytes), or a bare status.  Unless an
Answer says which lines to store (Answer.store), a 2xx answer stores all
the lines of the body and any other answer none.

Rules (each a callable for a script): accept(), influx_partial_write(),
too_large(), busy_first(), unauthorized(), database_not_found(), status(),
slow(), drop_connection(), chain().  Their answers follow influxd 1.6's
(status, JSON body, X-Influxdb-Error), as measured.

    fake_store.py --self-test      exercise it over HTTP with urllib

Python 3.11 standard library only.
"""

import collections
import gzip
import http.client
import http.server
import json
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple, Optional

INFLUX_VERSION = "1.6.7~rc0"   # what Debian 12's influxd says
# Precision query values (1.x, 2.x: n u ms s m h; 3: second, ...) -> ns.
PRECISION_NS = {
    None: 1, "": 1, "n": 1, "ns": 1, "nanosecond": 1,
    "u": 1_000, "us": 1_000, "\u00b5": 1_000, "microsecond": 1_000,
    "ms": 1_000_000, "millisecond": 1_000_000,
    "s": 1_000_000_000, "second": 1_000_000_000,
    "m": 60_000_000_000, "h": 3_600_000_000_000,
}


# ---------------------------------------------------------------- lines

def split_line(line):
    """(series, fields, timestamp text or None) of one line protocol line,
    by its unescaped spaces (and, in the field set, spaces inside quoted
    string values); None when it has no field set at all."""
    parts = []
    start = i = 0
    in_fields = quoted = False
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if in_fields and c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            parts.append(line[start:i])
            start = i + 1
            if len(parts) == 2:
                break
            in_fields = True
        i += 1
    parts.append(line[start:])
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    series, fields = parts[0], parts[1]
    stamp = parts[2].strip() if len(parts) > 2 and parts[2].strip() else None
    return series, fields, stamp


def _split_unescaped(text, sep):
    out, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == sep:
            out.append(text[start:i])
            start = i + 1
        i += 1
    out.append(text[start:])
    return out


def point_key(line, precision=None, now_ns=None):
    """(series, timestamp in ns) of a line, the point it writes: the series
    is the measurement and its tags in sorted order (tags as written, not
    unescaped), so that two lines naming the same point with their tags in
    another order are the same key, as in InfluxDB.  A line without a
    timestamp takes now_ns (the server's clock, as InfluxDB does).  A line
    that cannot be split: (line, None)."""
    parsed = split_line(line)
    if parsed is None:
        return (line, None)
    series, _, stamp = parsed
    measurement, *tags = _split_unescaped(series, ",")
    key = ",".join([measurement, *sorted(tags)])
    if stamp is None:
        return (key, now_ns)
    try:
        return (key, int(stamp) * PRECISION_NS.get(precision, 1))
    except ValueError:
        return (key, stamp)


# ---------------------------------------------------------------- requests and answers

class Request:
    """One request as the store got it."""

    def __init__(self, index, method, target, headers, raw, received, received_mono, client=None):
        self.index = index               # 0, 1, ... in the order they came
        self.client = client             # (host, port) of the connection
        self.method = method
        self.target = target             # path and query as sent
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        self.headers = headers           # http.client.HTTPMessage: get() ignores case
        self.raw = raw                   # body bytes as received
        self.encoding = headers.get("Content-Encoding")
        self.decode_error = None
        self.body = raw                  # decoded (gunzipped) body, or None
        if self.encoding and self.encoding.strip().lower() == "gzip":
            try:
                self.body = gzip.decompress(raw)
            except (OSError, EOFError, ValueError) as e:
                self.body, self.decode_error = None, f"gzip: {e}"
        elif self.encoding and self.encoding.strip().lower() not in ("identity", ""):
            self.body, self.decode_error = None, f"unknown Content-Encoding {self.encoding!r}"
        self.time = received             # time.time() when it came
        self.monotonic = received_mono   # time.monotonic() when it came
        self.answer = None               # (status, headers, body) sent, or "dropped"
        self.stored = []                 # the lines it had stored

    def param(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def precision(self):
        return self.param("precision")

    @property
    def database(self):
        return self.param("db", self.param("bucket"))

    @property
    def text(self):
        return "" if self.body is None else self.body.decode("utf-8", errors="replace")

    @property
    def lines(self):
        """The non-empty lines of the body (a trailing \\r removed)."""
        return [line.rstrip("\r") for line in self.text.split("\n") if line.strip()]

    @property
    def status(self):
        return self.answer[0] if isinstance(self.answer, tuple) else None

    def __repr__(self):
        return (f"<Request #{self.index} {self.method} {self.target} {len(self.raw)} bytes"
                f"{' ' + self.encoding if self.encoding else ''} -> {self.status or self.answer}>")


class Answer(NamedTuple):
    status: int
    headers: dict = {}
    body: bytes = b""
    store: Optional[list] = None   # lines to store; None: all on 2xx, none otherwise
    delay_s: float = 0.0           # wait this long before answering (stored already)
    drop: bool = False             # close the connection without an answer


def _as_answer(value):
    if value is None or isinstance(value, Answer):
        return value
    if isinstance(value, int):
        return Answer(value)
    status, headers, body = value
    return Answer(status, dict(headers or {}), body if isinstance(body, bytes) else str(body).encode())


def influx_error(status, message, extra_headers=None):
    """An answer as influxd 1.x gives an error: JSON {"error": message} and a
    newline, the message again in X-Influxdb-Error."""
    headers = {"Content-Type": "application/json", "X-Influxdb-Version": INFLUX_VERSION,
               "X-Influxdb-Build": "OSS", "X-Influxdb-Error": message.replace("\n", " ")}
    headers.update(extra_headers or {})
    body = json.dumps({"error": message}, ensure_ascii=False, separators=(",", ":")) + "\n"
    return Answer(status, headers, body.encode())


# ---------------------------------------------------------------- rules

def accept(status_code=204):
    """Writes (POST) stored whole and answered 204; GET /ping 204, GET
    /health 200 "OK", anything else 404."""
    def rule(request):
        if request.method == "POST":
            return Answer(status_code, {"X-Influxdb-Version": INFLUX_VERSION})
        if request.path == "/ping":
            return Answer(204, {"X-Influxdb-Version": INFLUX_VERSION})
        if request.path == "/health":
            return Answer(200, {"Content-Type": "text/plain"}, b"OK")
        return Answer(404, {"Content-Type": "text/plain"}, b"404 page not found\n")
    return rule


def _predicate(bad):
    if callable(bad):
        return bad
    return lambda line: bad in line


def influx_partial_write(bad, dropped=None, reason="invalid field format"):
    """InfluxDB 1.x refusing some lines of a write: the lines for which
    bad(line) is true (bad: a predicate, or a string such a line contains)
    are refused, the others stored (InfluxDB does store them).  Some good:
    400 {"error":"partial write: unable to parse '<line>': <reason>
    [\\nunable to parse ...] dropped=<n>"}, n = dropped if given, else the
    number of bad lines (influxd 1.6 itself says dropped=0 for lines it
    cannot parse: its count is of points it refused for their time).  All
    bad: 400 {"error":"unable to parse ..."}, no "partial write", no dropped
    (as influxd).  None bad: 204, all stored.  Not a POST: left to `then`."""
    is_bad = _predicate(bad)

    def rule(request):
        if request.method != "POST":
            return None
        lines = request.lines
        bad_lines = [line for line in lines if is_bad(line)]
        good = [line for line in lines if not is_bad(line)]
        if not bad_lines:
            return Answer(204, {"X-Influxdb-Version": INFLUX_VERSION})
        errors = "\n".join(f"unable to parse '{line}': {reason}" for line in bad_lines)
        if not good:
            return influx_error(400, errors)._replace(store=[])
        n = len(bad_lines) if dropped is None else dropped
        return influx_error(400, f"partial write: {errors} dropped={n}")._replace(store=good)
    return rule


def too_large(max_lines, status_code=413):
    """413 (nothing stored) for a write of more than max_lines lines;
    shorter ones are left to the next rule (None)."""
    def rule(request):
        if request.method == "POST" and len(request.lines) > max_lines:
            return influx_error(status_code, "http: request body too large")
        return None
    return rule


def busy_first(k, status_code=503, retry_after=1):
    """status_code (429 or 503) for the first k writes, with Retry-After:
    retry_after (seconds, or a string such as an HTTP date; None: no
    header); nothing stored; later writes left to the next rule (None)."""
    lock = threading.Lock()
    count = [0]

    def rule(request):
        if request.method != "POST":
            return None
        with lock:
            count[0] += 1
            if count[0] > k:
                return None
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        message = "too many requests" if status_code == 429 else "service unavailable"
        return influx_error(status_code, message, headers)
    return rule


def unauthorized():
    """401 to everything, as influxd 1.x with auth-enabled: without an
    Authorization header {"error":"unable to parse authentication
    credentials"}, with one {"error":"authorization failed"}."""
    def rule(request):
        if request.header("Authorization", "").startswith("Basic ") or request.param("u"):
            message = "authorization failed"
        else:
            message = "unable to parse authentication credentials"
        return influx_error(401, message, {"WWW-Authenticate": 'Basic realm="InfluxDB"'})
    return rule


def database_not_found(name=None):
    """404 {"error":"database not found: \\"NAME\\""} to every write; NAME
    defaults to the request's db (or bucket) parameter."""
    def rule(request):
        if request.method != "POST":
            return None
        db = name if name is not None else (request.database or "")
        return influx_error(404, f'database not found: "{db}"')
    return rule


def status(code, body=b"", headers=None, store=None):
    """Always this answer (store: as Answer.store)."""
    answer = Answer(code, dict(headers or {}), body if isinstance(body, bytes) else body.encode(), store)
    return lambda request: answer


def slow(seconds, rule=None):
    """rule's answer (default accept()), sent after `seconds`.  The lines
    are stored before the wait: a client that gives up meanwhile has had
    its point stored all the same (a lost answer)."""
    inner = rule or accept()

    def wrapped(request):
        answer = _as_answer(inner(request))
        return None if answer is None else answer._replace(delay_s=seconds)
    return wrapped


def drop_connection(after_s=0.0, store=False):
    """Close the connection without an answer (after after_s); with store,
    the lines are stored first (the write happened, the answer was lost)."""
    return lambda request: Answer(0, store=request.lines if store else [], delay_s=after_s, drop=True)


def chain(*rules):
    """The first answer of rules that is not None."""
    def rule(request):
        for r in rules:
            answer = r(request)
            if answer is not None:
                return answer
        return None
    return rule


# ---------------------------------------------------------------- the server

class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"    # keep-alive, as libcurl uses it
    server_version = "fake-store"
    sys_version = ""

    def log_message(self, fmt, *args):   # quiet; everything is recorded
        pass

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        received, received_mono = time.time(), time.monotonic()
        store = self.server.fake
        raw = self._read_body()
        answer, request = store._answer(self.command, self.path, self.headers, raw, received, received_mono,
                                        self.client_address)
        if answer.delay_s and store._stopping.wait(answer.delay_s):
            answer = answer._replace(drop=True)     # stopped meanwhile: no answer
        if answer.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.status not in (204, 304) and not 100 <= answer.status < 200:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if answer.body and answer.status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle


class _Server(http.server.ThreadingHTTPServer):
    """Keeps its open connections, so that stop() can close those a client
    keeps alive: a stopped store must not answer on them."""

    daemon_threads = True

    def __init__(self, address, fake):
        self.fake = fake
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # A client that goes away while it is answered (one that stops
        # reading at its bound) is the client's business, not a failure.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self):
        with self.connections_lock:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class FakeStore:
    """The store: start() (or `with`) listens on 127.0.0.1 (port 0: one the
    system picks; start() again after stop() reuses it), stop() ends it.
    See the module's text for script and then."""

    def __init__(self, script=None, then=None, port=0, tls=None):
        self.port = port
        self.tls = tls         # (certificate file, key file): https, or None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self.requests = []
        self.stored = {}       # (series, ts ns) -> the last line written for it
        self.history = []      # (key, line, request index), every time a line was stored
        self.set_script(script, then)

    # -- setup

    def set_script(self, script, then=None):
        """A new script (and then) from the next request on."""
        with self._lock:
            if isinstance(script, (list, tuple)):
                self._queue, self._callable = collections.deque(script), None
            else:
                self._queue, self._callable = None, script
            self._then = then or accept()

    def start(self):
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        if self.tls:
            # The handshake happens in accept(); one a client refuses is an
            # OSError there, which the server shrugs off.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-store",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening and close every connection, those kept alive
        included; answers being delayed are not sent.  What was recorded
        stays."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)
        self._server = self._thread = None

    close = stop

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def write_url(self, path="/write", **params):
        """url + path + query; default db=trygghet&precision=s."""
        params = {"db": "trygghet", "precision": "s", **params}
        return f"{self.url}{path}?{urllib.parse.urlencode(params)}"

    # -- answering (handler threads)

    def _answer(self, method, target, headers, raw, received, received_mono, client):
        with self._lock:
            request = Request(len(self.requests), method, target, headers, raw, received, received_mono, client)
            self.requests.append(request)
            if request.decode_error:
                # As influxd: the body cannot be read, nothing is stored.
                answer = influx_error(400, request.decode_error)
            else:
                answer = None
                if self._queue is not None:
                    if method == "POST" and self._queue:
                        entry = self._queue.popleft()
                        answer = _as_answer(entry(request) if callable(entry) else entry)
                elif self._callable is not None:
                    answer = _as_answer(self._callable(request))
                if answer is None:
                    answer = _as_answer(self._then(request))
                if answer is None:
                    answer = Answer(204)
                if answer.store is not None:
                    to_store = list(answer.store)
                elif 200 <= answer.status < 300 and method == "POST":
                    to_store = request.lines
                else:
                    to_store = []
                now_ns = int(received * 1e9)
                for line in to_store:
                    key = point_key(line, request.precision, now_ns)
                    self.stored[key] = line
                    self.history.append((key, line, request.index))
                request.stored = to_store
            request.answer = "dropped" if answer.drop else (answer.status, dict(answer.headers), answer.body)
            self._changed.notify_all()
        return answer, request

    # -- what tests read

    def snapshot(self):
        """(requests, stored, history) copied under the lock."""
        with self._lock:
            return list(self.requests), dict(self.stored), list(self.history)

    def writes(self):
        """The POST requests so far."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def wait_requests(self, n, timeout_s, method="POST"):
        """The first n requests of method (None: any) once there are that
        many (answered: a request is recorded with its answer); TimeoutError
        after timeout_s."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                got = [r for r in self.requests if method is None or r.method == method]
                if len(got) >= n:
                    return got[:n]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(got)} of {n} {method or ''} requests within {timeout_s} s")
                self._changed.wait(left)

    def stored_lines(self):
        """The stored lines, sorted by key."""
        with self._lock:
            return [self.stored[k] for k in sorted(self.stored, key=repr)]

    def times_stored(self):
        """{key: how many times a line for it was stored}; above 1: resent."""
        with self._lock:
            return dict(collections.Counter(key for key, _, _ in self.history))

    def duplicates(self):
        """{key: times} of the points stored more than once."""
        return {k: n for k, n in self.times_stored().items() if n > 1}


# ---------------------------------------------------------------- self-test

def _post(url, body, headers=None, timeout=5):
    """(status, headers, body) of a POST with urllib; HTTP errors too."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {what}")


def self_test():
    lines = ["footfall,district=a,gateway=g,sensor=s count=5i,coverage=1 1767225600",
             "footfall,district=a,gateway=g,sensor=s count=6i,coverage=1 1767225660"]
    body = "\n".join(lines).encode() + b"\n"

    print("accept (default): stored once per point, a resend replaces itself")
    with FakeStore() as store:
        st, _, _ = _post(store.write_url(), body)
        _check(st == 204, "204 to a write")
        st, _, _ = _post(store.write_url(), body)
        _check(st == 204 and len(store.stored) == 2, "the same two lines twice: 2 points stored")
        _check(len(store.history) == 4 and set(store.duplicates().values()) == {2},
               "history has all 4, duplicates() names both points (2 times each)")
        # Tags in another order and ms precision: the same point, replaced.
        st, _, _ = _post(store.write_url(precision="ms"),
                         b"footfall,sensor=s,gateway=g,district=a count=7i,coverage=1 1767225600000\n")
        key = ("footfall,district=a,gateway=g,sensor=s", 1767225600 * 10**9)
        _check(len(store.stored) == 2 and store.stored[key].endswith("1767225600000"),
               "tags reordered, precision=ms: same (series, ns) key, the last line kept")
        r = store.requests[0]
        _check(r.method == "POST" and r.path == "/write" and r.query == {"db": ["trygghet"], "precision": ["s"]}
               and r.header("content-type") == "application/x-www-form-urlencoded" and r.encoding is None
               and r.raw == body and r.lines == lines and r.answer[0] == 204 and r.time > 1e9,
               "request recorded: method, path, parsed query, headers, body, lines, answer, time")
        with urllib.request.urlopen(store.url + "/ping", timeout=5) as response:
            _check(response.status == 204, "GET /ping: 204")

    print("gzip bodies")
    with FakeStore() as store:
        st, _, _ = _post(store.write_url(), gzip.compress(body), {"Content-Encoding": "gzip"})
        r = store.requests[0]
        _check(st == 204 and r.encoding == "gzip" and r.body == body and r.raw[:2] == b"\x1f\x8b"
               and len(store.stored) == 2, "gzip body decoded, raw bytes and encoding kept, lines stored")
        st, _, answer = _post(store.write_url(), b"not gzip", {"Content-Encoding": "gzip"})
        _check(st == 400 and b"gzip" in answer and len(store.stored) == 2,
               "undecodable gzip: 400 (as influxd), nothing stored")

    print("influx_partial_write")
    with FakeStore(influx_partial_write("BAD")) as store:
        mixed = [lines[0], "footfall,district=a BAD=x 1767225720", lines[1], "BAD line"]
        st, hdrs, answer = _post(store.write_url(), "\n".join(mixed).encode())
        expected = {"error": "partial write: unable to parse 'footfall,district=a BAD=x 1767225720': "
                             "invalid field format\nunable to parse 'BAD line': invalid field format dropped=2"}
        _check(st == 400 and json.loads(answer) == expected, f"400 {json.dumps(expected, separators=(',', ':'))}")
        _check(hdrs["Content-Type"] == "application/json" and hdrs["X-Influxdb-Error"].startswith("partial write:"),
               "Content-Type application/json, X-Influxdb-Error")
        _check(sorted(store.stored.values()) == sorted(lines), "the two good lines stored")
        st, _, answer = _post(store.write_url(), b"BAD one\nBAD two\n")
        _check(st == 400 and json.loads(answer)["error"] == "unable to parse 'BAD one': invalid field format\n"
               "unable to parse 'BAD two': invalid field format" and len(store.stored) == 2,
               "all lines bad: 400 without 'partial write' or dropped, nothing stored (as influxd)")
        st, _, _ = _post(store.write_url(), b"m v=1 1767225600\n")
        _check(st == 204 and len(store.stored) == 3, "no bad line: 204, stored")
    with FakeStore(influx_partial_write(lambda line: line.startswith("bad"), dropped=0)) as store:
        st, _, answer = _post(store.write_url(), b"pw v=1 1767225600\nbad one\npw v=2 1767225660\nbad two\n")
        # influxd 1.6.7's answer to that body, byte for byte (measured).
        influxd = (b'{"error":"partial write: unable to parse \'bad one\': invalid field format\\n'
                   b'unable to parse \'bad two\': invalid field format dropped=0"}\n')
        _check(st == 400 and answer == influxd and len(store.stored) == 2,
               "a predicate, dropped=0: influxd 1.6's body byte for byte")

    print("too_large, busy_first, scripts as lists")
    with FakeStore(chain(too_large(2), accept())) as store:
        st, _, _ = _post(store.write_url(), b"m v=1 1\nm v=2 2\nm v=3 3\n")
        _check(st == 413 and not store.stored, "3 lines, limit 2: 413, nothing stored")
        st, _, _ = _post(store.write_url(), b"m v=1 1\nm v=2 2\n")
        _check(st == 204 and len(store.stored) == 2, "2 lines: 204, stored")
    with FakeStore(busy_first(2, 429, retry_after=3)) as store:
        answers = [_post(store.write_url(), b"m v=1 1\n") for _ in range(3)]
        _check([a[0] for a in answers] == [429, 429, 204] and answers[0][1]["Retry-After"] == "3",
               "busy_first(2, 429, 3): 429 Retry-After: 3, 429, then 204")
        _check(len(store.stored) == 1 and store.times_stored() == {("m", 10**9): 1},
               "stored only by the accepted write")
    with FakeStore([status(500), (503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, b""), 502]) as store:
        got = [_post(store.write_url(), b"m v=1 1\n") for _ in range(4)]
        _check([g[0] for g in got] == [500, 503, 502, 204]
               and got[1][1]["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT",
               "a list: one entry per write (rule, tuple, bare status), then accept()")
        with urllib.request.urlopen(store.url + "/ping", timeout=5) as response:
            _check(response.status == 204 and len(store.writes()) == 4, "a GET takes no entry of the list")

    print("unauthorized, database_not_found, a callable")
    with FakeStore(unauthorized()) as store:
        st, hdrs, answer = _post(store.write_url(), b"m v=1 1\n")
        _check(st == 401 and json.loads(answer) == {"error": "unable to parse authentication credentials"}
               and hdrs["WWW-Authenticate"] == 'Basic realm="InfluxDB"', "401, no credentials")
        st, _, answer = _post(store.write_url(), b"m v=1 1\n", {"Authorization": "Basic dTpw"})
        _check(st == 401 and json.loads(answer) == {"error": "authorization failed"} and not store.stored,
               "401, wrong credentials; nothing stored")
    with FakeStore(database_not_found()) as store:
        st, _, answer = _post(store.write_url(db="x"), b"m v=1 1\n")
        _check(st == 404 and answer == b'{"error":"database not found: \\"x\\""}\n',
               '404 {"error":"database not found: \\"x\\""} (influxd\'s bytes)')
    with FakeStore(lambda r: (202, {"X-Seen": str(r.index)}, b"") if r.param("db") == "a" else None) as store:
        a = _post(store.write_url(db="a"), b"m v=1 1\n")
        b = _post(store.write_url(db="b"), b"m v=2 2\n")
        _check(a[0] == 202 and a[1]["X-Seen"] == "0" and b[0] == 204 and len(store.stored) == 2,
               "a callable: its answer, or None for `then`; 2xx stores")

    print("slow answers, dropped connections, restart on the same port")
    with FakeStore(slow(1.0)) as store:
        t0 = time.monotonic()
        try:
            _post(store.write_url(), b"m v=1 1\n", timeout=0.3)
            timed_out = False
        except (TimeoutError, urllib.error.URLError, socket.timeout):
            timed_out = True
        _check(timed_out and time.monotonic() - t0 < 0.9 and len(store.stored) == 1,
               "slow(1): the client's 0.3 s timeout hits, the point is stored all the same")
        st, _, _ = _post(store.write_url(), b"m v=2 2\n", timeout=3)
        _check(st == 204 and time.monotonic() - t0 >= 1.0, "slow(1): the answer comes after a second")
    with FakeStore([drop_connection(), drop_connection(store=True)]) as store:
        outcomes = []
        for body in (b"m v=1 1\n", b"m v=2 2\n"):
            try:
                _post(store.write_url(), body)
                outcomes.append("answered")
            except (http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError):
                outcomes.append("dropped")
        _check(outcomes == ["dropped", "dropped"] and store.requests[0].answer == "dropped"
               and list(store.stored.values()) == ["m v=2 2"],
               "drop_connection: no answer, nothing stored; with store=True the line is stored (a lost answer)")
        st, _, _ = _post(store.write_url(), b"m v=1 1\n")
        _check(st == 204, "the next write is accepted")
    store = FakeStore().start()
    port = store.port
    _post(store.write_url(), b"m v=1 1\n")
    store.stop()
    try:
        _post(store.write_url(), b"m v=1 1\n", timeout=2)
        refused = False
    except urllib.error.URLError:
        refused = True
    store.start()
    st, _, _ = _post(store.write_url(), b"m v=2 2\n")
    store.stop()
    _check(refused and store.port == port and st == 204 and len(store.requests) == 2 and len(store.stored) == 2,
           "stop: refused; start again: same port, records kept")

    print("HTTP/1.1: keep-alive, chunked bodies")
    with FakeStore() as store:
        conn = http.client.HTTPConnection("127.0.0.1", store.port, timeout=5)
        for i in range(3):
            conn.request("POST", "/api/v2/write?bucket=b&org=o&precision=s", body=f"m v={i} {i}\n".encode())
            response = conn.getresponse()
            response.read()
            _check(response.status == 204, f"write {i + 1} on one connection")
        conn.request("POST", "/write?db=trygghet&precision=s", body=iter([b"m v=7 7\n", b"m v=8 8\n"]),
                     encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
        response = conn.getresponse()
        response.read()
        conn.close()
        _check(response.status == 204 and store.requests[-1].lines == ["m v=7 7", "m v=8 8"]
               and store.requests[0].database == "b", "a chunked body read whole; bucket as database")
        _check(len({r.client for r in store.requests}) == 1 and len(store.stored) == 5,
               "all four on one connection (one client port); 5 points stored")
        conn = http.client.HTTPConnection("127.0.0.1", store.port, timeout=5)
        conn.request("POST", "/write?db=trygghet&precision=s", body=b"m v=9 9\n")
        conn.getresponse().read()
        store.stop()
        try:
            conn.request("POST", "/write?db=trygghet&precision=s", body=b"m v=10 10\n")
            conn.getresponse().read()
            answered = True
        except (http.client.HTTPException, ConnectionError):
            answered = False
        conn.close()
        _check(not answered and len(store.requests) == 5, "stop() closes a kept-alive connection too")

    print("line splitting")
    _check(point_key(r'my\ m,b=x\ y,a=1 f="a b c",g=1i 1700000000', "s")
           == (r"my\ m,a=1,b=x\ y", 1700000000 * 10**9), "escaped spaces, a quoted field with spaces")
    _check(point_key("m v=1", now_ns=5) == ("m", 5) and point_key("garbage") == ("garbage", None),
           "no timestamp: the server's clock; no field set: (line, None)")
    print("fake_store self-test: all passed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(__doc__)
