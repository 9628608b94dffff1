/* mqtt_tls_probe.h — why a TLS connection to the broker failed, found out
 * with a handshake of tryggd's own.
 *
 * Paho says "TCP/TLS connect failure" alike for a refused connection, a
 * port that does not speak TLS and a certificate issued for another host
 * (it checks the host name after the handshake, silently), and "socket
 * error" when the broker turns tryggd's certificate down.  So when a TLS
 * connect fails for a reason Paho does not name, the link asks the probe,
 * once an outage: on a thread of its own it connects to each broker in
 * turn, shakes hands with the same trust settings Paho was given (but
 * accepting any certificate, so as to look at it), and names the first
 * thing it finds wrong: the connection, the handshake, the chain of the
 * broker's certificate, its host names, or the broker's alert about
 * tryggd's certificate.  It sends no MQTT, so no password.
 *
 * Every wait is bounded (PROBE_TIMEOUT_MS per step) and can be cut short by
 * tls_probe_free(), so a stop never waits for it.  The finding comes back
 * on the loop, through an eventfd, to the done callback.
 *
 * The probe borrows the loop and every string it is given until it has
 * called done or been freed. */
#ifndef TRYGGD_MQTT_TLS_PROBE_H
#define TRYGGD_MQTT_TLS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#define TLS_PROBE_TIMEOUT_MS 5000
#define TLS_PROBE_TEXT_SIZE 300

struct tls_probe_settings {
	const char *const *uris;     /* ssl://, mqtts:// or wss:// HOST:PORT[/path] */
	size_t uri_count;
	const char *ca_file, *ca_dir;   /* both NULL: the system's store */
	const char *cert_file, *key_file;
	bool verify;                 /* the chain and the host name are judged */
};

struct tls_finding {
	/* What is wrong, for a log line: "ssl://h:8883: ..." (several brokers:
	 * each one's, joined by "; ").  Empty when nothing was found: the
	 * broker took tryggd's handshake this time. */
	char text[TLS_PROBE_TEXT_SIZE];
	/* Something a person must fix (a certificate, a CA, a host name), not
	 * a broker that is down. */
	bool configuration;
};

typedef void (*tls_probe_done)(void *userdata, const struct tls_finding *finding);

struct tls_probe;

int tls_probe_new(sd_event *event, tls_probe_done done, void *userdata, struct tls_probe **out);
/* Waits for a running probe's thread, which stops at once. */
void tls_probe_free(struct tls_probe *probe);

/* Starts a probe; -EBUSY while one runs. */
int tls_probe_start(struct tls_probe *probe, const struct tls_probe_settings *settings);
bool tls_probe_running(const struct tls_probe *probe);

/* The work itself, on the calling thread (for tests); stop_fd (or -1) cuts
 * it short when readable. */
void tls_probe_run(const struct tls_probe_settings *settings, int stop_fd, struct tls_finding *finding);

#endif
