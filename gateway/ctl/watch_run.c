/* watch_run.c — one run of `tryggctl watch` (watch_internal.h): connect
 * to the broker, subscribe to PREFIX/D/G/#, show each message, and wait
 * for the end.
 *
 * The subscription is at QoS 1 with a clean session, so the watch leaves
 * nothing behind on the broker, under a client id of its own (never the
 * gateway's, which would throw the gateway off).  Once connected, Paho's
 * automatic reconnect brings the connection back by itself; the reading
 * numbers start afresh then, since what passed meanwhile is the watch's
 * own loss and not the gateway's.  A first connect that fails ends the run.
 *
 * Threads: Paho calls the callbacks below on its own thread, one at a
 * time; each message is printed there, under run->lock, so a slow output
 * slows the subscription instead of filling memory.  The main thread only
 * waits (poll) for the end: the count reached, the time up, SIGINT or
 * SIGTERM, a failure the callbacks report through a pipe; on a terminal it
 * also prints the summary when Enter is pressed.  struct watch_run, on
 * watch_run()'s stack, owns the view, the pipe and the Paho client, and
 * outlives every callback (MQTTAsync_destroy() is called before it goes). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "common.h"
#include "topic.h"
#include "watch.h"
#include "watch_internal.h"

#define COMMAND WATCH_COMMAND
#define CONNECT_TIMEOUT_S 10
#define DISCONNECT_TIMEOUT_MS 1000
#define SUBSCRIBE_QOS 1

struct watch_run {
	pthread_mutex_t lock;        /* everything below that a callback touches */
	struct watch_view view;
	FILE *out;
	bool json;
	uint64_t count;              /* stop after this many messages; 0: no limit */
	uint64_t received;
	char *filter;                /* PREFIX/D/G/# */
	int version;
	MQTTAsync client;
	int wake[2];                 /* a callback tells main that the run is done */
	bool done;
	int status;
	bool connected_once;
	bool lost;                   /* lost since the last connect: said once */
};

static int64_t wall_now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The run is over with status; with run->lock held.  The first end wins. */
static void finish_locked(struct watch_run *run, int status)
{
	if (run->done)
		return;
	run->done = true;
	run->status = status;
	ssize_t written = write(run->wake[1], "x", 1);
	(void)written;   /* a full pipe already wakes main */
}

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
		                                       wall_now_ms(), run->out);
		run->received++;
		if (r < 0) {
			ctl_error(COMMAND, "cannot show a message: %s", strerror(-r));
			finish_locked(run, ctl_status_of_error(r));
		} else if (fflush(run->out) != 0 || ferror(run->out)) {
			/* Said here, with the error as it was; what is left in the
			 * buffer cannot be written either. */
			int error = errno ? errno : EIO;
			__fpurge(run->out);
			clearerr(run->out);
			if (error == EPIPE) {
				finish_locked(run, 0);   /* the reader is gone (| head): done */
			} else {
				ctl_error(COMMAND, "cannot write the output: %s", strerror(error));
				finish_locked(run, EX_IOERR);
			}
		} else if (run->count && run->received >= run->count) {
			finish_locked(run, 0);
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
		finish_locked(run, EX_UNAVAILABLE);
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
	if (run->version == MQTTVERSION_5) {
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
			finish_locked(run, EX_UNAVAILABLE);
		}
	} else if (!run->done && run->connected_once) {
		ctl_error(COMMAND, "connected again; watching %s", run->filter);
	}
	run->connected_once = true;
	run->lost = false;
	pthread_mutex_unlock(&run->lock);
}

static void connect_failed(struct watch_run *run, const char *why)
{
	pthread_mutex_lock(&run->lock);
	/* Once connected, Paho goes on trying by itself; only the first
	 * connect ends the run. */
	if (!run->done && !run->connected_once) {
		ctl_error(COMMAND, "cannot connect to the broker: %s", why);
		finish_locked(run, EX_UNAVAILABLE);
	}
	pthread_mutex_unlock(&run->lock);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	connect_failed(context, response && response->message ? response->message
	                        : MQTTAsync_strerror(response ? response->code : MQTTASYNC_FAILURE));
}

