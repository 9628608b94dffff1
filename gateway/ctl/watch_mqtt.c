/* watch_mqtt.c — the broker's side of a `tryggctl watch` run
 * (watch_internal.h): the Paho client, its callbacks, and the connection
 * with everything [mqtt] says about it.
 *
 * The subscription is at QoS 1 with a clean session, so the watch leaves
 * nothing behind on the broker, under a client id of its own (never the
 * gateway's, which would throw the gateway off).  Once connected, Paho's
 * automatic reconnect brings the connection back by itself; the reading
 * numbers start afresh then, since what passed meanwhile is the watch's
 * own loss and not the gateway's.  A first connect that fails ends the run.
 *
 * With -c, the watch connects as tryggd does: the user name, the password
 * from password_file (read at start, zeroed when freed, never shown), TLS
 * with the CA, client certificate and key and the verify switch, and the
 * proxy, or none whatever the environment says.  Paho's words for a failed
 * TLS connect say little, so then the handshake is tried once more by
 * tls_probe_run() (mqtt_tls_probe.h), which names what is wrong.
 *
 * Threads: Paho calls the callbacks below on its own thread, one at a
 * time; each message is printed there, under run->lock, so a slow output
 * slows the subscription instead of filling memory. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "common.h"
#include "credentials.h"
#include "mqtt_reason.h"
#include "mqtt_tls_probe.h"
#include "watch.h"
#include "watch_internal.h"

#define COMMAND WATCH_COMMAND
#define CONNECT_TIMEOUT_S 10
#define DISCONNECT_TIMEOUT_MS 1000
#define SUBSCRIBE_QOS 1

/* ---- Paho's callbacks (its thread) ------------------------------------------------ */

static int on_message(void *context, char *topic, int topic_length, MQTTAsync_message *message)
{
	struct watch_run *run = context;
	(void)topic_length;   /* Paho ends the topic with a NUL either way */
	pthread_mutex_lock(&run->lock);
	if (!run->done) {
		size_t length = message->payloadlen > 0 ? (size_t)message->payloadlen : 0;
		bool retained = message->retained != 0;
		int r = run->json ? watch_json_line(topic, message->payload, length, retained, run->out)
		                  : watch_view_message(&run->view, topic, message->payload, length, retained,
		                                       watch_wall_ms(), run->out);
		run->received++;
		if (r < 0) {
			ctl_error(COMMAND, "cannot show a message: %s", strerror(-r));
			watch_finish_locked(run, ctl_status_of_error(r));
		} else if (fflush(run->out) != 0 || ferror(run->out)) {
			/* Said here, with the error as it was; what is left in the
			 * buffer cannot be written either. */
			int error = errno ? errno : EIO;
			__fpurge(run->out);
			clearerr(run->out);
			if (error == EPIPE) {
				watch_finish_locked(run, 0);   /* the reader is gone (| head): done */
			} else {
				ctl_error(COMMAND, "cannot write the output: %s", strerror(error));
				watch_finish_locked(run, EX_IOERR);
			}
		} else if (run->count && run->received >= run->count) {
			watch_finish_locked(run, 0);
		}
	}
	pthread_mutex_unlock(&run->lock);
	MQTTAsync_freeMessage(&message);
	MQTTAsync_free(topic);
	return 1;
}

static void on_lost(void *context, char *cause)
{
	struct watch_run *run = context;
	pthread_mutex_lock(&run->lock);
	if (!run->done && !run->lost) {
		run->lost = true;
		ctl_error(COMMAND, "lost the connection to the broker%s%s; connecting again (readings that pass "
		          "meanwhile are not seen, and not counted as missing)", cause ? ": " : "", cause ? cause : "");
		/* Numbers that pass while the watch is away are its own loss,
		 * not the gateway's. */
		watch_seq_init(&run->view.seq);
	}
	pthread_mutex_unlock(&run->lock);
}

static void subscribe_failed(struct watch_run *run, const char *why)
{
	pthread_mutex_lock(&run->lock);
	if (!run->done) {
		ctl_error(COMMAND, "the broker refused the subscription to %s%s%s", run->filter, why ? ": " : "",
		          why ? why : "");
		watch_finish_locked(run, EX_UNAVAILABLE);
	}
	pthread_mutex_unlock(&run->lock);
}

static void on_subscribed(void *context, MQTTAsync_successData *response)
{
	/* Granted QoS 0x80 is the broker's no. */
	if (response && response->alt.qos == 0x80)
		subscribe_failed(context, NULL);
}

static void on_subscribed5(void *context, MQTTAsync_successData5 *response)
{
	if (response && response->reasonCode >= 0x80)
		subscribe_failed(context, MQTTReasonCode_toString(response->reasonCode));
}

