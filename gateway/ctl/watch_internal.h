/* watch_internal.h — what the files of `tryggctl watch` share, and no one
 * else sees:
 *
 *   watch.c        the subcommand: options, --help, and where to look (the
 *                  configuration or the command line);
 *   watch_run.c    the run: the topic, the view or the JSON lines, and the
 *                  wait for the end;
 *   watch_mqtt.c   the broker's side of it: the Paho MQTTAsync client and
 *                  its callbacks, credentials, TLS and proxy;
 *   watch_view.c   the human view (watch.h): the table of sensors, a
 *                  message to the right watch_show_*(), the frame of a
 *                  line, and the summary;
 *   watch_show.c   the lines of each kind of message;
 *   watch_seq.c    the reading numbers (watch.h);
 *   watch_text.c   how times, spans, numbers and text from a payload are
 *                  printed, what a payload's fields hold, and the JSON line
 *                  (watch.h).
 *
 * Ownership: struct watch_target borrows everything (from the config or
 * argv); struct watch_run, on watch_run()'s stack, owns the view, the
 * pipe, the Paho client and the password.  A struct watch_message borrows
 * its topic, payload and parsed JSON from watch_view_message() for the
 * call. */
#ifndef TRYGGCTL_WATCH_INTERNAL_H
#define TRYGGCTL_WATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pthread.h>

#include <MQTTAsync.h>
#include <cjson/cJSON.h>

#include "identity.h"
#include "watch.h"

/* ---- watch_run.c ------------------------------------------------------------------ */

/* Where to look and how to connect, from the config or the command line;
 * everything borrowed. */
struct watch_target {
	char *const *uris;           /* tried in order */
	size_t uri_count;
	const char *prefix;
	struct identity identity;    /* the gateway and its district (site unused) */
	int version;                 /* MQTTVERSION_3_1_1 or MQTTVERSION_5 */
	int keepalive_s;
	const char *const *sensors;  /* the sensors the config names, for the summary */
	size_t sensor_count;
	/* Who the watch is and how the broker is trusted: [mqtt]'s keys with
	 * -c (config.h); with --uri none, and TLS for ssl://, mqtts:// and
	 * wss:// against the system's CAs. */
	const char *username;        /* or NULL */
	const char *password_file;   /* or NULL */
	bool tls;
	const char *ca_file, *ca_dir, *cert_file, *key_file;   /* or NULL */
	bool verify;
	const char *proxy;           /* HOST:PORT of an HTTP CONNECT proxy, or NULL */
	bool environment_proxy;      /* Paho may take http(s)_proxy from the environment (--uri) */
};

struct watch_run {
	const struct watch_target *target;
	pthread_mutex_t lock;        /* everything below that a callback touches */
	struct watch_view view;
	FILE *out;
	bool json;
	uint64_t count;              /* stop after this many messages; 0: no limit */
	uint64_t received;
	char *filter;                /* PREFIX/D/G/# */
	MQTTAsync client;
	char *password;              /* from password_file; zeroed when freed */
	MQTTAsync_SSLOptions ssl;    /* given to Paho, with target->tls */
	int wake[2];                 /* a callback tells main that the run is done */
	bool done;
	int status;
	bool connected_once;
	bool lost;                   /* lost since the last connect: said once */
	bool connect_failed;         /* the first connect failed ... */
	bool refused;                /* ... because the broker said no */
	char ssl_error[128];         /* OpenSSL's last reason, from Paho's thread */
};

/* Watch target until the end: count messages (0: no limit), timeout_ms
 * (0: none), a signal, or a failure; the view on stdout, or JSON lines.
 * The exit status. */
int watch_run(const struct watch_target *target, bool json, uint64_t count, int64_t timeout_ms);

/* The run is over with status; with run->lock held.  The first end wins. */
void watch_finish_locked(struct watch_run *run, int status);

/* The time now, Unix ms. */
int64_t watch_wall_ms(void);

/* ---- watch_mqtt.c ----------------------------------------------------------------- */

/* Read the password, make the client and start connecting; Paho's thread
 * goes on from there (subscribing, each message, the end of the first
 * connect).  0, or an exit status with the reason said. */
int watch_connect(struct watch_run *run);
/* Disconnect and free the client and the password; Paho's threads are
 * gone when it returns. */
void watch_disconnect(struct watch_run *run);
/* After a first TLS connect that failed for a reason Paho does not name:
 * what a handshake of our own finds wrong, on stderr (up to 5 s a step). */
void watch_explain_failure(struct watch_run *run);

/* ---- watch_text.c ------------------------------------------------------------------ */

#define WATCH_TIME_SIZE 32
#define WATCH_NUMBER_SIZE 40

