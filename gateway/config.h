/* config.h — the validated configuration of one tryggd, read from an INI file.
 *
 * config_load() parses and validates the whole file, writes one
 * "FILE:LINE: message" line per problem to the error stream, and fills a
 * struct config only when there was none.  The struct owns every string and
 * array in it; config_free() releases them.  Nothing else mutates it.  For
 * a reload, sections are copied and compared with the functions at the
 * end. */
#ifndef TRYGGD_CONFIG_H
#define TRYGGD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clock_trust.h"
#include "sensor_config.h"

/* The store's write API: InfluxDB 1.x, 2.x, 3.x, or VictoriaMetrics (its
 * InfluxDB-compatible /write).  See gateway/store_dialect.h. */
enum influx_api { INFLUX_V1, INFLUX_V2, INFLUX_V3, INFLUX_VICTORIA };
/* How a 2xx is proven: taken as it is, or a sample read back. */
enum influx_verify { INFLUX_VERIFY_NONE, INFLUX_VERIFY_READBACK };

/* A field added to one of these sections must be added to config_copy.c
 * too: to the section's table of strings (mqtt and influx) or to its
 * *_equal(). */
struct gateway_config {
	char *id;                /* [A-Za-z0-9_-]{1,64} */
	char *district;          /* UTF-8, no control characters */
	char *site;              /* UTF-8, no control characters, or NULL */
	int window_s;            /* default 60 */
	char *state_dir;         /* default /var/lib/tryggd */
	double latitude;         /* where the board is, for the sun's height (default Eskilstuna) */
	double longitude;
	enum clock_trust_mode clock;  /* when the clock may stamp windows (default: NTP synchronised) */
};

struct simulation_config {
	int64_t start_ms;        /* Unix epoch milliseconds */
	double speed;            /* virtual seconds per real second; 0 = as fast as the pipeline drains */
	int64_t end_ms;          /* 0 = no end */
	char *profiles;          /* district profiles file for the sim driver (absolute path);
	                          * filled even without [simulation], for sim sensors in real time */
	char *scenarios;         /* the sim driver's scenarios file (absolute path), or NULL */
	int drain_timeout_s;     /* at the end, how long to wait for delivery (default 30) */
	int64_t clock_synchronised_at_ms;  /* the virtual clock is untrusted before this (0: never) */
	int64_t clock_step_at_ms;          /* at this virtual time the clock jumps ... */
	int64_t clock_step_ms;             /* ... by this much (0: no step) */
};

#define MQTT_URIS_MAX 8
/* MQTT protocol levels, as Paho numbers them (MQTTVERSION_3_1_1, _5). */
#define MQTT_VERSION_3_1_1 4
#define MQTT_VERSION_5 5

struct mqtt_config {
	char *uri;               /* the first of uris */
	char *uris[MQTT_URIS_MAX];   /* brokers, tried in this order on every connect */
	size_t uri_count;
	char *topic_prefix;      /* default "trygghet" */
	int qos;                 /* 0, 1 (default) or 2 */
	int version;             /* 4 (MQTT 3.1.1, default) or 5 */
	bool clean_session;      /* default true */
	char *client_id;         /* default: the gateway's id */
	bool publish_readings;   /* default true */
	int keepalive_s;         /* default 30 */
	int buffer_max;          /* messages the outbox holds at most (default 100000) */
	int64_t buffer_bytes;    /* bytes the outbox holds at most (default 64 MiB) */
	/* Who tryggd is and how the broker is trusted (config_mqtt_security.c).
	 * Every path is absolute: a *_file key's relative name was looked up in
	 * $CREDENTIALS_DIRECTORY, then in the config's directory.  No secret is
	 * held here: the password is read from password_file at start. */
	char *username;          /* or NULL */
	char *password_file;     /* or NULL (needs username) */
	bool tls;                /* the brokers are ssl://, mqtts:// or wss:// (all or none) */
	char *ca_file;           /* PEM CA certificates, or NULL */
	char *ca_dir;            /* a hashed directory of them, or NULL; neither: the system's store */
	char *cert_file;         /* the client certificate (PEM), or NULL */
	char *key_file;          /* its private key, or NULL: then it is in cert_file */
	bool verify;             /* default true: the broker's certificate and host name are checked */
	char *proxy;             /* HOST:PORT of an HTTP CONNECT proxy, or NULL: none, whatever
	                          * http_proxy and https_proxy say */
	int64_t health_interval_ms;  /* the health topic, every this long (default 60 s; 0 = off) */
	int64_t status_interval_ms;  /* the retained status said again every this long (default 5 min;
	                              * 0 = only on connect) */
};

