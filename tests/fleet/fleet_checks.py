"""What a fleet run checks, as pure functions of what it collected, and a
self-check that each of them does find the flaw it is there for.

Python 3.11 standard library only.
"""


def seq_flaws(seen, reused, last):
    """One gateway's reading numbers as a subscriber saw them.  seen: {seq:
    hash of the first payload with it}; reused: the seqs that came again
    with another payload; last: the last seq the gateway recorded.  Returns
    {"missing": [...], "above": [...], "reused": [...]}, each empty when
    every number from 1 to last came, none above it, none on two readings."""
    return {"missing": [s for s in range(1, last + 1) if s not in seen],
            "above": sorted(s for s in seen if s > last or s < 1),
            "reused": sorted(set(reused))}


def window_flaws(found, expected):
    """One series' window starts: found (repeats kept, as stored or
    received) against expected.  {"missing", "extra", "duplicates"}."""
    distinct = set(found)
    want = set(expected)
    return {"missing": sorted(want - distinct), "extra": sorted(distinct - want),
            "duplicates": len(found) - len(distinct)}


def status_flaws(statuses, gateway_ids, state):
    """[(gateway, what it says)] of those whose retained status is not
    {"state": state, ...}; statuses: {gateway: payload text}."""
    import json
    out = []
    for gw in gateway_ids:
        text = statuses.get(gw)
        try:
            said = json.loads(text).get("state") if text else None
        except (ValueError, AttributeError):
            said = None
        if said != state:
            out.append((gw, text or "none"))
    return out


def flawless(flaws, duplicates_allowed=True):
    """No flaw in a dict of seq_flaws/window_flaws."""
    for key, value in flaws.items():
        if key == "duplicates":
            if value and not duplicates_allowed:
                return False
        elif value:
            return False
    return True


def self_check():
    """Each check on data with one flaw of its kind must see it, and on
    sound data none.  [what did not hold]; empty when all did."""
    wrong = []

    def want(condition, what):
        if not condition:
            wrong.append(what)

    seen = {1: 11, 2: 12, 3: 13}
    want(flawless(seq_flaws(seen, [], 3)), "seq: sound numbers pass")
    want(seq_flaws({1: 11, 3: 13}, [], 3)["missing"] == [2], "seq: a number missing in the middle is found")
    want(seq_flaws(seen, [], 4)["missing"] == [4], "seq: the last recorded number missing is found")
    want(seq_flaws({2: 12, 3: 13}, [], 3)["missing"] == [1], "seq: the first number missing is found")
    want(seq_flaws({**seen, 5: 15}, [], 3)["above"] == [5], "seq: a number above the last recorded is found")
    want(seq_flaws(seen, [2], 3)["reused"] == [2], "seq: a number on two readings is found")
    want(not flawless(seq_flaws(seen, [2], 3)), "seq: a reused number fails")

    expected = [0, 300, 600]
    want(flawless(window_flaws([0, 300, 600], expected), False), "windows: every window once passes")
    want(window_flaws([0, 600], expected)["missing"] == [300], "windows: a missing window is found")
    want(window_flaws([0, 300, 300, 600], expected)["duplicates"] == 1, "windows: a window twice is found")
    want(not flawless(window_flaws([0, 300, 300, 600], expected), False),
         "windows: a window twice fails where once is required")
    want(flawless(window_flaws([0, 300, 300, 600], expected), True),
         "windows: a window twice passes where at least once is required")
    want(window_flaws([0, 300, 600, 900], expected)["extra"] == [900], "windows: a window not expected is found")
    want(not flawless(window_flaws([], expected)), "windows: nothing stored fails")

    ok = '{"state":"online","version":"0.1.0","ts":"2026-12-01T06:00:00.000Z"}'
    want(not status_flaws({"a": ok, "b": ok}, ["a", "b"], "online"), "status: all online passes")
    want(status_flaws({"a": ok, "b": '{"state":"offline"}'}, ["a", "b"], "online") == [("b", '{"state":"offline"}')],
         "status: one offline is found")
    want(status_flaws({"a": ok}, ["a", "b"], "online") == [("b", "none")], "status: one without a status is found")
    want(status_flaws({"a": "garbage"}, ["a"], "online") == [("a", "garbage")], "status: a payload not JSON is found")
    return wrong
