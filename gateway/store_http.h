/* store_http.h — HTTP requests to the store on libcurl's multi-socket
 * interface, driven by the sd-event loop: never a blocking call in the loop.
 *
 * One struct store_http holds one multi handle (its connection cache gives
 * keep-alive) for everyone who talks to the store: the forwarder writes, the
 * read-back queries.  Every request gets the store's TLS, proxy and timeout
 * settings from the [influx] config: a CA file and verification on by
 * default, a proxy only when configured (never from the environment).
 *
 * The client borrows the config, which must outlive it: in tryggd it is the
 * forwarder's own copy (store_forward.h), freed after the client.  The
 * caller keeps the request's url, body and headers alive until its
 * callback ran (or store_http_free()).  The callback gets the answer,
 * valid only during the call; the request is gone once it returns. */
#ifndef TRYGGD_STORE_HTTP_H
#define TRYGGD_STORE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "config.h"

/* Most of an answer's body kept; the rest is read and dropped. */
#define STORE_HTTP_BODY_MAX (256u * 1024u)

struct store_http;

struct store_http_result {
	bool transport_ok;           /* an HTTP answer came */
	const char *error;           /* !transport_ok: libcurl's reason */
	long status;
	const char *retry_after;     /* the Retry-After header, or NULL */
	const char *body;            /* NUL-terminated, at most STORE_HTTP_BODY_MAX */
	size_t body_length;
	bool body_cut;
};

struct store_http_request {
	const char *url;
	const char *body;            /* NULL: GET */
	size_t body_length;
	const struct curl_slist *headers;   /* or NULL */
	const char *user, *password; /* basic authentication, or NULL */
};

typedef void (*store_http_done)(void *userdata, const struct store_http_result *result);

int store_http_new(sd_event *event, const struct influx_config *config, struct store_http **out);
/* Requests under way are dropped without their callbacks. */
void store_http_free(struct store_http *http);

/* base (scheme, host, port and any path of its own) with path under it,
 * and the query made of pairs (key, value, key, value, ..., NULL), each
 * value URL-encoded so that no name can change the query.  *out is the
 * caller's to free().  0, -EINVAL (a URL libcurl refuses) or -ENOMEM. */
int store_http_url(const char *base, const char *path, const char *const *pairs, char **out);

/* Start a request; done(userdata, ...) is called from the loop when it
 * ends, never from within this call.  0, or -ENOMEM / -EIO. */
int store_http_start(struct store_http *http, const struct store_http_request *request,
                     store_http_done done, void *userdata);

/* Drop the requests started with userdata, without their callbacks: for a
 * user of the client that goes away before it (the read-back).  Call it
 * from anywhere, a callback included.  Returns how many were dropped. */
size_t store_http_cancel(struct store_http *http, const void *userdata);

#endif