static void on_connect_failure5(void *context, MQTTAsync_failureData5 *response)
{
	connect_failed(context, !response ? MQTTAsync_strerror(MQTTASYNC_FAILURE)
	                        : response->message ? response->message
	                        : response->reasonCode ? MQTTReasonCode_toString(response->reasonCode)
	                                               : MQTTAsync_strerror(response->code));
}

/* ---- the run ------------------------------------------------------------------------ */

/* A client id of its own, never the gateway's (the broker would throw the
 * gateway off), within the 23 characters every MQTT 3.1.1 broker takes. */
static void make_client_id(char id[32])
{
	uint32_t random = 0;
	if (getrandom(&random, sizeof(random), GRND_NONBLOCK) != (ssize_t)sizeof(random))
		random = (uint32_t)monotonic_ms();
	snprintf(id, 32, "tryggctl-watch-%08" PRIx32, random ^ (uint32_t)getpid());
}

static int connect_broker(struct watch_run *run, const struct watch_target *target)
{
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
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_connect(run->client, chosen);
	if (rc != MQTTASYNC_SUCCESS) {
		ctl_error(COMMAND, "cannot connect to %s: %s", target->uris[0], MQTTAsync_strerror(rc));
		return EX_UNAVAILABLE;
	}
	return 0;
}

static void disconnect_broker(struct watch_run *run)
{
	if (!run->client)
		return;
	if (MQTTAsync_isConnected(run->client)) {
		MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
		options.timeout = DISCONNECT_TIMEOUT_MS;
		if (MQTTAsync_disconnect(run->client, &options) == MQTTASYNC_SUCCESS)
			for (int waited = 0; waited < DISCONNECT_TIMEOUT_MS && MQTTAsync_isConnected(run->client); waited += 10)
				usleep(10000);
	}
	MQTTAsync_destroy(&run->client);
}

/* On a terminal: the summary when a line is typed.  false at the end of
 * the input (stop listening). */
static bool read_keyboard(struct watch_run *run, int64_t now_ms)
{
	char buffer[64];
	ssize_t got = read(STDIN_FILENO, buffer, sizeof(buffer));
	if (got <= 0)
		return got < 0 && (errno == EINTR || errno == EAGAIN);
	if (memchr(buffer, '\n', (size_t)got)) {
		pthread_mutex_lock(&run->lock);
		if (!run->done) {
			watch_view_summary(&run->view, now_ms, run->out);
			fflush(run->out);
		}
		pthread_mutex_unlock(&run->lock);
	}
	return true;
}

