/* mqtt_tls_probe.c — see mqtt_tls_probe.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mqtt_tls_probe.h"

/* After the handshake, how long to wait for the broker's word on tryggd's
 * certificate (TLS 1.3 sends it then, as an alert). */
#define ALERT_WAIT_MS 1000
#define HOST_SIZE 256

struct tls_probe {
	sd_event_source *source;
	int done_fd;                 /* the thread says it has finished */
	int stop_fd;                 /* the loop says stop */
	tls_probe_done done;
	void *userdata;

	pthread_t thread;
	bool running;
	struct tls_probe_settings settings;
	struct tls_finding finding;  /* the thread's until it has finished */
};

/* ---- one broker -------------------------------------------------------- */

struct target {
	char host[HOST_SIZE];        /* without an IPv6 address's brackets */
	char port[8];
	bool literal;                /* an IP address, not a name */
};

static bool parse_target(const char *uri, struct target *target)
{
	const char *host = strstr(uri, "://");
	if (!host)
		return false;
	host += 3;
	const char *end, *port;
	if (host[0] == '[') {
		host++;
		end = strchr(host, ']');
		if (!end || end[1] != ':')
			return false;
		port = end + 2;
	} else {
		end = strchr(host, ':');
		if (!end)
			return false;
		port = end + 1;
	}
	size_t length = (size_t)(end - host), digits = strspn(port, "0123456789");
	if (length == 0 || length >= sizeof(target->host) || digits == 0 || digits >= sizeof(target->port))
		return false;
	memcpy(target->host, host, length);
	target->host[length] = '\0';
	memcpy(target->port, port, digits);
	target->port[digits] = '\0';
	unsigned char address[16];
	target->literal = inet_pton(AF_INET, target->host, address) == 1 || inet_pton(AF_INET6, target->host, address) == 1;
	return true;
}

static int64_t now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Until fd is ready for events, the deadline passes (-ETIMEDOUT) or stop_fd
 * is readable (-ECANCELED). */
static int wait_for(int fd, short events, int stop_fd, int64_t deadline_ms)
{
	for (;;) {
		struct pollfd fds[2] = { { .fd = fd, .events = events }, { .fd = stop_fd, .events = POLLIN } };
		int64_t left = deadline_ms - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(fds, stop_fd >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (stop_fd >= 0 && (fds[1].revents & POLLIN))
			return -ECANCELED;
		if (n > 0)
			return 0;
	}
}

/* A connected, non-blocking socket, or a negative errno (-EHOSTUNREACH
 * stands for a name that does not resolve). */
static int connect_to(const struct target *target, int stop_fd)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *found = NULL;
	if (getaddrinfo(target->host, target->port, &hints, &found) != 0 || !found)
		return -EHOSTUNREACH;
	int r = -ECONNREFUSED;
	for (struct addrinfo *a = found; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			r = -errno;
			close(fd);
			continue;
		}
		r = wait_for(fd, POLLOUT, stop_fd, now_ms() + TLS_PROBE_TIMEOUT_MS);
		int error = 0;
		socklen_t length = sizeof(error);
		if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
			freeaddrinfo(found);
			return fd;
		}
		if (r == 0)
			r = -(error ? error : EIO);
		close(fd);
		if (r == -ECANCELED)
			break;
	}
	freeaddrinfo(found);
	return r;
}

/* The reason of OpenSSL's latest error, or NULL. */
static const char *openssl_reason(void)
{
	unsigned long error, last = 0;
	while ((error = ERR_get_error()))
		last = error;
	return last ? ERR_reason_error_string(last) : NULL;
}

