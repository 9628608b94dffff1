/* watch.h — what `tryggctl watch` makes of a gateway's MQTT messages, apart
 * from the broker: the pure parts, which a test drives message by message.
 *
 *   watch_seq    the gateway's reading numbers as they arrive: the next
 *                one, a gap (readings that never came), one delivered
 *                again, one that came late, or a count that started over
 *                (watch_seq.c);
 *   watch_view   one message in, the lines a technician reads out: the
 *                gateway's status, each reading, each window as it closes,
 *                alerts, health, and what watch_seq found; and, on demand,
 *                a summary of where everything stands (watch_view.c);
 *   watch_json_line   one message as one line of JSON for scripts.
 *
 * Times are printed in the local time zone (TZ), HH:MM:SS when the day is
 * today's (now_ms) and with the date otherwise.  Nothing here reads a
 * clock: the time a message arrived is passed in as now_ms.
 *
 * Ownership: struct watch_view owns its base topic and its table of
 * sensors (watch_view_free()); the topic and payload of a message are
 * borrowed for the call only.  struct watch_seq is a plain value. */
#ifndef TRYGGCTL_WATCH_H
#define TRYGGCTL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define WATCH_COMMAND "watch"

/* The largest payload read, in bytes.  tryggd's own messages are well
 * under 1 KiB (health, among the longest, some 400 bytes); 64 KiB leaves
 * room for far longer ones while bounding what a message costs to parse
 * (cJSON makes some ten times its size of tree).  A larger one, which only
 * someone else publishing under the gateway's topics can send, is not
 * parsed, copied or shown: it is counted, and a line gives its size.
 * Paho has read it whole by then; MQTT itself bounds that at 256 MiB,
 * one message at a time, and the broker's own limit (mosquitto's
 * message_size_limit) can bound it lower. */
#define WATCH_MESSAGE_MAX (64u * 1024u)

/* ---- reading numbers (watch_seq.c) ----------------------------------------- */

/* How far back a number is remembered, to tell a second delivery from a
 * late first one.  tryggd has at most 2000 messages in flight, so a resend
 * after a reconnect stays well within it. */
#define WATCH_SEQ_WINDOW 4096

enum watch_seq_kind {
	WATCH_SEQ_FIRST,     /* the first number seen: nothing to compare with */
	WATCH_SEQ_NEXT,      /* one more than the highest so far */
	WATCH_SEQ_GAP,       /* more than one more: `missing` numbers skipped */
	WATCH_SEQ_REPEAT,    /* seen before: now delivered `times` times */
	WATCH_SEQ_LATE,      /* below the highest, not seen before: one counted missing came after all */
	WATCH_SEQ_BACK,      /* far below the highest, beyond what is remembered: numbering started over */
};

struct watch_seq_verdict {
	enum watch_seq_kind kind;
	uint64_t previous;   /* the highest number before this one (not for FIRST) */
	uint64_t missing;    /* GAP: numbers between previous and this one */
	unsigned times;      /* REPEAT: deliveries of this number so far (2 = twice) */
};

struct watch_seq {
	bool started;
	uint64_t highest;
	uint64_t received;                 /* readings with a number, repeats included */
	uint64_t missing;                  /* skipped and not (yet) come late */
	uint64_t repeated;                 /* deliveries beyond the first */
	uint64_t restarts;                 /* times the numbering went back */
	uint8_t seen[WATCH_SEQ_WINDOW];    /* deliveries of n at n % WINDOW, for n in (highest - WINDOW, highest] */
};

void watch_seq_init(struct watch_seq *seq);
/* Take the number of a reading as it arrives and say what it means. */
struct watch_seq_verdict watch_seq_note(struct watch_seq *seq, uint64_t number);

/* ---- the human view (watch_view.c) -------------------------------------------- */