/* t (Unix ms) in local time: "HH:MM:SS" on now_ms's day, else
 * "YYYY-MM-DD HH:MM:SS". */
void watch_format_time(int64_t t_ms, int64_t now_ms, char out[WATCH_TIME_SIZE]);

/* A value for people: whole numbers as such, others with one decimal from
 * 10 up and three significant digits below ("2961.6", "0.25", "12"), and
 * six significant digits from 1e15 up ("1e+300"). */
void watch_format_number(double value, char out[WATCH_NUMBER_SIZE]);

/* A share from 0 to 1 as a percentage that never rounds up to a whole
 * one: "100 %" only for 1, "99.9 %" for 0.9999, "16.4 %". */
void watch_format_percent(double share, char out[WATCH_NUMBER_SIZE]);

/* At most max bytes of text (length bytes, or up to its NUL when length is
 * (size_t)-1) on out, as a terminal can show it safely: control
 * characters (C0, DEL, C1) as '?', bytes that are not UTF-8 as U+FFFD, and
 * "…" when cut. */
void watch_put_text(FILE *out, const char *text, size_t length, size_t max);

/* Whether length bytes are well-formed UTF-8 (no overlong form, surrogate
 * or code point above U+10FFFF). */
bool watch_utf8_valid(const char *text, size_t length);

/* A field of a payload: a string, or NULL; a number; an RFC 3339 time
 * (Unix ms).  false when it is missing or of another kind. */
const char *watch_json_text(const cJSON *json, const char *key);
bool watch_json_number(const cJSON *json, const char *key, double *out);
bool watch_json_time(const cJSON *json, const char *key, int64_t *out);

/* ---- watch_view.c ----------------------------------------------------------------- */

/* What stands out, and how on a terminal. */
enum watch_style { WATCH_PLAIN, WATCH_GOOD, WATCH_WARN, WATCH_PROBLEM };

enum watch_kind { WATCH_KIND_STATUS, WATCH_KIND_HEALTH, WATCH_KIND_READING, WATCH_KIND_WINDOW, WATCH_KIND_ALERT,
                  WATCH_KIND_OTHER };

/* One message as the view takes it in. */
struct watch_message {
	enum watch_kind kind;
	const char *subject;         /* the sensor's level, "gateway", or the topic below the base */
	size_t subject_length;
	cJSON *json;                 /* the payload when it is a JSON object, else NULL */
	const char *payload;
	size_t length;
	bool retained;
	int64_t now_ms;              /* when it arrived */
	int64_t at_ms;               /* the time its line shows: its own, else now_ms */
	size_t subject_width;        /* the view's */
};

/* The sensor of that name, added when there is room; NULL when there is
 * none (a name too long, the table full, out of memory). */
struct watch_sensor *watch_view_sensor(struct watch_view *view, const char *name, size_t length);

/* Colour on and off again, on a terminal; nothing otherwise. */
void watch_paint(const struct watch_view *view, FILE *out, enum watch_style style);
void watch_unpaint(const struct watch_view *view, FILE *out, enum watch_style style);

/* "TIME  SUBJECT     " of the message's line. */
void watch_line_begin(FILE *out, const struct watch_message *message);
/* " (retained)", or for a message with a time of its own (timed) how late
 * it came or how far ahead its clock is, when that is 10 s or more; then
 * the end of the line. */
void watch_line_end(FILE *out, const struct watch_message *message, bool timed);

void watch_put_string(FILE *out, const char *text);        /* watch_put_text(), cut at 160 bytes */
void watch_put_number(FILE *out, double value);            /* watch_format_number() */
void watch_put_excerpt(FILE *out, const struct watch_message *message);   /* the payload as it came */

/* "WHAT not understood: PAYLOAD" as the message's line. */
void watch_not_understood(const struct watch_view *view, FILE *out, const struct watch_message *message,
                          const char *what);

/* ---- watch_show.c ----------------------------------------------------------------- */

/* Each kind of message: its lines on out, and what the view remembers of
 * it.  message->at_ms is set to the message's own time where it has one. */
void watch_show_status(struct watch_view *view, FILE *out, struct watch_message *message);
void watch_show_health(struct watch_view *view, FILE *out, struct watch_message *message);
void watch_show_reading(struct watch_view *view, FILE *out, struct watch_message *message);
void watch_show_window(struct watch_view *view, FILE *out, struct watch_message *message);
void watch_show_alert(struct watch_view *view, FILE *out, struct watch_message *message);
void watch_show_other(struct watch_view *view, FILE *out, struct watch_message *message);

/* A reading's value as people say it: "2961.6 lx", "on", "+1 in" (dir may
 * be NULL). */
void watch_put_reading(FILE *out, double value, const char *unit, const char *dir);

#endif
