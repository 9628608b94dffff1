/* watch_run.c — one run of `tryggctl watch` (watch_internal.h): the topic
 * to subscribe to, the view or the JSON lines, and the wait for the end.
 *
 * The main thread only waits (poll) for the end: the count reached, the
 * time up, SIGINT or SIGTERM, or a failure the callbacks (watch_mqtt.c)
 * report through a pipe; on a terminal it also prints the summary when
 * Enter is pressed.  struct watch_run, on watch_run()'s stack, owns the
 * view, the pipe and the Paho client, and outlives every callback
 * (MQTTAsync_destroy() is called before it goes). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "topic.h"
#include "watch.h"
#include "watch_internal.h"

#define COMMAND WATCH_COMMAND

int64_t watch_wall_ms(void)
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

void watch_finish_locked(struct watch_run *run, int status)
{
	if (run->done)
		return;
	run->done = true;
	run->status = status;
	ssize_t written = write(run->wake[1], "x", 1);
	(void)written;   /* a full pipe already wakes main */
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
				watch_finish_locked(run, EX_TEMPFAIL);
			} else {
				watch_finish_locked(run, 0);
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
			watch_finish_locked(run, EX_OSERR);
			pthread_mutex_unlock(&run->lock);
		}
		if (ready <= 0)
			continue;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo info;
			if (read(signals, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
				pthread_mutex_lock(&run->lock);
				watch_finish_locked(run, 0);
				pthread_mutex_unlock(&run->lock);
			}
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
			if (!read_keyboard(run, watch_wall_ms()))
				fds[2].fd = -1;
		/* fds[0]: the run is done; seen at the top. */
	}
}

int watch_run(const struct watch_target *target, bool json, uint64_t count, int64_t timeout_ms)
{
	struct watch_run run = { .out = stdout, .json = json, .count = count, .target = target, .wake = { -1, -1 } };
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
	status = watch_connect(&run);
	if (status == 0) {
		wait_for_end(&run, signals, timeout_ms, keyboard);
		pthread_mutex_lock(&run.lock);
		status = run.status;
		pthread_mutex_unlock(&run.lock);
	}
	watch_disconnect(&run);
	/* Paho's threads are gone: nothing else touches the run. */
	watch_explain_failure(&run);
	if (keyboard && status == 0)
		watch_view_summary(&run.view, watch_wall_ms(), stdout);

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
