#!/usr/bin/env python3
"""A state_dir on a full file system: a message that cannot be kept is
never sent, its sequence number goes to the next reading, and no number is
used twice.

    test_full_state_dir.py TRYGGD SOURCE_DIR SERVERS_DIR

state_dir is on a small tmpfs of its own (mounted here, always unmounted at
the end; this needs root, and without it the test says SKIP and passes).
A file fills the tmpfs so that tryggd's database can grow only a little.

  1. The disk fills up during the run and stays full to its end: the first
     readings are published, then the MQTT buffer (mqtt-buffer.db, which
     holds each message with its reading's sequence number) cannot keep
     them; the log has one warning for the whole episode, not one per
     message, and says at the stop how many could not be kept.
  2. Space is freed and tryggd restarted on the same state_dir; part way
     through the run the disk is filled again, then freed again while tryggd
     runs: one warning when keeping starts failing, one info line when it
     works again, with how many could not be kept meanwhile.

  3. The store path (no [mqtt]; [influx] at a scripted store, fake_store.py,
     that takes 0.2 s to answer, so a batch is on its way when the disk
     fills): a state_dir of its own, the disk full from the start but for
     a little room, freed after a few seconds.  The spool's database
     refuses to remove the points the store took: one error for the
     episode, not one per batch or retry, and one info line once it
     removes again, with how many times it failed.  Every window's points
     reach the store, each once.

In each run the log stays short (at most LOG_LINES_MAX lines, no message
more than SAME_LINE_MAX times), however many messages the disk refused.

Across runs 1 and 2, as an independent subscriber sees them: seq starts at
1 and rises by 1 from one reading message to the next, so no number
published before the restart is published again after it; a gap is allowed
only where tryggd counted a kept message as lost to the disk.

Exit 0 when all hold, 1 with the list of what did not.
"""

import errno
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

# Beside this file.
import capture
from capture import Problems, load_servers, read_messages, start_subscriber, stop_process, wait_for_marker
from fake_store import FakeStore, slow

TMPFS_SIZE = "16m"
# Room left for the databases when run 1 starts: their tables and the
# first turns of readings (at speed 0 a turn of the loop keeps up to about
# a thousand messages, committed together).
ROOM_AT_START = 512 * 1024
RUN_1 = ("2026-11-02T07:00:00Z", "2026-11-02T07:20:00Z", 0)     # as fast as it goes
RUN_2 = ("2026-11-02T07:20:00Z", "2026-11-02T07:40:00Z", 120)   # 10 s of real time
RUN_2_START = "2026-11-02T07:20:00"
# Run 3: 1 s windows at speed 120, 120 window closes a second, each a
# spool transaction; 10 s of real time, the disk full for the first 4.
RUN_3 = ("2026-11-02T07:40:00Z", "2026-11-02T08:00:00Z", 120)
RUN_3_WINDOW_S = 1
RUN_3_FULL_S = 4
STORE_ANSWER_S = 0.2

# The two ways the disk shows in the log, each said once per episode: a
# message the buffer cannot take (an append refused), and a turn's commit
# refused (what it kept is lost, counted).
WARNING = re.compile(r"warning: mqtt: cannot keep a message for |error: mqtt: cannot write the buffer to disk")
RECOVERED = re.compile(r"messages can be kept for the broker again; (\d+) could not be meanwhile|"
                       r"the buffer can be written to disk again; (\d+) messages were lost meanwhile")
UNKEPT_AT_STOP = re.compile(r"(\d+) messages could not be kept for the broker")
LOST_AT_STOP = re.compile(r"stopped: .* (\d+) lost to the disk")
# The state database's copy of the number (the floor after a broken
# buffer) fails on the same full disk: at most once per episode.
FLOOR = re.compile(r"cannot record the reading sequence number \d+ in .* too")


def write_config(path, state_dir, source, info, gateway_id, prefix, run):
    start, end, speed = run
    capture.write_config(path, [
        ("gateway", [f"id = {gateway_id}", "district = Årby", "window = 60", f"state_dir = {state_dir}"]),
        ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", f"start = {start}",
                        f"end = {end}", f"speed = {speed}", "drain_timeout = 10"]),
        ("mqtt", [f"uri = tcp://127.0.0.1:{info['mqtt_port']}", f"topic_prefix = {prefix}"]),
        *capture.sim_sensors(capture.SKY_AND_DOOR),
    ])

def free_bytes(directory):
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize


