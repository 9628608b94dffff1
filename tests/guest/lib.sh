# tests/guest/lib.sh — helpers for bash test scripts that run inside the
# guest (tests/guest/run -- bash SCRIPT).  Source it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Simulated GPIO chips (gpio-sim, made through configfs):
#   gpiosim_new NAME NUM_LINES [LINE_NAME...]
#       make and activate a chip with one bank of NUM_LINES lines, labelled
#       NAME, line K named after the K-th LINE_NAME ("" leaves it unnamed).
#       Sets GPIOSIM_DEV (/dev/gpiochipN), GPIOSIM_CHIP (gpiochipN) and
#       GPIOSIM_SYSFS (the directory holding sim_gpioK/pull and value).
#   gpiosim_set NAME OFFSET 0|1    pull the line down or up: a consumer
#       watching it sees a real edge event, timestamped by the kernel
#   gpiosim_get NAME OFFSET        print 0 or 1, the line's value (what a
#       consumer drives on an output line, else the pull)
#   gpiosim_dev NAME               print the chip's /dev/gpiochipN
#   gpiosim_remove NAME
#
# Simulated IIO device (iio_dummy: in_voltage0_raw/offset/scale and more;
# the input values are fixed by the driver, e.g. in_voltage0_raw is 73):
#   iio_dummy_new NAME     sets IIO_DUMMY_SYSFS, /sys/bus/iio/devices/iio:deviceN,
#                          whose `name` file says NAME
#   iio_dummy_remove NAME
#
#   guest_wait_for SECONDS COMMAND...   retry COMMAND every 0.1 s until it
#                                       succeeds; fail after SECONDS
#
# Functions return non-zero on failure with a message on stderr, so
# `set -e` scripts stop at the first problem.

GPIOSIM_CONFIGFS=/sys/kernel/config/gpio-sim
IIO_DUMMY_CONFIGFS=/sys/kernel/config/iio/devices/dummy

if [[ -z ${TRYGGD_GUEST-} ]]; then
  echo "lib.sh: not inside the guest; run this script with tests/guest/run -- bash SCRIPT" >&2
  return 1 2>/dev/null || exit 1
fi

_guest_fail() { echo "lib.sh: $*" >&2; return 1; }

gpiosim_new() {
  local name=$1 lines=$2 dir=$GPIOSIM_CONFIGFS/$1 offset=0 line_name
  shift 2 || { _guest_fail "usage: gpiosim_new NAME NUM_LINES [LINE_NAME...]"; return; }
  mkdir "$dir" "$dir/bank0" || { _guest_fail "cannot make gpio-sim chip $name"; return; }
  echo "$lines" >"$dir/bank0/num_lines" &&
    echo "$name" >"$dir/bank0/label" || return
  for line_name; do
    if [[ -n $line_name ]]; then
      mkdir "$dir/bank0/line$offset" &&
        echo "$line_name" >"$dir/bank0/line$offset/name" || return
    fi
    offset=$((offset + 1))
  done
  echo 1 >"$dir/live" || { _guest_fail "gpio-sim chip $name did not go live"; return; }
  GPIOSIM_CHIP=$(<"$dir/bank0/chip_name")
  GPIOSIM_DEV=/dev/$GPIOSIM_CHIP
  GPIOSIM_SYSFS=/sys/devices/platform/$(<"$dir/dev_name")/$GPIOSIM_CHIP
  [[ -c $GPIOSIM_DEV ]] || _guest_fail "$GPIOSIM_DEV did not appear"
}

gpiosim_dev() {
  local chip
  chip=$(<"$GPIOSIM_CONFIGFS/$1/bank0/chip_name") || return
  echo "/dev/$chip"
}

_gpiosim_line() {
  local dir=$GPIOSIM_CONFIGFS/$1 dev chip
  dev=$(<"$dir/dev_name") && chip=$(<"$dir/bank0/chip_name") || return
  echo "/sys/devices/platform/$dev/$chip/sim_gpio$2"
}

gpiosim_set() {
  local line pull
  case $3 in
    0) pull=pull-down ;;
    1) pull=pull-up ;;
    *) _guest_fail "usage: gpiosim_set NAME OFFSET 0|1"; return ;;
  esac
  line=$(_gpiosim_line "$1" "$2") && echo "$pull" >"$line/pull"
}

gpiosim_get() {
  local line
  line=$(_gpiosim_line "$1" "$2") && cat "$line/value"
}

gpiosim_remove() {
  local dir=$GPIOSIM_CONFIGFS/$1
  echo 0 >"$dir/live" || return
  rmdir "$dir"/bank0/line* 2>/dev/null
  rmdir "$dir/bank0" "$dir"
}

iio_dummy_new() {
  local device
  mkdir "$IIO_DUMMY_CONFIGFS/$1" || { _guest_fail "cannot make IIO dummy $1"; return; }
  for device in /sys/bus/iio/devices/iio:device*; do
    if [[ $(<"$device/name") == "$1" ]]; then
      IIO_DUMMY_SYSFS=$device
      return 0
    fi
  done
  _guest_fail "IIO dummy $1 made, but no iio:device has that name"
}

iio_dummy_remove() {
  rmdir "$IIO_DUMMY_CONFIGFS/$1"
}

guest_wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || { _guest_fail "timed out waiting for: $*"; return; }
    sleep 0.1
  done
}
