#!/bin/bash
# tests/guest/smoke.sh — shows that the guest tests/guest/run boots has what
# the gateway's tests need: gpio-sim chips with real edge events, the IIO
# dummy, and an MQTT broker on loopback.  Runs inside the guest:
#
#   tests/guest/run -- bash tests/guest/smoke.sh
#
# Prints what it saw; exits non-zero if anything differs from what it expects.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 1

failures=0
check() { # WHAT EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then
    echo "ok: $1: $3"
  else
    echo "FAIL: $1: expected '$2', got '$3'"
    failures=$((failures + 1))
  fi
}

echo "guest: kernel $(uname -r), $(date -u +%FT%TZ), share $TRYGGD_GUEST_SHARE"

# GPIO ---------------------------------------------------------------------
gpiosim_new smoke 4 button door "" relay || exit 1
check "chip device" "yes" "$([[ -c $GPIOSIM_DEV ]] && echo yes || echo no)"
gpioinfo "$GPIOSIM_CHIP"

# An input nobody holds reads as its pull.
gpiosim_set smoke 1 1
check "gpioget after pull-up" 1 "$(gpioget "$GPIOSIM_CHIP" 1)"
gpiosim_set smoke 1 0
check "gpioget after pull-down" 0 "$(gpioget "$GPIOSIM_CHIP" 1)"

# Edges: gpiomon holds line 0 and reports each pull change as an event.
# gpiomon prints %n without leading zeros (68228500 for .068228500), so
# seconds and nanoseconds come apart and are put together by awk below.
gpiomon -b --num-events=4 --format='%e %s %n' "$GPIOSIM_CHIP" 0 >/tmp/raw-events &
monitor=$!
held() { gpioinfo "$GPIOSIM_CHIP" | grep -q 'line *0:.*"gpiomon"'; }
guest_wait_for 10 held
before=$(cut -d' ' -f1 /proc/uptime)
for value in 1 0 1 0; do
  gpiosim_set smoke 0 "$value"
  sleep 0.1
done
after=$(cut -d' ' -f1 /proc/uptime)
guest_wait_for 5 eval '! kill -0 $monitor 2>/dev/null' || kill "$monitor"
wait "$monitor"
awk '{ printf "%s %d.%09d\n", $1, $2, $3 }' /tmp/raw-events >/tmp/events
check "edge events (1 rising, 0 falling)" "1 0 1 0" "$(cut -d' ' -f1 /tmp/events | paste -sd' ')"
# CLOCK_MONOTONIC timestamps: within the window the toggling took (uptime
# runs on the same clock), in order, about 0.1 s apart.
echo "event timestamps: $(cut -d' ' -f2 /tmp/events | paste -sd' ') (uptime $before .. $after)"
check "timestamps within the toggling window, ascending, >= 50 ms apart" ok "$(
  awk -v lo="$before" -v hi="$after" '
    $2 < lo - 0.01 || $2 > hi + 0.01 { bad = bad " outside:" $2 }
    NR > 1 && $2 - prev < 0.05 { bad = bad " gap:" ($2 - prev) }
    { prev = $2 }
    END { print bad == "" ? "ok" : bad }' /tmp/events)"

# Outputs: what a consumer drives shows in the simulator's value.
gpioset --mode=signal "$GPIOSIM_CHIP" 3=1 &
setter=$!
guest_wait_for 10 eval '[[ $(gpiosim_get smoke 3) == 1 ]]'
check "output driven high" 1 "$(gpiosim_get smoke 3)"
kill "$setter"
wait "$setter" 2>/dev/null
gpiosim_remove smoke
check "chip removed" no "$([[ -e $GPIOSIM_DEV ]] && echo yes || echo no)"

# IIO ----------------------------------------------------------------------
iio_dummy_new smokeadc || exit 1
check "iio name" smokeadc "$(<"$IIO_DUMMY_SYSFS/name")"
check "iio in_voltage0_raw" 73 "$(<"$IIO_DUMMY_SYSFS/in_voltage0_raw")"
echo "iio in_voltage0_offset $(<"$IIO_DUMMY_SYSFS/in_voltage0_offset")," \
  "in_voltage0_scale $(<"$IIO_DUMMY_SYSFS/in_voltage0_scale")"
iio_dummy_remove smokeadc
check "iio removed" no "$([[ -e $IIO_DUMMY_SYSFS ]] && echo yes || echo no)"

# MQTT ---------------------------------------------------------------------
port=18830
mosquitto -p "$port" >/tmp/mosquitto.log 2>&1 &
broker=$!
# Retained, so the subscriber gets it whichever comes first; the publish is
# retried until the broker listens.
guest_wait_for 15 mosquitto_pub -h 127.0.0.1 -p "$port" -t smoke/hello -r -m "hello from the guest"
check "mqtt round trip" "hello from the guest" \
  "$(mosquitto_sub -h 127.0.0.1 -p "$port" -t smoke/hello -C 1 -W 10)"
kill "$broker"
wait "$broker" 2>/dev/null

if ((failures)); then
  echo "smoke: $failures check(s) failed"
  [[ -s /tmp/mosquitto.log ]] && sed 's/^/mosquitto: /' /tmp/mosquitto.log
  exit 1
fi
echo "smoke: all checks passed"