def fill(path, leave):
    """Grow the file at path until at most `leave` bytes are free on its
    file system (leave = 0: until the file system refuses another byte)."""
    directory = os.path.dirname(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        chunk = b"\0" * 65536
        while True:
            want = free_bytes(directory) - leave
            if want <= 0:
                break
            try:
                os.write(fd, chunk[:min(len(chunk), want)])
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if leave > 0 or len(chunk) == 1:
                    break
                chunk = chunk[:max(1, len(chunk) // 16)]
    finally:
        os.close(fd)


def log_lines(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", errors="replace").splitlines()


def wait_for_line(path, pattern, proc, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(pattern.search(line) for line in log_lines(path)):
            return True
        if proc.poll() is not None:
            return any(pattern.search(line) for line in log_lines(path))
        time.sleep(0.02)
    return False


# However long the disk stays full, the log says so in a handful of lines:
# one per kind of refusal and its recovery, the start and the stop.  A line
# per message or per answer of the broker would be thousands.
LOG_LINES_MAX = 40
# No one message (its numbers aside) more often than this in a run.
SAME_LINE_MAX = 3


def check_log(path, problems, run, recovered):
    lines = log_lines(path)
    check_short(lines, problems, run)
    warnings = [line for line in lines if WARNING.search(line)]
    floor = [line for line in lines if FLOOR.search(line)]
    recoveries = [RECOVERED.search(line) for line in lines if RECOVERED.search(line)]
    unkept = [int(m.group(1)) for m in map(UNKEPT_AT_STOP.search, lines) if m]
    lost = [int(m.group(1)) for m in map(LOST_AT_STOP.search, lines) if m]
    problems.expect(1 <= len(warnings) <= 2, f"run {run}: one line per kind of refusal for the episode, "
                    f"not one per message ({len(warnings)})", "\n".join(warnings[:5]))
    problems.expect(len(floor) <= 1, f"run {run}: at most one line about the state database's copy of seq "
                    f"({len(floor)})", "\n".join(floor[:3]))
    not_sent = sum(unkept) + sum(lost)
    # Run 1 may lose nothing: its whole run can fit in the room left, and
    # then only the broker's answers cannot be recorded (sent again).
    problems.expect(len(lost) == 1 and (not_sent > 0 or not recovered),
                    f"run {run}: the stop says how many messages could not be kept or were lost ({not_sent})")
    if recovered:
        counts = [int(m.group(1) or m.group(2)) for m in recoveries]
        problems.expect(1 <= len(recoveries) <= len(warnings),
                        f"run {run}: one info line per refusal when the disk takes writes again ({len(recoveries)})")
        problems.expect(0 < sum(counts) == not_sent,
                        f"run {run}: they count what could not be kept or was lost meanwhile ({sum(counts)})",
                        f"{counts} there, {not_sent} at the stop")
        problems.expect(not any("still refused" in line for line in lines),
                        f"run {run}: the stop does not say it still fails")
    else:
        # A nearly full disk takes a small commit now and then (the
        # broker's answers), so a recovery may be said; never more often
        # than a refusal.
        problems.expect(len(recoveries) <= len(warnings), f"run {run}: no more recoveries said than refusals",
                        "\n".join(m.group(0) for m in recoveries[:3]))
    return not_sent


def run_tryggd(tryggd, config, log_path):
    log = open(log_path, "wb")
    proc = subprocess.Popen([tryggd, "-c", config], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    log.close()
    return proc


def finish(proc, problems, run, may_keep=False):
    """may_keep: the disk is still full at the end, so the broker's answers
    cannot be recorded, and tryggd may stop with messages kept for the next
    run (EX_TEMPFAIL, 75) once drain_timeout is over."""
    try:
        status = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = None
    allowed = (0, 75) if may_keep else (0,)
    problems.expect(status in allowed, f"run {run} exits {' or '.join(map(str, allowed))}", f"status {status}")


# Run 3: the store's side of the spool, said once an episode.
REMOVE_FAILED = re.compile(r"error: store: the spool cannot remove \d+ stored points")
REMOVE_RECOVERED = re.compile(r"store: the spool removes stored points again, after (\d+) failures?$")
SPOOL_OTHER = re.compile(r"store: (cannot read the spool|cannot set a refused point aside)")


def store_run(tryggd, source, work, mount_point, problems):
    """Run 3 (see the top)."""
    print("run 3: the store path, the disk full from the start, then freed")
    state_dir = os.path.join(mount_point, "state-store")
    filler = os.path.join(mount_point, "filler")
    log_path = os.path.join(work, "run-3.log")
    start, end, speed = RUN_3
    with FakeStore(slow(STORE_ANSWER_S)) as store:
        config = os.path.join(work, "run-3.conf")
        capture.write_config(config, [
            ("gateway", ["id = full-store", "district = Årby", f"window = {RUN_3_WINDOW_S}",
                         f"state_dir = {state_dir}"]),
            ("simulation", [f"profiles = {os.path.join(source, 'seeds', 'districts.ini')}", f"start = {start}",
                            f"end = {end}", f"speed = {speed}", "drain_timeout = 10"]),
            ("influx", [f"url = {store.url}", "flush_interval = 0"]),
            *capture.sim_sensors(capture.SKY_AND_DOOR),
        ])
        fill(filler, ROOM_AT_START)
        print(f"  {free_bytes(mount_point) // 1024} KiB free at the start")
        proc = run_tryggd(tryggd, config, log_path)
        try:
            failing = wait_for_line(log_path, REMOVE_FAILED, proc, RUN_3_FULL_S)
            problems.expect(failing, "run 3: the spool cannot remove what the store took while the disk is full")
            time.sleep(max(0.0, RUN_3_FULL_S - 1))
            os.unlink(filler)
            finish(proc, problems, 3)
        finally:
            if proc.poll() is None:
                proc.kill()
        stored, duplicates = store.stored, store.duplicates()

    lines = log_lines(log_path)
    check_short(lines, problems, 3)
    failed = [line for line in lines if REMOVE_FAILED.search(line)]
    recovered = [m for m in map(REMOVE_RECOVERED.search, lines) if m]
    problems.expect(len(failed) == 1, f"run 3: one error for the episode, not one per batch or retry ({len(failed)})",
                    "\n".join(failed[:5]))
    problems.expect(len(recovered) == 1 and int(recovered[0].group(1)) >= 1,
                    "run 3: one info line when removing works again, with how many times it failed",
                    "\n".join(m.group(0) for m in recovered[:3]) or "(none)")
    if failed and recovered:
        problems.expect(lines.index(failed[0]) < lines.index(recovered[0].string),
                        "run 3: the recovery is said after the failure")
    other = [line for line in lines if SPOOL_OTHER.search(line)]
    problems.expect(len(other) <= 2, "run 3: reading the spool and setting points aside: at most once each",
                    "\n".join(other[:5]))
    # Three points a window (sky, door and the gateway's), each once.
    windows = (capture.parse_iso(end) - capture.parse_iso(start)) // 1000 // RUN_3_WINDOW_S
    problems.expect(len(stored) == 3 * windows and not duplicates,
                    f"run 3: every window's points reach the store, each once ({3 * windows})",
                    f"{len(stored)} stored, {len(duplicates)} more than once")


def check_short(lines, problems, run):
    """At most LOG_LINES_MAX lines, none more than SAME_LINE_MAX times."""
    shapes = {}
    for line in lines:
        shape = re.sub(r"\d+", "N", line.split(" tryggd: ", 1)[-1])
        shapes[shape] = shapes.get(shape, 0) + 1
    repeated = sorted(((count, shape) for shape, count in shapes.items() if count > SAME_LINE_MAX), reverse=True)
    problems.expect(len(lines) <= LOG_LINES_MAX, f"run {run}: at most {LOG_LINES_MAX} log lines ({len(lines)})",
                    "\n".join(lines[:10]))
    problems.expect(not repeated, f"run {run}: no message more than {SAME_LINE_MAX} times",
                    "\n".join(f"{count}x {shape}" for count, shape in repeated[:5]))


def runs(servers, info, tryggd, source, work, mount_point, problems):
    token = uuid.uuid4().hex[:8]
    gateway_id, prefix = f"full-{token}", f"tryggtest-{token}"
    state_dir = os.path.join(mount_point, "state")
    filler = os.path.join(mount_point, "filler")
    capture = os.path.join(work, "mqtt.txt")
    subscriber = start_subscriber(servers, info, prefix, capture)
    try:
        print("run 1: the disk fills up and stays full")
        fill(filler, ROOM_AT_START)
        print(f"  {free_bytes(mount_point) // 1024} KiB free at the start")
        config = os.path.join(work, "run-1.conf")
        write_config(config, state_dir, source, info, gateway_id, prefix, RUN_1)
        proc = run_tryggd(tryggd, config, os.path.join(work, "run-1.log"))
        try:
            finish(proc, problems, 1, may_keep=True)
        finally:
            if proc.poll() is None:
                proc.kill()
        wait_for_marker(servers, info, subscriber, capture, f"{prefix}/_test/run1", "run 1", 15)
        check_log(os.path.join(work, "run-1.log"), problems, 1, recovered=False)

        print("run 2: space freed and tryggd restarted; the disk fills and frees again while it runs")
        os.unlink(filler)
        config = os.path.join(work, "run-2.conf")
        log_path = os.path.join(work, "run-2.log")
        write_config(config, state_dir, source, info, gateway_id, prefix, RUN_2)
        proc = run_tryggd(tryggd, config, log_path)
        try:
            time.sleep(1.5)
            fill(filler, 0)
            failing = wait_for_line(log_path, WARNING, proc, 6)
            problems.expect(failing and proc.poll() is None, "run 2: keeping fails once the disk is full")
            time.sleep(1.5)
            os.unlink(filler)
            recovered = wait_for_line(log_path, RECOVERED, proc, 6)
            problems.expect(recovered, "run 2: keeping works again once space is freed")
            finish(proc, problems, 2)
        finally:
            if proc.poll() is None:
                proc.kill()
        wait_for_marker(servers, info, subscriber, capture, f"{prefix}/_test/run2", "run 2", 15)
        check_log(log_path, problems, 2, recovered=True)
    finally:
        stop_process(subscriber)

    # A number is reused when two different readings carry it.  The same
    # reading delivered twice (QoS 1 is at least once) is one message.
    first, second, reading_of, reused, again = [], [], {}, [], 0
    for _, topic, payload in read_messages(capture, prefix, problems):
        if topic.endswith("/reading"):
            reading = json.loads(payload)
            seq, which = reading["seq"], (reading["sensor"], reading["ts"])
            if seq in reading_of:
                if reading_of[seq] == which:
                    again += 1
                else:
                    reused.append(seq)
                continue
            reading_of[seq] = which
            (second if reading["ts"] >= RUN_2_START else first).append(seq)
    if not problems.expect(first and second, "readings published in both runs", f"{len(first)} and {len(second)}"):
        return
    print(f"  run 1: seq {first[0]}..{first[-1]} ({len(first)} readings); "
          f"run 2: seq {second[0]}..{second[-1]} ({len(second)} readings)"
          + (f"; {again} delivered twice" if again else ""))
    problems.expect(first[0] == 1, "a new state_dir starts at seq 1", f"{first[0]}")
    problems.expect(not reused, "no seq published before the restart is published again after it",
                    f"{len(reused)} reused, first {reused[:5]}")
    # A message the MQTT buffer had kept, then lost when the full disk
    # refused to write it, leaves a gap: that is what gaps are for.  Every
    # missing number must be one of those tryggd counted at its stops.
    lost = 0
    for run in (1, 2):
        with open(os.path.join(work, f"run-{run}.log"), errors="replace") as f:
            lost += sum(int(n) for n in re.findall(r"(\d+) lost to the disk", f.read()))
    both = first + second
    breaks = [(a, b) for a, b in zip(both, both[1:]) if b != a + 1]
    missing = sum(b - a - 1 for a, b in breaks)
    print(f"  {missing} numbers missing, in {len(breaks)} gaps; tryggd counted {lost} messages lost to the disk")
    problems.expect(all(b > a for a, b in breaks), "seq never goes back", f"first breaks: {breaks[:3]}")
    problems.expect(missing <= lost, "every missing seq is a message tryggd counted as lost to the full disk",
                    f"{missing} missing, {lost} counted; first breaks: {breaks[:3]}")


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} TRYGGD SOURCE_DIR SERVERS_DIR")
    if os.geteuid() != 0:
        print("SKIP: test_full_state_dir needs root to mount a tmpfs; not run")
        return 0
    tryggd, source, servers_dir, servers, info = load_servers(argv)
    work = tempfile.mkdtemp(prefix="full_state_dir-", dir=os.path.dirname(servers_dir))
    mount_point = os.path.join(work, "fs")
    os.mkdir(mount_point)
    problems = Problems()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", mount_point],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print(f"FAIL: cannot mount a tmpfs on {mount_point}: {mounted.stderr.strip()}")
        return 1
    try:
        runs(servers, info, tryggd, source, work, mount_point, problems)
        store_run(tryggd, source, work, mount_point, problems)
    finally:
        # tryggd has exited or been killed by now; a lazy unmount only if
        # something still holds the file system.
        if subprocess.run(["umount", mount_point], capture_output=True).returncode != 0:
            time.sleep(1)
            if subprocess.run(["umount", mount_point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", mount_point])
    return problems.verdict(work, "a message that cannot be kept is not sent, no sequence number is used twice, "
                                  "and the store path says a full disk once an episode")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
