/* daemon_internal.h — what the files of the daemon share: struct daemon
 * and the functions one file calls in another.  daemon.c has the wiring
 * and the lifecycle: opening the state, spool, sensors, MQTT and the store,
 * the timers, closing windows, and stopping (draining, the deadline,
 * signals).  daemon_clock.c decides whether a window may be stamped (the
 * clock's trust, steps).  daemon_publish.c has the MQTT publishing side: status,
 * readings (recording each sequence number first), alerts, and the
 * gateway's own figures for the health topic and the gateway point.
 * daemon_alert_store.c writes each problem raised and cleared to the
 * store (measurement `alert`).  Nothing outside gateway/daemon*.c
 * includes this.
 *
 * daemon_run() (daemon.c) owns struct daemon, on its stack, and everything
 * it points to (freed in daemon_free()); it borrows the config for the
 * whole run.  daemon_publish.c only uses what daemon.c set up. */
#ifndef TRYGGD_DAEMON_INTERNAL_H
#define TRYGGD_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "alert.h"
#include "clock_trust.h"
#include "config.h"
#include "health.h"
#include "identity.h"
#include "lineproto.h"
#include "reading.h"
#include "sensor.h"

/* What the daemon keeps per sensor besides the sensor itself: its topics
 * (topic.h names them), and what the store was last told of its problems
 * (daemon_alert_store.c).  A reload moves an entry whole, so a sensor that
 * stays keeps both. */
struct daemon_sensor {
	struct sensor *sensor;
	char *topic_reading, *topic_window, *topic_alert;
	struct alerts stored;                     /* each kind as its last `alert` point said it */
	int64_t stored_at_s[ALERT_KIND_COUNT];    /* that point's timestamp; 0: none in this run */
};

enum daemon_phase { PHASE_RUNNING, PHASE_DRAINING, PHASE_CLOSING };

struct daemon {
	struct config *config;           /* owned; replaced by a reload */
	sd_event *event;
	sd_event_source *signal_sources[3];
	sd_event_source *deadline;
	struct schedule *schedule;
	struct identity identity;
	char *topic_status, *topic_health;
	struct daemon_sensor *sensors;
	size_t sensor_count;
	struct state *state;
	struct spool *spool;
	struct mqtt *mqtt;
	struct store_forward *store;
	enum lineproto_backslash backslash;  /* how the store reads a tag's backslash */
	uint64_t seq;                    /* the last reading sequence number used */
	uint64_t seq_floor;              /* the last one written to the state database */
	bool seq_floor_failing;          /* writing it there fails: said once per episode */
	uint64_t unkept;                 /* messages the outbox could not keep (the disk refused) */
	uint64_t unkept_episode;         /* of those, since it last kept one; 0 while it keeps them */
	int64_t window_ms;
	bool health_timer, status_timer;     /* running on the schedule */
	bool mqtt_held;                  /* a simulation waits for the broker (daemon_ready) */
	enum daemon_phase phase;
	int timeout_status;              /* exit status when draining runs out of time */
	uint64_t windows, mqtt_dropped;
	int64_t started_ms;              /* the schedule's clock at the start */
	int64_t started_monotonic_ms;    /* CLOCK_MONOTONIC at the start */
	struct schedule_timer *window_timer;  /* closes windows; the schedule's handle */
	/* daemon_clock.c */
	struct clock_trust clock_trust;
	bool clock_trusted;              /* at the last window boundary or step */
	bool window_opened_trusted;      /* when the open window opened */
	int64_t stamped_until_ms;        /* the end of the last window stamped */
	int64_t step_guard_until_ms;     /* after a step back: windows starting before this were sent */
	uint64_t unstamped_windows;      /* windows closed but not stamped, since the start */
	uint64_t untrusted_windows_episode, untrusted_readings_episode;  /* since the clock was last trusted */
	uint64_t step_dropped_episode;   /* not stamped since the last step back */
	bool trust_to_announce;          /* the clock turned trusted at trusted_since_ms: to be logged */
	int64_t trusted_since_ms;
};

/* daemon.c */
void daemon_set_identity(struct daemon *daemon);
int daemon_open_mqtt(struct daemon *daemon);
int daemon_open_store(struct daemon *daemon);
int daemon_add_timers(struct daemon *daemon);
/* After a reload: the health and status timers, when MQTT now wants them
 * and they are not running. */
void daemon_add_missing_timers(struct daemon *daemon);
/* Close one sensor's open window as it stands (a reload removes it):
 * its window message and point, as at a stop. */
