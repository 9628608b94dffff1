"""Asking the test stores: InfluxQL against influxd, export and metrics of
VictoriaMetrics.  A server is named by what `servers.py start` wrote
(servers.json's dict or its folder), a port, a URL, or a private server of
server_private.py (anything with .port, or .url for VictoriaMetrics).

Python 3.11 standard library only (Debian 12).
"""

import json
import os
import urllib.error
import urllib.parse

from server_base import DATABASE, EXPORT_END_S, STATE_FILE, ServerError, _http

# ---------------------------------------------------------------- queries

def load(directory):
    """What `start` wrote to DIR/servers.json."""
    with open(os.path.join(directory, STATE_FILE), encoding="utf-8") as f:
        return json.load(f)


def _port(server):
    # Accept servers.json's dict, a port number, a servers directory or an
    # Influxd of start_influxd().
    if isinstance(server, dict):
        return server["influx_port"]
    if isinstance(server, int):
        return server
    if isinstance(server, (str, os.PathLike)):
        return load(server)["influx_port"]
    return server.port   # an Influxd of server_private.py


def influx_query(server, q, db=DATABASE, epoch="s", post=False, timeout_s=30.0):
    """Run InfluxQL q and return the decoded JSON answer (its "results").
    server: servers.json's dict, the influx port, or the servers directory.
    Raises ServerError for an HTTP error or an error in any statement."""
    params = {"q": q}
    if db:
        params["db"] = db
    if epoch:
        params["epoch"] = epoch
    url = f"http://127.0.0.1:{_port(server)}/query"
    body = urllib.parse.urlencode(params)
    try:
        if post:
            status, raw = _http(url, data=body.encode(), timeout_s=timeout_s)
        else:
            status, raw = _http(f"{url}?{body}", timeout_s=timeout_s)
    except (OSError, urllib.error.URLError) as e:
        raise ServerError(f"influx query {q!r}: {e}") from e
    try:
        answer = json.loads(raw.decode("utf-8"))
    except ValueError as e:
        raise ServerError(f"influx query {q!r}: HTTP {status}, not JSON: {raw[:200]!r}") from e
    if status != 200 or "error" in answer:
        raise ServerError(f"influx query {q!r}: HTTP {status}: {answer.get('error')}")
    for result in answer.get("results", []):
        if "error" in result:
            raise ServerError(f"influx query {q!r}: {result['error']}")
    return answer["results"]


def influx_series(server, q, db=DATABASE, epoch="s"):
    """The series of a one-statement query, each as
    {"name": measurement, "tags": {...}, "rows": [{column: value}, ...]}."""
    out = []
    for result in influx_query(server, q, db=db, epoch=epoch):
        for series in result.get("series", []):
            columns = series["columns"]
            out.append({
                "name": series.get("name"),
                "tags": series.get("tags", {}),
                "rows": [dict(zip(columns, values)) for values in series.get("values", [])],
            })
    return out


def influx_count(server, measurement, where="", db=DATABASE):
    """Points of a measurement (counted on the `coverage` field every point
    carries), optionally restricted by an InfluxQL WHERE clause."""
    q = f'SELECT count("coverage") FROM {quote_ident(measurement)}'
    if where:
        q += f" WHERE {where}"
    total = 0
    for series in influx_series(server, q, db=db):
        for row in series["rows"]:
            total += row.get("count") or 0
    return total


def quote_ident(name):
    """An InfluxQL identifier in double quotes."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_string(text):
    """An InfluxQL string literal in single quotes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _vm_url(server):
    # Accept servers.json's dict, a servers directory, a port number, a URL
    # or a Victoria of start_victoria().
    if isinstance(server, dict):
        return server["victoria_url"]
    if isinstance(server, int):
        return f"http://127.0.0.1:{server}"
    if isinstance(server, str) and server.startswith(("http://", "https://")):
        return server.rstrip("/")
    if isinstance(server, (str, os.PathLike)):
        return load(server)["victoria_url"]
    return server.url   # a Victoria of server_private.py


def _vm_time(t):
    # Seconds (int or float) or a string VictoriaMetrics reads as is
    # (RFC 3339, or a number with a unit).
    return t if isinstance(t, str) else f"{t:.3f}".rstrip("0").rstrip(".")


def _vm_get(server, path, params=(), timeout_s=30.0):
    url = f"{_vm_url(server)}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        status, raw = _http(url, timeout_s=timeout_s)
    except (OSError, urllib.error.URLError) as e:
        raise ServerError(f"victoria-metrics GET {path}: {e}") from e
    if status != 200:
        raise ServerError(f"victoria-metrics GET {path}: HTTP {status}: "
                          f"{raw[:300].decode('utf-8', errors='replace')}")
    return raw


def vm_export(server, match, start=None, end=None):
    """The decoded lines of GET /api/v1/export?match[]=...: one dict per
    series, {"metric": {"__name__": ..., label: value}, "values": [...],
    "timestamps": [ms, ...]}, samples in time order (a sample written twice
    shows twice unless the server deduplicates).
    server: servers.json's dict, the servers directory, a port, a URL or a
    Victoria.  match: a series selector ('footfall_count{gateway="g"}',
    '{__name__=~"footfall_.*"}') or a list of them.  start, end: seconds
    since the epoch or a string VictoriaMetrics reads (RFC 3339); both ends
    included; end defaults to 2100, not VictoriaMetrics' own "now", which
    would leave out the points dated up to two days ahead that it accepts.
    Points written in the last seconds may be missing: vm_flush() first."""
    params = [("match[]", m) for m in ([match] if isinstance(match, str) else match)]
    if start is not None:
        params.append(("start", _vm_time(start)))
    params.append(("end", _vm_time(EXPORT_END_S if end is None else end)))
    raw = _vm_get(server, "/api/v1/export", params)
    try:
        return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    except ValueError as e:
        raise ServerError(f"victoria-metrics export {match!r}: not JSON lines: {raw[:200]!r}") from e


def vm_samples(server, match, start=None, end=None):
    """vm_export() flattened: [(labels dict with __name__, timestamp in
    seconds (float), value)], sorted by name, labels and time."""
    out = []
    for series in vm_export(server, match, start, end):
        for ts, value in zip(series["timestamps"], series["values"]):
            out.append((series["metric"], ts / 1000.0, value))
    out.sort(key=lambda s: (sorted(s[0].items()), s[1]))
    return out


def vm_flush(server):
    """GET /internal/force_flush: what was written (answered 204) before
    this call shows in vm_export() at once, instead of within about a
    second (new samples of a known series) or ten (a new series)."""
    _vm_get(server, "/internal/force_flush")


VM_DROP_COUNTERS = ('vm_rows_inserted_total{type="influx"}', 'vm_rows_invalid_total{type="influx"}',
                    "vm_rows_ignored_total", "vm_rows_added_to_storage_total")


def vm_counters(server, prefixes=VM_DROP_COUNTERS):
    """The server's own metrics (GET /metrics) whose line starts with one of
    prefixes (a string or a tuple), as {'name{labels}': value}.  The default
    is what a 204 can hide: lines parsed (vm_rows_inserted_total{type=
    "influx"}, one per field), malformed lines skipped (vm_rows_invalid_total
    {type="influx"}), samples dropped for their date (vm_rows_ignored_total
    {reason="small_timestamp"}: older than the retention; "big_timestamp":
    more than two days ahead of the clock) and samples stored
    (vm_rows_added_to_storage_total)."""
    out = {}
    for line in _vm_get(server, "/metrics").decode("utf-8", errors="replace").splitlines():
        if line.startswith(prefixes):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out