struct influx_config {
	char *url;               /* base URL, no trailing slash, no credentials */
	enum influx_api api;     /* default v1 */
	char *database;          /* v1, v3, victoriametrics (default "trygghet") */
	char *retention_policy;  /* v1 rp, or NULL */
	char *org, *bucket;      /* v2 (bucket defaults to database) */
	char *user;              /* v1 basic authentication, or NULL */
	char *password_file;     /* v1, as written (credentials.h), or NULL */
	char *token_file;        /* v2, v3: "Authorization: Token", or NULL */
	char *ca_file;           /* https: the CA bundle, or NULL for the system's */
	bool tls_verify;         /* https: verify the peer and its name (default yes) */
	char *proxy;             /* NULL: no proxy, whatever the environment says */
	bool gzip;               /* Content-Encoding: gzip (default no) */
	enum influx_verify verify;  /* default readback for victoriametrics, none otherwise */
	int timeout_s;           /* per request (default 10) */
	int batch_lines;         /* most lines in one request (default 5000) */
	int64_t flush_interval_ms;  /* a batch smaller than batch_lines waits at most this long (default 0: at once) */
	uint64_t spool_max_bytes;   /* bound on the spool's lines (default 64 MiB) */
};

struct config {
	char *path;                      /* as given to config_load() */
	char *directory;                 /* the file's directory, absolute: relative paths start here */
	struct gateway_config gateway;
	bool has_simulation;
	struct simulation_config simulation;
	bool has_mqtt;
	struct mqtt_config mqtt;
	bool has_influx;
	struct influx_config influx;
	struct sensor_config *sensors;
	size_t sensor_count;
};

struct driver_ops;
/* How a configuration's driver names are looked up: driver_find() (the
 * registry, drivers/driver.h) for tryggd; tests may bring their own. */
typedef const struct driver_ops *(*config_driver_lookup)(const char *name);

/* 0 on success; -EINVAL when the file had problems (each one written to
 * errors as "FILE:LINE: message"); another negative errno when the file could
 * not be read (also written to errors).  On failure *out is left zeroed. */
int config_load(const char *path, struct config *out, FILE *errors);
/* The same, with the drivers find_driver knows. */
int config_load_with_drivers(const char *path, config_driver_lookup find_driver,
                             struct config *out, FILE *errors);
void config_free(struct config *config);

/* The one-screen summary `tryggd --check` prints. */
void config_print_summary(const struct config *config, FILE *out);

/* The sensor called name, or NULL. */
const struct sensor_config *config_find_sensor(const struct config *config, const char *name);

/* ---- copies and comparisons, for reload (config_copy.c) ----------------
 *
 * A module that outlives the struct config it was made from (a reload
 * frees the old one) keeps a copy of its section: *_copy() makes one that
 * shares nothing with from (every string, the uris array), owned by the
 * caller until *_clear(), which frees it and zeroes the struct.  On failure
 * (-ENOMEM; -EINVAL for more than MQTT_URIS_MAX brokers) *to is left
 * zeroed.  from and to are different structs.  config_free() clears its
 * [mqtt] and [influx] with the same functions.
 *
 * *_equal() is true when the two sections say the same, field by field,
 * every field that changes what tryggd does included; NULL strings equal
 * only NULL.  Left out on purpose: mqtt_config.uri, which is uris[0] and is
 * compared there.  What is compared is what the config says, not what the
 * files it names hold: a password, token or certificate replaced under the
 * same path leaves its section equal.  The has_mqtt, has_influx and
 * has_simulation flags are struct config's: compare them too. */

int mqtt_config_copy(const struct mqtt_config *from, struct mqtt_config *to);
void mqtt_config_clear(struct mqtt_config *config);
bool mqtt_config_equal(const struct mqtt_config *a, const struct mqtt_config *b);

int influx_config_copy(const struct influx_config *from, struct influx_config *to);
void influx_config_clear(struct influx_config *config);
bool influx_config_equal(const struct influx_config *a, const struct influx_config *b);

bool gateway_config_equal(const struct gateway_config *a, const struct gateway_config *b);
bool simulation_config_equal(const struct simulation_config *a, const struct simulation_config *b);

#endif