void daemon_cut_sensor_window(struct daemon *daemon, struct daemon_sensor *entry);
/* systemd's STATUS=: what the gateway is doing, in a line. */
void daemon_notify_status(struct daemon *daemon);
void daemon_on_progress(void *userdata);
void daemon_on_committed(void *userdata, uint64_t sequence);
/* Close (partial: cut at cut_ms) the open window of every sensor. */
void daemon_close_windows(struct daemon *daemon, bool partial, int64_t cut_ms);
/* Lines (borrowed) into the spool in one transaction; what goes wrong is
 * logged once an episode. */
void daemon_spool(struct daemon *daemon, char **lines, size_t count);

/* daemon_clock.c */
/* The trust at the start, from the config. */
void daemon_clock_start(struct daemon *daemon);
/* Ask whether the clock can be trusted now; log and notify a change. */
void daemon_clock_poll(struct daemon *daemon, int64_t now_ms);
/* Log that the clock turned trusted, with what the episode dropped. */
void daemon_clock_announce(struct daemon *daemon);
/* May the window starting at start_ms, closing now, be stamped?  When not
 * and count, it is counted as dropped. */
bool daemon_clock_may_stamp(struct daemon *daemon, int64_t start_ms, bool count);
/* May a reading be published now?  Counts the ones that may not. */
bool daemon_clock_may_publish(struct daemon *daemon);
/* The schedule's on_step. */
void daemon_on_clock_step(void *userdata, int64_t step_ms, int64_t before_ms, int64_t now_ms);
/* The start of STATUS= while the clock keeps windows from being stamped,
 * or "". */
void daemon_clock_status(const struct daemon *daemon, char *out, size_t size);

/* daemon_windows.c */
/* The first multiple of step_ms after now_ms: when a periodic timer is next due. */
int64_t daemon_next_multiple(int64_t now_ms, int64_t step_ms);
/* The window timer: close every window that ended by now_ms. */
int64_t daemon_on_window_end(void *userdata, int64_t now_ms);

/* daemon_resume.c: at a stop, forget what an earlier stop kept and keep
 * each sensor's cut window; at a start, after the sensors opened, take
 * them up (window_resume.h). */
void daemon_forget_cut_windows(struct daemon *daemon);
void daemon_keep_cut_window(struct daemon *daemon, struct daemon_sensor *entry, const struct window *cut,
                            int64_t cut_ms);
void daemon_resume_windows(struct daemon *daemon);

/* daemon_sensors.c */
struct sensor_setup daemon_sensor_setup(struct daemon *daemon);
int daemon_open_topics(struct daemon *daemon);
int daemon_open_sensors(struct daemon *daemon);
int daemon_sensor_open(struct daemon *daemon, const struct sensor_config *sc, struct daemon_sensor *entry);
/* Its topics (again, after a reload changed the prefix). */
int daemon_sensor_topics(struct daemon *daemon, struct daemon_sensor *entry);
void daemon_sensor_free(struct daemon_sensor *entry);
int daemon_sensor_start(struct daemon_sensor *entry);
struct daemon_sensor *daemon_find_sensor(struct daemon *daemon, const char *name);
/* Pair every lamp with its light sensor, or with none when it is gone. */
void daemon_pair_lamps(struct daemon *daemon);
/* The configs in config of the sensors paired with sc, for its driver
 * (driver_env.paired): a light sensor's lamps, in the config's order.
 * *paired is an array to free() (NULL when *count is 0) of pointers into
 * config.  0 or -ENOMEM. */
int daemon_paired_configs(const struct config *config, const struct sensor_config *sc,
                          const struct sensor_config ***paired, size_t *count);

/* daemon_alert_store.c */
/* Every sensor's problems against what the store was last told: a point
 * for each one raised or cleared since, all in one transaction. */
void daemon_store_alerts(struct daemon *daemon);
/* A sensor that goes (a reload): a clear for each of its problems the
 * store holds as active. */
void daemon_store_alerts_gone(struct daemon *daemon, struct daemon_sensor *entry);

/* daemon_reload.c */
/* SIGHUP: load the config again; if it is valid, apply it (what changed
 * is reopened), otherwise log every problem and keep running as before. */
void daemon_reload(struct daemon *daemon);

/* daemon_publish.c */
int daemon_publish(struct daemon *daemon, const char *topic, char *payload, bool retained, bool now);
void daemon_publish_status(struct daemon *daemon, bool online);
void daemon_publish_alert(struct daemon *daemon, struct daemon_sensor *entry, bool now);
void daemon_publish_health(struct daemon *daemon);
void daemon_on_reading(void *userdata, struct sensor *sensor, int64_t ts_ms, double value,
                       enum reading_direction direction);
void daemon_on_alert(void *userdata, struct sensor *sensor);
int64_t daemon_on_health(void *userdata, int64_t now_ms);
int64_t daemon_on_status(void *userdata, int64_t now_ms);
uint64_t daemon_readings(const struct daemon *daemon);
int64_t daemon_monotonic_ms(void);
struct health daemon_health(const struct daemon *daemon);

#endif
