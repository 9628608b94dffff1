/* mqtt_link.h — the connection to the broker, as an explicit state
 * machine on the loop:
 *
 *     IDLE --start--> CONNECTING --connected--> UP --lost--> WAITING
 *                        |  ^                                  |
 *                 failed |  +-------------- backoff ends ------+
 *                        v                                     |
 *                     WAITING <--------------------------------+
 *     any --stop--> STOPPED
 *
 * Every connect, the first one included, is ours: Paho's automatic
 * reconnect covers only connections that once succeeded and backs off on
 * its own terms.  Each try gives Paho the whole list of broker URIs, which
 * it tries in order (failover).  Between tries the link waits a backoff
 * that starts at BACKOFF_MIN, doubles up to BACKOFF_MAX and is spread by
 * ±20 % jitter, so a fleet does not knock on a restarted broker all at
 * once, and so a broker back from maintenance is tried again within
 * seconds.  A state change is logged once, not every try: one line when
 * an outage starts, and one more only if its cause changes between the
 * broker being unreachable and the broker refusing tryggd (and from one
 * refusal to another).  A broker's refusal, and a TLS problem a person must
 * fix, is an error; a broker that does not answer is a warning.
 *
 * TLS: the link gives Paho the CA, the client certificate and the verify
 * switch on every connect.  Paho names a TLS failure vaguely (see
 * mqtt_tls_probe.h), so the outage's line waits for the probe to say what
 * is wrong, unless a proxy stands between.  With verify off, every connect
 * logs a warning.
 *
 * Proxy: the one in the options, or none.  (Paho would otherwise read
 * http_proxy or https_proxy from the environment: the owner removes them,
 * see mqtt.c.)
 *
 * The link borrows the loop, the Paho handle and the bridge (whose
 * connection events the owner passes to mqtt_link_on_event); it copies the
 * options it is given, and zeroes its copy of the password when freed. */
#ifndef TRYGGD_MQTT_LINK_H
#define TRYGGD_MQTT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <MQTTAsync.h>
#include <systemd/sd-event.h>

#include "mqtt_bridge.h"

#define MQTT_LINK_BACKOFF_MIN_MS 500
#define MQTT_LINK_BACKOFF_MAX_MS 5000

enum mqtt_link_state { MQTT_LINK_IDLE, MQTT_LINK_CONNECTING, MQTT_LINK_UP, MQTT_LINK_WAITING, MQTT_LINK_STOPPED };

struct mqtt_link_options {
	const char *const *uris;     /* tried in order */
	size_t uri_count;
	int version;                 /* MQTTVERSION_3_1_1 or MQTTVERSION_5 */
	int keepalive_s;
	bool clean_session;
	const char *will_topic;      /* retained, at will_qos */
	const char *will_payload;
	int will_qos;
	const char *username;        /* NULL: none */
	const char *password;        /* NULL: none; never logged */
	bool tls;                    /* the URIs are ssl, mqtts or wss; then: */
	const char *ca_file;         /*   NULL, with ca_dir NULL: the system's store */
	const char *ca_dir;
	const char *cert_file;       /*   NULL: no client certificate */
	const char *key_file;        /*   NULL: in cert_file */
	bool verify;                 /*   the broker's certificate and host name */
	const char *proxy;           /* HOST:PORT of an HTTP CONNECT proxy, or NULL */
};

struct mqtt_link_events {
	/* UP: connected to server (one of the URIs). */
	void (*up)(void *userdata, const char *server);
	/* Left UP (lost), or a try failed: whatever was in flight is not. */
	void (*down)(void *userdata);
	void *userdata;
};

struct mqtt_link;

int mqtt_link_new(sd_event *event, MQTTAsync client, struct mqtt_bridge *bridge,
                  const struct mqtt_link_options *options, const struct mqtt_link_events *events,
                  struct mqtt_link **out);
void mqtt_link_free(struct mqtt_link *link);

/* IDLE -> CONNECTING. */
void mqtt_link_start(struct mqtt_link *link);
/* No more tries (on the way out); the connection itself is left to the
 * owner's disconnect. */
void mqtt_link_stop(struct mqtt_link *link);

/* A BRIDGE_CONNECTED, BRIDGE_CONNECT_FAILED or BRIDGE_LOST event. */
void mqtt_link_on_event(struct mqtt_link *link, const struct bridge_event *event);

enum mqtt_link_state mqtt_link_state(const struct mqtt_link *link);
/* Times it came UP after the first. */
uint64_t mqtt_link_reconnects(const struct mqtt_link *link);
/* The server it is (or was last) connected to, or the first URI. */
const char *mqtt_link_server(const struct mqtt_link *link);

#endif
