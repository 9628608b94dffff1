/* sensor_worker.c — see sensor_worker.h.
 *
 * Under the lock: job (started, not yet picked up by the thread), running
 * (the thread is in sample()), finished (a result the loop has not taken).
 * The thread sets finished and then writes the eventfd; the loop takes the
 * result under the lock.  A count left on the eventfd by a result that
 * sensor_worker_wait() dropped, or that sensor_worker_finish() took first,
 * finds finished false and does nothing, so a result is handed over once
 * and only for the sample it belongs to. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sensor_worker.h"

struct sensor_worker {
	sd_event_source *source;
	int fd;                      /* eventfd: the thread's "done" */
	sensor_worker_done done;
	void *userdata;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;
	pthread_cond_t changed;      /* any of the flags below changed */
	/* under lock */
	bool job, running, finished, quit;
	/* The loop stopped waiting for the sample in flight: the thread closes
	 * the driver and frees the worker when (if) it comes back. */
	bool abandoned;
	const struct driver_ops *driver;
	void *state;
	int64_t now_ms;
	int result;
	struct sample sample;
};

/* What is left of a worker once its thread is gone or done with it. */
static void worker_release(struct sensor_worker *worker)
{
	if (worker->fd >= 0)
		close(worker->fd);
	pthread_cond_destroy(&worker->changed);
	pthread_mutex_destroy(&worker->lock);
	free(worker);
}

static void *worker_main(void *argument)
{
	struct sensor_worker *worker = argument;
	pthread_mutex_lock(&worker->lock);
	for (;;) {
		while (!worker->job && !worker->quit)
			pthread_cond_wait(&worker->changed, &worker->lock);
		if (worker->quit)
			break;   /* a job not yet picked up is dropped with the worker */
		worker->job = false;
		worker->running = true;
		const struct driver_ops *driver = worker->driver;
		void *state = worker->state;
		int64_t now = worker->now_ms;
		pthread_mutex_unlock(&worker->lock);

		struct sample sample = { 0 };
		int result = driver->sample(state, now, &sample);

		pthread_mutex_lock(&worker->lock);
		if (worker->abandoned) {
			pthread_mutex_unlock(&worker->lock);
			driver->close(state);
			worker_release(worker);
			return NULL;
		}
		worker->result = result;
		worker->sample = sample;
		worker->running = false;
		worker->finished = true;
		pthread_cond_broadcast(&worker->changed);
		uint64_t one = 1;
		(void)!write(worker->fd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&worker->lock);
	return NULL;
}

/* On the loop: hand a finished result to done(), once. */
static void worker_deliver(struct sensor_worker *worker)
{
	pthread_mutex_lock(&worker->lock);
	bool finished = worker->finished;
	worker->finished = false;
	int result = worker->result;
	struct sample sample = worker->sample;
	int64_t now = worker->now_ms;
	pthread_mutex_unlock(&worker->lock);
	if (finished)
		worker->done(worker->userdata, now, result, &sample);
}

/* On the loop: block until the thread is out of sample(); drop the result
 * or keep it for worker_deliver(). */
static void worker_settle(struct sensor_worker *worker, bool drop)
{
	pthread_mutex_lock(&worker->lock);
	while (worker->job || worker->running)
		pthread_cond_wait(&worker->changed, &worker->lock);
	if (drop)
		worker->finished = false;
	pthread_mutex_unlock(&worker->lock);
}

static int worker_on_done(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	(void)source;
	(void)revents;
	uint64_t count;
	(void)!read(fd, &count, sizeof(count));   /* non-blocking: nothing there is no harm */
	worker_deliver(userdata);
	return 0;
}

int sensor_worker_new(sd_event *event, sensor_worker_done done, void *userdata, struct sensor_worker **out)
{
	int r;
	struct sensor_worker *worker = calloc(1, sizeof(*worker));
	if (!worker)
		return -ENOMEM;
	worker->done = done;
	worker->userdata = userdata;
	pthread_mutex_init(&worker->lock, NULL);
	pthread_cond_init(&worker->changed, NULL);
	worker->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (worker->fd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &worker->source, worker->fd, EPOLLIN, worker_on_done, worker);
	if (r < 0)
		goto fail;
	/* Signals are the loop's (signalfd): a thread that left them open
	 * would take SIGTERM's default action for the whole process. */
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = -pthread_create(&worker->thread, NULL, worker_main, worker);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r < 0)
		goto fail;
	worker->thread_started = true;
	pthread_setname_np(worker->thread, "tryggd-sample");
	*out = worker;
	return 0;
fail:
	sensor_worker_free(worker);
	return r;
}

void sensor_worker_free(struct sensor_worker *worker)
{
	if (!worker)
		return;
	if (worker->thread_started) {
		pthread_mutex_lock(&worker->lock);
		worker->quit = true;
		pthread_cond_broadcast(&worker->changed);
		pthread_mutex_unlock(&worker->lock);
		/* A sample in flight finishes first: the driver must not be
		 * closed under it. */
		pthread_join(worker->thread, NULL);
	}
	sd_event_source_disable_unref(worker->source);
	worker_release(worker);
}

bool sensor_worker_abandon(struct sensor_worker *worker)
{
	if (!worker || !worker->thread_started)
		return false;
	pthread_t thread = worker->thread;
	pthread_mutex_lock(&worker->lock);
	bool in_flight = worker->running;
	if (in_flight) {
		/* The loop's source must not outlive the loop; the rest is the
		 * thread's once the lock is let go: it may free the worker at
		 * once, so nothing of it is touched after. */
		worker->source = sd_event_source_disable_unref(worker->source);
		worker->abandoned = true;
		worker->quit = true;
	}
	pthread_mutex_unlock(&worker->lock);
	if (!in_flight)
		return false;
	pthread_detach(thread);
	return true;
}

int sensor_worker_start(struct sensor_worker *worker, const struct driver_ops *driver, void *state,
                        int64_t now_ms)
{
	pthread_mutex_lock(&worker->lock);
	if (worker->job || worker->running || worker->finished) {
		pthread_mutex_unlock(&worker->lock);
		return -EBUSY;
	}
	worker->job = true;
	worker->driver = driver;
	worker->state = state;
	worker->now_ms = now_ms;
	pthread_cond_broadcast(&worker->changed);
	pthread_mutex_unlock(&worker->lock);
	return 0;
}

bool sensor_worker_busy(const struct sensor_worker *worker)
{
	struct sensor_worker *locked = (struct sensor_worker *)worker;
	pthread_mutex_lock(&locked->lock);
	bool busy = worker->job || worker->running;
	pthread_mutex_unlock(&locked->lock);
	return busy;
}

void sensor_worker_finish(struct sensor_worker *worker)
{
	worker_settle(worker, false);
	worker_deliver(worker);
}

void sensor_worker_wait(struct sensor_worker *worker)
{
	worker_settle(worker, true);
}