static void on_subscribe_failure(void *context, MQTTAsync_failureData *response)
{
	subscribe_failed(context, response && response->message ? response->message : NULL);
}

static void on_subscribe_failure5(void *context, MQTTAsync_failureData5 *response)
{
	subscribe_failed(context, response ? (response->message ? response->message
	                                                         : MQTTReasonCode_toString(response->reasonCode))
	                                   : NULL);
}

/* Connected, the first time or again: subscribe (a clean session
 * remembers no subscription). */
static void on_connected(void *context, char *cause)
{
	struct watch_run *run = context;
	(void)cause;
	MQTTAsync_responseOptions response = MQTTAsync_responseOptions_initializer;
	if (run->target->version == MQTTVERSION_5) {
		response.onSuccess5 = on_subscribed5;
		response.onFailure5 = on_subscribe_failure5;
	} else {
		response.onSuccess = on_subscribed;
		response.onFailure = on_subscribe_failure;
	}
	response.context = run;
	int rc = MQTTAsync_subscribe(run->client, run->filter, SUBSCRIBE_QOS, &response);

	pthread_mutex_lock(&run->lock);
	if (rc != MQTTASYNC_SUCCESS) {
		if (!run->done) {
			ctl_error(COMMAND, "cannot subscribe to %s: %s", run->filter, MQTTAsync_strerror(rc));
			watch_finish_locked(run, EX_UNAVAILABLE);
		}
	} else if (!run->done && run->connected_once) {
		ctl_error(COMMAND, "connected again; watching %s", run->filter);
	}
	run->connected_once = true;
	run->lost = false;
	pthread_mutex_unlock(&run->lock);
}

/* The first connect failed: code > 0 is the broker's refusal, else Paho's
 * reason, with OpenSSL's when it gave one. */
static void connect_failed(struct watch_run *run, int code, const char *why)
{
	pthread_mutex_lock(&run->lock);
	/* Once connected, Paho goes on trying by itself; only the first
	 * connect ends the run. */
	if (!run->done && !run->connected_once) {
		char text[300];
		if (code > 0)
			mqtt_reason_refusal(code, "the watch", false, text, sizeof(text));
		else
			mqtt_reason_failure(why, run->ssl_error, text, sizeof(text));
		ctl_error(COMMAND, "cannot connect to the broker: %s", text);
		run->refused = code > 0;
		run->connect_failed = true;
		watch_finish_locked(run, EX_UNAVAILABLE);
	}
	pthread_mutex_unlock(&run->lock);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	int code = response ? response->code : MQTTASYNC_FAILURE;
	connect_failed(context, code, response && response->message ? response->message : MQTTAsync_strerror(code));
}

static void on_connect_failure5(void *context, MQTTAsync_failureData5 *response)
{
	int code = !response ? MQTTASYNC_FAILURE : response->reasonCode >= 0x80 ? (int)response->reasonCode
	                                                                        : response->code;
	connect_failed(context, code, response && response->message ? response->message : MQTTAsync_strerror(code));
}

/* Paho's thread: OpenSSL's error lines, "…:error:0A000086:SSL
 * routines:FUNCTION:REASON:FILE:LINE:", of which the reason is kept. */
static int on_ssl_error(const char *line, size_t length, void *context)
{
	struct watch_run *run = context;
	char reason[sizeof(run->ssl_error)];
	if (!mqtt_reason_openssl(line, length, reason, sizeof(reason)))
		return 0;
	pthread_mutex_lock(&run->lock);
	snprintf(run->ssl_error, sizeof(run->ssl_error), "%s", reason);
	pthread_mutex_unlock(&run->lock);
	return 0;
}

/* ---- connecting ------------------------------------------------------------------- */

/* A client id of its own, never the gateway's (the broker would throw the
 * gateway off), within the 23 characters every MQTT 3.1.1 broker takes. */
static void make_client_id(char id[32])
{
	uint32_t random = 0;
	if (getrandom(&random, sizeof(random), GRND_NONBLOCK) != (ssize_t)sizeof(random))
		random = (uint32_t)watch_wall_ms();
	snprintf(id, 32, "tryggctl-watch-%08" PRIx32, random ^ (uint32_t)getpid());
}

/* Paho reads http_proxy (tcp, mqtt, ws) or https_proxy (ssl, mqtts, wss)
 * from the environment on every connect unless it is given a proxy.  With
 * -c the watch goes where tryggd goes: through [mqtt] proxy or none. */
static void ignore_environment_proxy(const struct watch_target *target)
{
	const char *name = target->tls ? "https_proxy" : "http_proxy";
	if (target->environment_proxy || target->proxy || !getenv(name))
		return;
	ctl_error(COMMAND, "%s in the environment is not used: tryggd uses only [mqtt] proxy", name);
	unsetenv(name);
}

