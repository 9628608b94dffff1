/* mqtt_link.c — see mqtt_link.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mqtt_link.h"
#include "mqtt_reason.h"
#include "mqtt_tls_probe.h"

/* Paho's own timeout for one try over the whole list of URIs. */
#define CONNECT_TIMEOUT_S 10

struct mqtt_link {
	sd_event *event;
	MQTTAsync client;
	struct mqtt_bridge *bridge;
	sd_event_source *timer;
	struct mqtt_link_events events;

	char **uris;
	size_t uri_count;
	size_t current;              /* the URI this try is for: a round goes through them in order */
	int version, keepalive_s, will_qos;
	bool clean_session;
	char *will_topic, *will_payload, *username, *password;
	char *ca_file, *ca_dir, *cert_file, *key_file, *proxy;
	bool tls;
	MQTTAsync_SSLOptions ssl;    /* given to Paho on every connect, when tls */
	struct tls_probe *probe;     /* when tls */

	/* OpenSSL's last reason, from Paho's thread (on_ssl_error). */
	pthread_mutex_t ssl_error_lock;
	char ssl_error[128];

	enum mqtt_link_state state;
	int backoff_ms;
	unsigned random_state;       /* for jitter: rand_r's */
	bool reported_down;          /* the outage was logged (or waits for the probe) */
	int reported_cause;          /* the broker's refusal code logged last; 0: it did not answer */
	bool probing;                /* the outage's line waits for the probe */
	char pending[BRIDGE_TEXT_SIZE + 160];   /* what to say if the probe finds nothing */
	uint64_t ups;
	char server[256];
};

static void link_connect(struct mqtt_link *link);

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct mqtt_link *link = userdata;
	(void)source;
	(void)usec;
	/* WAITING: the backoff is over, a new round begins.  CONNECTING:
	 * the guard of a connect Paho had under way by itself (link_connect)
	 * ran out unanswered. */
	if (link->state == MQTT_LINK_WAITING) {
		link->current = 0;
		link_connect(link);
	} else if (link->state == MQTT_LINK_CONNECTING) {
		link_connect(link);
	}
	return 0;
}