/* A finding's words: cut to the buffer, as a log line may be. */
static void say(char *text, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void say(char *text, size_t size, const char *format, ...)
{
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(text, size, format, arguments);
	va_end(arguments);
}

/* An alert the broker sent about tryggd's certificate, or the handshake's
 * own failure, in words. */
static void say_refusal(const struct tls_probe_settings *settings, const char *reason, struct tls_finding *finding,
                        char *text, size_t size)
{
	bool alert = strstr(reason, "alert") != NULL;
	bool certificate = strstr(reason, "certificate") || strstr(reason, "unknown ca");
	finding->configuration = true;
	if (strstr(reason, "wrong version number") || strstr(reason, "packet length too long") ||
	    strstr(reason, "record layer failure"))
		say(text, size, "the broker does not speak TLS on this port (%s)", reason);
	else if (alert && certificate && !settings->cert_file)
		say(text, size, "the broker wants a client certificate: set cert_file and key_file (%s)", reason);
	else if (alert && certificate)
		say(text, size, "the broker turned tryggd's certificate (cert_file) down: %s", reason);
	else
		say(text, size, "the TLS handshake failed: %s", reason);
}

/* The names a certificate is issued for, "DNS:a, IP:b" or its CN. */
static void certificate_names(X509 *certificate, char *text, size_t size)
{
	text[0] = '\0';
	size_t used = 0;
	GENERAL_NAMES *names = X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && used + 1 < size; i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
		char ip[INET6_ADDRSTRLEN];
		int n = 0;
		const char *separator = used ? ", " : "";
		if (name->type == GEN_DNS)
			n = snprintf(text + used, size - used, "%s%s", separator,
			             (const char *)ASN1_STRING_get0_data(name->d.dNSName));
		else if (name->type == GEN_IPADD && ASN1_STRING_length(name->d.iPAddress) == 4 &&
		         inet_ntop(AF_INET, ASN1_STRING_get0_data(name->d.iPAddress), ip, sizeof(ip)))
			n = snprintf(text + used, size - used, "%s%s", separator, ip);
		else if (name->type == GEN_IPADD && ASN1_STRING_length(name->d.iPAddress) == 16 &&
		         inet_ntop(AF_INET6, ASN1_STRING_get0_data(name->d.iPAddress), ip, sizeof(ip)))
			n = snprintf(text + used, size - used, "%s%s", separator, ip);
		if (n > 0)
			used = used + (size_t)n < size ? used + (size_t)n : size - 1;
	}
	GENERAL_NAMES_free(names);
	if (used == 0 && X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, text,
	                                           (int)size) < 0)
		say(text, size, "no name at all");
	/* A hostile certificate's names end up in a log line. */
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static const char *trust_source(const struct tls_probe_settings *settings, char *text, size_t size)
{
	if (settings->ca_file && settings->ca_dir)
		say(text, size, "ca_file %s and ca_dir %s", settings->ca_file, settings->ca_dir);
	else if (settings->ca_file)
		say(text, size, "ca_file %s", settings->ca_file);
	else if (settings->ca_dir)
		say(text, size, "ca_dir %s", settings->ca_dir);
	else
		say(text, size, "the system's CA store");
	return text;
}

static SSL_CTX *make_context(const struct tls_probe_settings *settings)
{
	SSL_CTX *context = SSL_CTX_new(TLS_client_method());
	if (!context)
		return NULL;
	/* Any certificate is taken, so as to look at it afterwards. */
	SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
	if (settings->ca_file || settings->ca_dir)
		SSL_CTX_load_verify_locations(context, settings->ca_file, settings->ca_dir);
	else
		SSL_CTX_set_default_verify_paths(context);
	if (settings->cert_file) {
		SSL_CTX_use_certificate_chain_file(context, settings->cert_file);
		SSL_CTX_use_PrivateKey_file(context, settings->key_file ? settings->key_file : settings->cert_file,
		                            SSL_FILETYPE_PEM);
	}
	ERR_clear_error();
	return context;
}

/* Drives a non-blocking SSL operation to its end: 1, or 0 with *error set
 * (SSL_get_error's), or -ETIMEDOUT / -ECANCELED. */
static int drive(SSL *ssl, int fd, int stop_fd, int64_t deadline_ms, bool reading, int *error)
{
	char byte;
	for (;;) {
		int r = reading ? SSL_read(ssl, &byte, 1) : SSL_connect(ssl);
		if (r > 0)
			return 1;
		*error = SSL_get_error(ssl, r);
		short events = *error == SSL_ERROR_WANT_READ ? POLLIN : *error == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
		if (!events)
			return 0;
		int waited = wait_for(fd, events, stop_fd, deadline_ms);
		if (waited < 0)
			return waited;
	}
}

