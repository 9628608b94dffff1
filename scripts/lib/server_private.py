"""A store of a test's own (start_influxd(), start_victoria()): started,
stopped, killed, paused and started again on the same port and data, an
outage the shared servers of `servers.py start` must never have.

Python 3.11 standard library only (Debian 12).
"""

import os
import signal
import subprocess
import time
import urllib.parse

from server_base import (DATABASE, START_TIMEOUT_S, STOP_TIMEOUT_S, VICTORIA_RETENTION, ServerError,
                         _influx_pings, _influxd_env, _log_tail, _spawn, _victoria_answers, _victoria_argv,
                         _write_influxd_conf, find_program, free_port)
from server_queries import influx_query, quote_ident

class _Private:
    """One server a test starts, stops (SIGTERM), kills (SIGKILL), pauses
    (SIGSTOP: connections are accepted, nothing is answered) and starts
    again on the same port and the same data: an outage of the store, which
    the shared one of `start` must never have.  Its output is appended to
    a log file in its folder.  close() (or leaving a `with`) stops it; the
    folder is left for a post-mortem."""

    name = "server"

    def __init__(self, directory, port):
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.port = port or free_port()
        self.proc = None
        self.starts = 0
        self.log = os.path.join(self.directory, f"{self.name}.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _argv(self):
        raise NotImplementedError

    def _env(self):
        return None

    def _answers(self):
        raise NotImplementedError

    def _ready(self):
        """Once it answers, before start() returns."""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s=START_TIMEOUT_S):
        """Start and wait until it answers; time.monotonic() at that moment
        (the store is "back").  ServerError when it exits or stays silent
        (it is stopped then), say because the port was taken meanwhile."""
        if self.running():
            raise ServerError(f"{self.name} on port {self.port} is running already")
        self.proc = _spawn(self._argv(), self.log, env=self._env())
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with status {self.proc.returncode}; "
                                  f"{self.log}:\n{_log_tail(self.log)}")
            if self._answers():
                break
            if time.monotonic() > deadline:
                self.kill()
                raise ServerError(f"{self.name} did not answer on port {self.port} within "
                                  f"{timeout_s:.0f} s; {self.log}:\n{_log_tail(self.log)}")
            time.sleep(0.02)
        back = time.monotonic()
        try:
            self._ready()
        except ServerError:
            self.kill()
            raise
        return back

    def stop(self, timeout_s=STOP_TIMEOUT_S):
        """SIGTERM (after SIGCONT, should it be paused) and wait: it shuts
        down cleanly, keeping all it acknowledged.  SIGKILL after timeout_s.
        The exit status (None when it had to be killed or was not running)."""
        if not self.running():
            return None
        self.resume()
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        """SIGKILL: a crash.  What it had not yet written out is lost."""
        if self.running():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def pause(self):
        """SIGSTOP: the port still accepts connections, nothing answers."""
        if self.running():
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        if self.running():
            self.proc.send_signal(signal.SIGCONT)

    def close(self):
        self.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "running" if self.running() else "stopped"
        return f"<{type(self).__name__} {self.url} {state}, {self.directory}>"


class Victoria(_Private):
    """A VictoriaMetrics of a test's own: data in DIR/data, log in
    DIR/victoria-metrics.log.  retention, dedup: see _victoria_argv();
    args: more command-line flags.  The vm_* helpers take it as server.
    kill() loses what it acknowledged in about the last ten seconds (1.79.5
    keeps recent samples in memory; /internal/force_flush makes them
    searchable, not durable): an outage test that must find every point
    afterwards uses stop(), or waits that long before kill()."""

    name = "victoria-metrics"

    def __init__(self, directory, port=None, retention=VICTORIA_RETENTION, dedup=None, args=()):
        super().__init__(directory, port)
        self.data = os.path.join(self.directory, "data")
        self.retention = retention
        self.dedup = dedup
        self.args = tuple(args)

    def _argv(self):
        return _victoria_argv(self.data, self.port, self.retention, self.dedup, self.args)

    def _answers(self):
        return _victoria_answers(self.port, self.data)

    def write_url(self, db=DATABASE, precision="s"):
        return f"{self.url}/write?" + urllib.parse.urlencode({"db": db, "precision": precision})


class Influxd(_Private):
    """An influxd 1.6 of a test's own: configuration DIR/influxdb.conf,
    data under DIR/influxdb, log DIR/influxd.log, the database `trygghet`
    created at each start (kept across restarts).  The influx_* helpers
    take it as server."""

    name = "influxd"

    def __init__(self, directory, port=None, rpc_port=None):
        super().__init__(directory, port)
        self.rpc_port = rpc_port or free_port()
        while self.rpc_port == self.port:
            self.rpc_port = free_port()
        self.conf = _write_influxd_conf(self.directory, self.port, self.rpc_port)

    def _argv(self):
        return [find_program("influxd"), "run", "-config", self.conf]

    def _env(self):
        return _influxd_env()

    def _answers(self):
        return _influx_pings(self.port)

    def _ready(self):
        influx_query(self.port, f"CREATE DATABASE {quote_ident(DATABASE)}", db=None,
                     epoch=None, post=True)

    def write_url(self, db=DATABASE, precision="s"):
        return f"{self.url}/write?" + urllib.parse.urlencode({"db": db, "precision": precision})


def start_victoria(directory, port=None, retention=VICTORIA_RETENTION, dedup=None, args=()):
    """A Victoria in DIR (created when missing), started and answering.
    Stop it with .stop() / .close() or a `with` block."""
    server = Victoria(directory, port, retention, dedup, args)
    server.start()
    return server


def start_influxd(directory, port=None):
    """An Influxd in DIR (created when missing), started and answering, the
    database created.  Stop it with .stop() / .close() or a `with` block."""
    server = Influxd(directory, port)
    server.start()
    return server