/* Wait for the end: done by a callback, a signal, the time up. */
static void wait_for_end(struct watch_run *run, int signals, int64_t timeout_ms, bool keyboard)
{
	int64_t deadline = timeout_ms ? monotonic_ms() + timeout_ms : 0;
	struct pollfd fds[3] = {
		{ .fd = run->wake[0], .events = POLLIN },
		{ .fd = signals, .events = POLLIN },
		{ .fd = keyboard ? STDIN_FILENO : -1, .events = POLLIN },
	};
	for (;;) {
		pthread_mutex_lock(&run->lock);
		bool done = run->done;
		int64_t left = deadline ? deadline - monotonic_ms() : -1;
		if (!done && deadline && left <= 0) {
			if (run->count && run->received < run->count) {
				ctl_error(COMMAND, "%" PRIu64 " of %" PRIu64 " messages within the time given", run->received,
				          run->count);
				finish_locked(run, EX_TEMPFAIL);
			} else {
				finish_locked(run, 0);
			}
			done = true;
		}
		pthread_mutex_unlock(&run->lock);
		if (done)
			return;

		int ready = poll(fds, 3, left < 0 ? -1 : left > INT32_MAX ? INT32_MAX : (int)left);
		if (ready < 0 && errno != EINTR) {
			pthread_mutex_lock(&run->lock);
			ctl_error(COMMAND, "cannot wait: %s", strerror(errno));
			finish_locked(run, EX_OSERR);
			pthread_mutex_unlock(&run->lock);
		}
		if (ready <= 0)
			continue;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo info;
			if (read(signals, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
				pthread_mutex_lock(&run->lock);
				finish_locked(run, 0);
				pthread_mutex_unlock(&run->lock);
			}
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
			if (!read_keyboard(run, wall_now_ms()))
				fds[2].fd = -1;
		/* fds[0]: the run is done; seen at the top. */
	}
}

int watch_run(const struct watch_target *target, bool json, uint64_t count, int64_t timeout_ms)
{
	struct watch_run run = { .out = stdout, .json = json, .count = count, .version = target->version,
	                         .wake = { -1, -1 } };
	char *status_topic = NULL;
	int signals = -1, status = 0;
	sigset_t mask, previous;
	bool terminal = isatty(STDOUT_FILENO);
	const char *term = getenv("TERM");
	bool color = !json && terminal && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
	bool keyboard = !json && terminal && isatty(STDIN_FILENO);

	pthread_mutex_init(&run.lock, NULL);
	/* PREFIX/D/G/status, as tryggd names it, less its last level. */
	int r = topic_gateway(target->prefix, &target->identity, TOPIC_STATUS, &status_topic);
	if (r == -EINVAL) {
		pthread_mutex_destroy(&run.lock);
		return ctl_usage_error(COMMAND, "the prefix, district and gateway must each give a topic level: not "
		                       "empty, no '+', '#' or control character, and no '/' in the district or gateway");
	}
	if (r == 0) {
		status_topic[strlen(status_topic) - strlen("/status")] = '\0';
		if (asprintf(&run.filter, "%s/#", status_topic) < 0) {
			run.filter = NULL;
			r = -ENOMEM;
		}
	}
	if (r == 0)
		r = watch_view_init(&run.view, status_topic, color);
	for (size_t i = 0; r == 0 && i < target->sensor_count; i++)
		r = watch_view_add_sensor(&run.view, target->sensors[i]);
	if (r < 0) {
		ctl_error(COMMAND, "cannot start: %s", strerror(-r));
		status = ctl_status_of_error(r);
		goto out;
	}

	/* SIGINT and SIGTERM through a descriptor, blocked before Paho makes
	 * its threads so that they inherit the mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, &previous);
	signals = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (signals < 0 || pipe2(run.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ctl_error(COMMAND, "cannot start: %s", strerror(errno));
		status = EX_OSERR;
		goto out;
	}
	/* Line by line, also into a pipe: a script sees each message as it
	 * comes.  A reader that goes away (| head) is an end, not a signal. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	fprintf(stderr, "%s %s: watching %s on %s%s%s\n", CTL_PROGRAM, COMMAND, run.filter, target->uris[0],
	        target->uri_count > 1 ? " (and the other brokers listed)" : "",
	        keyboard ? "; Enter for a summary, Ctrl-C to stop" : "");
	status = connect_broker(&run, target);
	if (status == 0) {
		wait_for_end(&run, signals, timeout_ms, keyboard);
		pthread_mutex_lock(&run.lock);
		status = run.status;
		pthread_mutex_unlock(&run.lock);
	}
	disconnect_broker(&run);
	/* Paho's threads are gone: nothing else touches the run. */
	if (keyboard && status == 0)
		watch_view_summary(&run.view, wall_now_ms(), stdout);

out:
	if (signals >= 0) {
		close(signals);
		pthread_sigmask(SIG_SETMASK, &previous, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (run.wake[i] >= 0)
			close(run.wake[i]);
	watch_view_free(&run.view);
	free(run.filter);
	free(status_topic);
	pthread_mutex_destroy(&run.lock);
	return status;
}