int watch_connect(struct watch_run *run)
{
	const struct watch_target *target = run->target;
	if (target->password_file) {
		int r = credential_read(target->password_file, &run->password);
		if (r < 0) {
			ctl_error(COMMAND, "cannot read the password from %s: %s", target->password_file,
			          credential_strerror(r));
			return r == -EACCES || r == -EPERM ? EX_NOPERM : EX_NOINPUT;
		}
	}
	ignore_environment_proxy(target);

	char client_id[32];
	make_client_id(client_id);
	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
	create.MQTTVersion = target->version;
	int rc = MQTTAsync_createWithOptions(&run->client, target->uris[0], client_id, MQTTCLIENT_PERSISTENCE_NONE,
	                                     NULL, &create);
	if (rc != MQTTASYNC_SUCCESS) {
		run->client = NULL;
		ctl_error(COMMAND, "cannot use %s: %s", target->uris[0], MQTTAsync_strerror(rc));
		return EX_USAGE;
	}
	rc = MQTTAsync_setCallbacks(run->client, run, on_lost, on_message, NULL);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_setConnected(run->client, run, on_connected);

	MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions options5 = MQTTAsync_connectOptions_initializer5;
	bool v5 = target->version == MQTTVERSION_5;
	MQTTAsync_connectOptions *chosen = v5 ? &options5 : &options;
	if (v5) {
		options5.cleanstart = 1;
		options5.onFailure5 = on_connect_failure5;
	} else {
		options.cleansession = 1;
		options.MQTTVersion = MQTTVERSION_3_1_1;
		options.onFailure = on_connect_failure;
	}
	chosen->keepAliveInterval = target->keepalive_s;
	chosen->connectTimeout = CONNECT_TIMEOUT_S;
	chosen->automaticReconnect = 1;
	chosen->minRetryInterval = 1;
	chosen->maxRetryInterval = 5;
	chosen->serverURIs = target->uris;
	chosen->serverURIcount = (int)target->uri_count;
	chosen->context = run;
	chosen->username = target->username;
	chosen->password = run->password;
	/* Paho speaks plain HTTP CONNECT to the proxy for both. */
	chosen->httpProxy = target->proxy;
	chosen->httpsProxy = target->proxy;
	if (target->tls) {
		run->ssl = (MQTTAsync_SSLOptions)MQTTAsync_SSLOptions_initializer;
		run->ssl.trustStore = target->ca_file;       /* both NULL: OpenSSL's default paths */
		run->ssl.CApath = target->ca_dir;
		run->ssl.keyStore = target->cert_file;
		run->ssl.privateKey = target->key_file;
		run->ssl.enableServerCertAuth = target->verify;
		run->ssl.verify = target->verify;            /* the host name, after the handshake */
		run->ssl.ssl_error_cb = on_ssl_error;
		run->ssl.ssl_error_context = run;
		chosen->ssl = &run->ssl;
		if (!target->verify)
			ctl_error(COMMAND, "the broker's certificate is not verified (verify = no)");
	}
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_connect(run->client, chosen);
	if (rc != MQTTASYNC_SUCCESS) {
		ctl_error(COMMAND, "cannot connect to %s: %s", target->uris[0], MQTTAsync_strerror(rc));
		return EX_UNAVAILABLE;
	}
	return 0;
}

void watch_explain_failure(struct watch_run *run)
{
	const struct watch_target *target = run->target;
	/* A refusal says what it is; through a proxy the probe cannot go. */
	if (!run->connect_failed || run->refused || !target->tls || target->proxy)
		return;
	struct tls_probe_settings settings = {
		.uris = (const char *const *)target->uris,
		.uri_count = target->uri_count,
		.ca_file = target->ca_file,
		.ca_dir = target->ca_dir,
		.cert_file = target->cert_file,
		.key_file = target->key_file,
		.verify = target->verify,
	};
	struct tls_finding finding;
	tls_probe_run(&settings, -1, &finding);
	if (finding.text[0])
		ctl_error(COMMAND, "TLS: %s", finding.text);
}

void watch_disconnect(struct watch_run *run)
{
	if (run->client) {
		if (MQTTAsync_isConnected(run->client)) {
			MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
			options.timeout = DISCONNECT_TIMEOUT_MS;
			if (MQTTAsync_disconnect(run->client, &options) == MQTTASYNC_SUCCESS)
				for (int waited = 0; waited < DISCONNECT_TIMEOUT_MS && MQTTAsync_isConnected(run->client);
				     waited += 10)
					usleep(10000);
		}
		MQTTAsync_destroy(&run->client);
	}
	credential_free(run->password);
	run->password = NULL;
}