/* One broker: text stays empty when nothing is wrong. */
static void probe_one(const struct tls_probe_settings *settings, SSL_CTX *context, const char *uri, int stop_fd,
                      struct tls_finding *finding, char *text, size_t size)
{
	struct target target;
	text[0] = '\0';
	if (!parse_target(uri, &target))
		return;
	int fd = connect_to(&target, stop_fd);
	if (fd == -ECANCELED)
		return;
	if (fd == -EHOSTUNREACH) {
		say(text, size, "cannot find host %s", target.host);
		return;
	}
	if (fd < 0) {
		say(text, size, "cannot connect: %s", fd == -ETIMEDOUT ? "no answer" : strerror(-fd));
		return;
	}
	SSL *ssl = SSL_new(context);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		close(fd);
		return;
	}
	if (!target.literal)
		SSL_set_tlsext_host_name(ssl, target.host);
	ERR_clear_error();
	int error = 0;
	int r = drive(ssl, fd, stop_fd, now_ms() + TLS_PROBE_TIMEOUT_MS, false, &error);
	if (r == -ETIMEDOUT) {
		say(text, size, "no answer to the TLS handshake within %d s", TLS_PROBE_TIMEOUT_MS / 1000);
	} else if (r == 0) {
		const char *reason = openssl_reason();
		if (reason)
			say_refusal(settings, reason, finding, text, size);
		else
			say(text, size, "the broker closed the connection during the TLS handshake (does this port speak TLS?)");
	} else if (r == 1) {
		X509 *peer = SSL_get1_peer_certificate(ssl);
		long verified = SSL_get_verify_result(ssl);
		char names[160], source[256];
		if (settings->verify && verified != X509_V_OK) {
			finding->configuration = true;
			say(text, size, "the broker's certificate is not trusted: %s (checked against %s)",
			         X509_verify_cert_error_string(verified), trust_source(settings, source, sizeof(source)));
		} else if (settings->verify && peer && X509_check_host(peer, target.host, 0, 0, NULL) != 1 &&
		           X509_check_ip_asc(peer, target.host, 0) != 1) {
			finding->configuration = true;
			certificate_names(peer, names, sizeof(names));
			say(text, size, "the broker's certificate is for %s, not for %s (verify = yes checks the host name)",
			         names, target.host);
		} else {
			/* The broker's word on tryggd's certificate, if it has one. */
			ERR_clear_error();
			r = drive(ssl, fd, stop_fd, now_ms() + ALERT_WAIT_MS, true, &error);
			const char *reason = r == 0 ? openssl_reason() : NULL;
			if (reason)
				say_refusal(settings, reason, finding, text, size);
			else if (r == 0 && (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL))
				say(text, size, "the broker closed the connection right after the TLS handshake");
		}
		X509_free(peer);
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
}

void tls_probe_run(const struct tls_probe_settings *settings, int stop_fd, struct tls_finding *finding)
{
	memset(finding, 0, sizeof(*finding));
	SSL_CTX *context = make_context(settings);
	if (!context)
		return;
	size_t used = 0;
	for (size_t i = 0; i < settings->uri_count; i++) {
		char text[TLS_PROBE_TEXT_SIZE];
		probe_one(settings, context, settings->uris[i], stop_fd, finding, text, sizeof(text));
		if (!text[0])
			continue;
		int n = settings->uri_count > 1
		        ? snprintf(finding->text + used, sizeof(finding->text) - used, "%s%s: %s", used ? "; " : "",
		                   settings->uris[i], text)
		        : snprintf(finding->text, sizeof(finding->text), "%s", text);
		if (n < 0)
			break;
		used = used + (size_t)n < sizeof(finding->text) ? used + (size_t)n : sizeof(finding->text) - 1;
		if (used + 1 >= sizeof(finding->text))
			break;
	}
	SSL_CTX_free(context);
}

/* ---- the thread and the loop ------------------------------------------- */

static void *probe_main(void *userdata)
{
	struct tls_probe *probe = userdata;
	tls_probe_run(&probe->settings, probe->stop_fd, &probe->finding);
	uint64_t one = 1;
	(void)!write(probe->done_fd, &one, sizeof(one));
	return NULL;
}

static int on_done(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	struct tls_probe *probe = userdata;
	uint64_t value;
	(void)source;
	(void)revents;
	(void)!read(fd, &value, sizeof(value));
	if (!probe->running)
		return 0;
	pthread_join(probe->thread, NULL);
	probe->running = false;
	probe->done(probe->userdata, &probe->finding);
	return 0;
}

int tls_probe_new(sd_event *event, tls_probe_done done, void *userdata, struct tls_probe **out)
{
	int r;
	struct tls_probe *probe = calloc(1, sizeof(*probe));
	if (!probe)
		return -ENOMEM;
	probe->done = done;
	probe->userdata = userdata;
	probe->stop_fd = -1;
	probe->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	probe->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (probe->done_fd < 0 || probe->stop_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &probe->source, probe->done_fd, EPOLLIN, on_done, probe);
	if (r < 0)
		goto fail;
	*out = probe;
	return 0;
fail:
	tls_probe_free(probe);
	return r;
}

int tls_probe_start(struct tls_probe *probe, const struct tls_probe_settings *settings)
{
	if (probe->running)
		return -EBUSY;
	probe->settings = *settings;
	/* Signals are the loop's (signalfd), as on the sampling threads. */
	sigset_t all, saved;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	int r = -pthread_create(&probe->thread, NULL, probe_main, probe);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r < 0)
		return r;
	pthread_setname_np(probe->thread, "tryggd-tls");
	probe->running = true;
	return 0;
}

bool tls_probe_running(const struct tls_probe *probe)
{
	return probe->running;
}

void tls_probe_free(struct tls_probe *probe)
{
	if (!probe)
		return;
	if (probe->running) {
		uint64_t one = 1;
		(void)!write(probe->stop_fd, &one, sizeof(one));
		pthread_join(probe->thread, NULL);
	}
	sd_event_source_disable_unref(probe->source);
	if (probe->done_fd >= 0)
		close(probe->done_fd);
	if (probe->stop_fd >= 0)
		close(probe->stop_fd);
	free(probe);
}