#define WATCH_NAME_SIZE 65      /* a sensor's topic level as remembered (longer ones are cut) */
#define WATCH_SUBJECT_WIDTH 10  /* the subject column, at least; as wide as the longest sensor added */
/* Sensors remembered for the summary, so that a broker sending messages
 * under millions of sensor names cannot grow the table without bound; a
 * later one's messages are still shown, and counted as left out. */
#define WATCH_SENSORS_MAX 256

struct watch_sensor {
	char name[WATCH_NAME_SIZE];
	bool has_reading;
	double value;
	char unit[16];
	char dir[8];                /* "in", "out" or "" */
	int64_t reading_ms;         /* the reading's ts */
	bool has_alert;
	char alert[24];             /* "ok", "covered", ... */
	int64_t alert_since_ms;     /* 0 when ok or not given */
	bool has_window;
	int64_t window_start_ms;
	double coverage;            /* of the last window, or NAN */
};

struct watch_view {
	char *base;                 /* PREFIX/D/G/ with its trailing '/' */
	bool color;                 /* ANSI colours and bold (a terminal) */
	size_t subject_width;       /* of the subject column */
	/* The gateway. */
	bool has_status;
	char state[24];             /* "online", "offline", ... */
	char version[40];
	int64_t since_ms;           /* the status's ts, or when an offline without one arrived */
	bool since_seen_here;       /* since_ms is the arrival, not the gateway's own time */
	struct watch_seq seq;
	uint64_t messages;
	uint64_t too_large;         /* messages over WATCH_MESSAGE_MAX, not read */
	uint64_t left_out;          /* messages about sensors the table has no room for, or names too long */
	struct watch_sensor *sensors;
	size_t sensor_count, sensor_capacity;
};

/* base is PREFIX/D/G (without the '/'): what the watch subscribed to,
 * less "/#".  0, or -ENOMEM. */
int watch_view_init(struct watch_view *view, const char *base, bool color);
void watch_view_free(struct watch_view *view);

/* A sensor known before any message about it (from the configuration),
 * so the summary can say that nothing came, and the subject column is as
 * wide as its name from the first line.  0, -EINVAL for a name that is
 * empty or too long, or -ENOMEM. */
int watch_view_add_sensor(struct watch_view *view, const char *name);

/* One message as it arrived at now_ms (Unix ms): its lines on out.  A
 * message the view does not understand is shown as it came, never
 * dropped; one over WATCH_MESSAGE_MAX is shown as its size.  0, or
 * -ENOMEM. */
int watch_view_message(struct watch_view *view, const char *topic, const void *payload, size_t length,
                       bool retained, int64_t now_ms, FILE *out);

/* Where things stand at now_ms: the gateway's status, each sensor's last
 * reading and its age, its alert and last window, and the reading
 * numbers and messages, with those too large and those about sensors
 * left out; a few lines. */
void watch_view_summary(const struct watch_view *view, int64_t now_ms, FILE *out);

/* A span of time for people: "0 s", "45 s", "4 min", "1 min 30 s",
 * "2 h 5 min", "3 d 4 h".  Negative spans are printed as their size. */
#define WATCH_DURATION_SIZE 32
void watch_format_duration(int64_t ms, char out[WATCH_DURATION_SIZE]);

/* ---- one line of JSON ---------------------------------------------------------- */

/* {"topic":…,"retained":…,"payload":…} and a newline on out.  The payload
 * goes in as it came when it is JSON on one line (so every digit of every
 * number stays as tryggd wrote it); JSON over several lines, or with
 * numbers only cJSON takes ("05", "1."), is written again, on one line and
 * as JSON; anything else gives "payload":null and the text as "text" (bytes
 * that are not UTF-8 replaced by U+FFFD); a payload over WATCH_MESSAGE_MAX
 * gives "payload":null and its size as "too_large", and is not read.  0,
 * or -ENOMEM. */
int watch_json_line(const char *topic, const void *payload, size_t length, bool retained, FILE *out);

#endif