static void arm_timer(struct mqtt_link *link, uint64_t wait_us)
{
	uint64_t now;
	sd_event_now(link->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(link->timer, now + wait_us);
	sd_event_source_set_enabled(link->timer, SD_EVENT_ONESHOT);
}

/* WAITING for the backoff, jittered, which then doubles. */
static void link_wait(struct mqtt_link *link)
{
	link->state = MQTT_LINK_WAITING;
	double jitter = 0.8 + 0.4 * ((double)rand_r(&link->random_state) / RAND_MAX);
	arm_timer(link, (uint64_t)(link->backoff_ms * jitter * 1000.0));
	link->backoff_ms = link->backoff_ms * 2 > MQTT_LINK_BACKOFF_MAX_MS ? MQTT_LINK_BACKOFF_MAX_MS
	                                                                   : link->backoff_ms * 2;
}

static void report_down(struct mqtt_link *link, const char *reason, bool serious)
{
	const char *where = link->uri_count > 1 ? "any broker" : link->uris[0];
	if (serious)
		log_error("mqtt: cannot connect to %s: %s; trying again every few seconds, messages are kept meanwhile",
		          where, reason);
	else
		log_warning("mqtt: cannot connect to %s: %s; trying again every few seconds, messages are kept meanwhile",
		            where, reason);
}

/* Paho's reason, with OpenSSL's when it gave one. */
static void describe_failure(struct mqtt_link *link, const struct bridge_event *event, char *text, size_t size)
{
	if (event->code > 0) {
		mqtt_reason_refusal(event->code, "tryggd", true, text, size);
		return;
	}
	char ssl_error[sizeof(link->ssl_error)];
	pthread_mutex_lock(&link->ssl_error_lock);
	memcpy(ssl_error, link->ssl_error, sizeof(ssl_error));
	pthread_mutex_unlock(&link->ssl_error_lock);
	mqtt_reason_failure(event->text[0] ? event->text : "failed", ssl_error, text, size);
}

/* Once per outage, not once per try; again when the cause changes between
 * no answer and a refusal. */
static void link_failed(struct mqtt_link *link, const struct bridge_event *event)
{
	char reason[sizeof(link->pending)];
	describe_failure(link, event, reason, sizeof(reason));
	int cause = event->code > 0 ? event->code : 0;
	if (link->reported_down && cause == link->reported_cause) {
		log_debug("mqtt: still cannot connect: %s", reason);
	} else if (cause == 0 && link->tls && !link->proxy && link->probe) {
		/* Paho's words for a TLS failure say too little: the line
		 * waits for the probe (on_probe_done). */
		snprintf(link->pending, sizeof(link->pending), "%s", reason);
		if (!tls_probe_running(link->probe)) {
			struct tls_probe_settings settings = {
				.uris = (const char *const *)link->uris,
				.uri_count = link->uri_count,
				.ca_file = link->ca_file,
				.ca_dir = link->ca_dir,
				.cert_file = link->cert_file,
				.key_file = link->key_file,
				.verify = link->ssl.enableServerCertAuth,
			};
			link->probing = tls_probe_start(link->probe, &settings) == 0;
		}
		if (!link->probing)
			report_down(link, reason, false);
		log_debug("mqtt: cannot connect: %s", reason);
	} else {
		report_down(link, reason, cause != 0);
	}
	link->reported_down = true;
	link->reported_cause = cause;
	if (link->events.down)
		link->events.down(link->events.userdata);
	link_wait(link);
}

static void on_probe_done(void *userdata, const struct tls_finding *finding)
{
	struct mqtt_link *link = userdata;
	bool waiting = link->probing;
	link->probing = false;
	/* Connected meanwhile, or on the way out: nothing to say. */
	if (!waiting || link->state == MQTT_LINK_UP || link->state == MQTT_LINK_STOPPED)
		return;
	if (finding->text[0])
		report_down(link, finding->text, finding->configuration);
	else
		report_down(link, link->pending, false);
}

/* Paho's thread: OpenSSL's error lines, "…:error:0A000086:SSL
 * routines:FUNCTION:REASON:FILE:LINE:", of which the reason is kept. */
static int on_ssl_error(const char *line, size_t length, void *userdata)
{
	struct mqtt_link *link = userdata;
	char reason[sizeof(link->ssl_error)];
	if (!mqtt_reason_openssl(line, length, reason, sizeof(reason)))
		return 0;
	pthread_mutex_lock(&link->ssl_error_lock);
	snprintf(link->ssl_error, sizeof(link->ssl_error), "%s", reason);
	pthread_mutex_unlock(&link->ssl_error_lock);
	return 0;
}

static void link_connect(struct mqtt_link *link)
{
	MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	bool v5 = link->version == MQTTVERSION_5;
	MQTTAsync_connectOptions *chosen = v5 ? &options5 : &options;

	will.topicName = link->will_topic;
	will.message = link->will_payload;
	will.retained = 1;
	will.qos = link->will_qos;
	chosen->keepAliveInterval = link->keepalive_s;
	if (v5) {
		chosen->cleanstart = link->clean_session;
		chosen->onSuccess5 = mqtt_bridge_on_connect_success5;
		chosen->onFailure5 = mqtt_bridge_on_connect_failure5;
	} else {
		chosen->cleansession = link->clean_session;
		chosen->onSuccess = mqtt_bridge_on_connect_success;
		chosen->onFailure = mqtt_bridge_on_connect_failure;
	}
	chosen->MQTTVersion = link->version;
	chosen->will = &will;
	chosen->username = link->username;
	chosen->password = link->password;
	chosen->ssl = link->tls ? &link->ssl : NULL;
	/* Paho speaks plain HTTP CONNECT to the proxy for both. */
	chosen->httpProxy = link->proxy;
	chosen->httpsProxy = link->proxy;
	/* One URI per try: the link goes through the list itself, so it
	 * knows which broker it is on, and Paho never moves on to the next
	 * by itself behind its back (which it does with a list of several,
	 * whatever automaticReconnect says). */
	chosen->serverURIs = &link->uris[link->current];
	chosen->serverURIcount = 1;
	/* Every connect is ours (see mqtt_link.h). */
	chosen->automaticReconnect = 0;
	chosen->connectTimeout = CONNECT_TIMEOUT_S;
	chosen->context = link->bridge;

	pthread_mutex_lock(&link->ssl_error_lock);
	link->ssl_error[0] = '\0';
	pthread_mutex_unlock(&link->ssl_error_lock);
	link->state = MQTT_LINK_CONNECTING;
	sd_event_source_set_enabled(link->timer, SD_EVENT_OFF);
	int rc = MQTTAsync_connect(link->client, chosen);
	if (rc == MQTTASYNC_COMMAND_IGNORED) {
		/* With several URIs, Paho 1.3 goes on to the next one by itself
		 * when a connection drops, automaticReconnect or not; a second
		 * connect of ours would race it.  Its answer comes through the
		 * bridge like ours would; the guard tries again should none. */
		log_debug("mqtt: a connect is already under way");
		arm_timer(link, (uint64_t)(CONNECT_TIMEOUT_S + 2) * 1000000u);
		return;
	}
	if (rc != MQTTASYNC_SUCCESS) {
		struct bridge_event failed = { .kind = BRIDGE_CONNECT_FAILED, .code = rc };
		snprintf(failed.text, sizeof(failed.text), "%s", MQTTAsync_strerror(rc));
		link_failed(link, &failed);
	}
}

void mqtt_link_on_event(struct mqtt_link *link, const struct bridge_event *event)
{
	if (link->state == MQTT_LINK_STOPPED)
		return;
	switch (event->kind) {
	case BRIDGE_CONNECTED:
		/* WAITING too: Paho may have connected by itself (link_connect). */
		if (link->state != MQTT_LINK_CONNECTING && link->state != MQTT_LINK_WAITING)
			return;
		sd_event_source_set_enabled(link->timer, SD_EVENT_OFF);
		link->state = MQTT_LINK_UP;
		link->backoff_ms = MQTT_LINK_BACKOFF_MIN_MS;
		link->reported_down = false;
		link->reported_cause = 0;
		link->probing = false;
		/* Not Paho's serverURI, which can name another broker of the
		 * list than the one it connected to. */
		if (link->ups++ > 0)
			log_info("mqtt: connected again, to %s", link->uris[link->current]);
		else
			log_info("mqtt: connected to %s", link->uris[link->current]);
		if (link->tls && !link->ssl.enableServerCertAuth)
			log_warning("mqtt: the broker's certificate was not verified (verify = no): whoever sits between "
			            "can read and change what is sent");
		snprintf(link->server, sizeof(link->server), "%s", link->uris[link->current]);
		if (link->events.up)
			link->events.up(link->events.userdata, link->server);
		break;
	case BRIDGE_CONNECT_FAILED:
		if (link->state != MQTT_LINK_CONNECTING)
			break;
		if (link->current + 1 < link->uri_count) {
			/* The next broker of the round, at once; the backoff is for
			 * when none of them answered. */
			log_debug("mqtt: %s: %s; trying %s", link->uris[link->current], event->text,
			          link->uris[link->current + 1]);
			link->current++;
			link_connect(link);
			break;
		}
		link_failed(link, event);
		break;
	case BRIDGE_LOST:
		if (link->state != MQTT_LINK_UP)
			return;
		log_warning("mqtt: connection to %s lost: %s; reconnecting, messages are kept meanwhile", link->server,
		            event->text);
		link->reported_down = true;
		if (link->events.down)
			link->events.down(link->events.userdata);
		/* A new round at once, from the first broker; the backoff grows
		 * only if none answers. */
		link->current = 0;
		link_connect(link);
		break;
	default:
		break;
	}
}

static char *copy_or_null(const char *text, bool *failed)
{
	if (!text)
		return NULL;
	char *copy = strdup(text);
	*failed = *failed || !copy;
	return copy;
}

int mqtt_link_new(sd_event *event, MQTTAsync client, struct mqtt_bridge *bridge,
                  const struct mqtt_link_options *options, const struct mqtt_link_events *events,
                  struct mqtt_link **out)
{
	int r = -ENOMEM;
	bool failed = false;
	struct mqtt_link *link = calloc(1, sizeof(*link));
	if (!link)
		return -ENOMEM;
	link->event = sd_event_ref(event);
	link->client = client;
	link->bridge = bridge;
	link->events = *events;
	link->version = options->version;
	link->keepalive_s = options->keepalive_s;
	link->clean_session = options->clean_session;
	link->will_qos = options->will_qos;
	link->tls = options->tls;
	pthread_mutex_init(&link->ssl_error_lock, NULL);
	link->backoff_ms = MQTT_LINK_BACKOFF_MIN_MS;
	link->random_state = (unsigned)getpid() ^ (unsigned)time(NULL);
	link->will_topic = copy_or_null(options->will_topic, &failed);
	link->will_payload = copy_or_null(options->will_payload, &failed);
	link->username = copy_or_null(options->username, &failed);
	link->password = copy_or_null(options->password, &failed);
	link->proxy = copy_or_null(options->proxy, &failed);
	if (link->tls) {
		link->ca_file = copy_or_null(options->ca_file, &failed);
		link->ca_dir = copy_or_null(options->ca_dir, &failed);
		link->cert_file = copy_or_null(options->cert_file, &failed);
		link->key_file = copy_or_null(options->key_file, &failed);
		link->ssl = (MQTTAsync_SSLOptions)MQTTAsync_SSLOptions_initializer;
		link->ssl.trustStore = link->ca_file;       /* both NULL: OpenSSL's default paths */
		link->ssl.CApath = link->ca_dir;
		link->ssl.keyStore = link->cert_file;
		link->ssl.privateKey = link->key_file;
		link->ssl.enableServerCertAuth = options->verify;
		link->ssl.verify = options->verify;         /* the host name, after the handshake */
		link->ssl.ssl_error_cb = on_ssl_error;
		link->ssl.ssl_error_context = link;
		if (!failed) {
			r = tls_probe_new(event, on_probe_done, link, &link->probe);
			if (r < 0)
				goto fail;
			r = -ENOMEM;
		}
	}
	link->uris = calloc(options->uri_count + 1, sizeof(*link->uris));
	if (failed || !link->uris || options->uri_count == 0)
		goto fail;
	for (size_t i = 0; i < options->uri_count; i++) {
		link->uris[i] = strdup(options->uris[i]);
		if (!link->uris[i])
			goto fail;
		link->uri_count++;
	}
	snprintf(link->server, sizeof(link->server), "%s", link->uris[0]);
	r = sd_event_add_time(event, &link->timer, CLOCK_MONOTONIC, 0, 0, on_timer, link);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(link->timer, SD_EVENT_OFF);
	*out = link;
	return 0;
fail:
	mqtt_link_free(link);
	return r;
}

void mqtt_link_free(struct mqtt_link *link)
{
	if (!link)
		return;
	tls_probe_free(link->probe);
	sd_event_source_disable_unref(link->timer);
	sd_event_unref(link->event);
	for (size_t i = 0; i < link->uri_count; i++)
		free(link->uris[i]);
	free(link->uris);
	free(link->will_topic);
	free(link->will_payload);
	free(link->username);
	free(link->proxy);
	free(link->ca_file);
	free(link->ca_dir);
	free(link->cert_file);
	free(link->key_file);
	pthread_mutex_destroy(&link->ssl_error_lock);
	if (link->password) {
		/* Not left behind in freed memory. */
		explicit_bzero(link->password, strlen(link->password));
		free(link->password);
	}
	free(link);
}

void mqtt_link_start(struct mqtt_link *link)
{
	if (link->state != MQTT_LINK_IDLE)
		return;
	log_info("mqtt: connecting to %s%s%s%s", link->uris[0], link->uri_count > 1 ? " (and the others listed)" : "",
	         link->proxy ? " through the HTTP proxy " : "", link->proxy ? link->proxy : "");
	link_connect(link);
}

void mqtt_link_stop(struct mqtt_link *link)
{
	link->state = MQTT_LINK_STOPPED;
	sd_event_source_set_enabled(link->timer, SD_EVENT_OFF);
}

enum mqtt_link_state mqtt_link_state(const struct mqtt_link *link)
{
	return link->state;
}

uint64_t mqtt_link_reconnects(const struct mqtt_link *link)
{
	return link->ups > 0 ? link->ups - 1 : 0;
}

const char *mqtt_link_server(const struct mqtt_link *link)
{
	return link->server;
}
