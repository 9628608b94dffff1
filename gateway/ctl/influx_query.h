/* influx_query.h — InfluxDB 1.x POST /query for tryggctl: one libcurl easy
 * handle with every option set, answers of bounded size, the server's
 * version (X-Influxdb-Version), and the result of one statement; and the
 * quoting of InfluxQL, which both write their statements with.
 *
 * `tryggctl setup-influx` (setup_influx*.c) and `tryggctl report`
 * (report_query.c) both ask through it.  What differs between them is in
 * struct influx_options: db= and epoch=ms, the credentials (user name and
 * password, or an InfluxDB 2 token), the limit on an answer, and the words
 * of the messages, which each command keeps as its own.
 *
 * Ownership: influx_open() copies struct influx_options into the link; the
 * strings it points to are borrowed and must outlive the link (the URL
 * shown in messages too).  The link owns the easy handle, its header list
 * and the URL it posts to, all freed by influx_close().  influx_query()
 * hands the JSON of a good answer to its caller. */
#ifndef TRYGGCTL_INFLUX_QUERY_H
#define TRYGGCTL_INFLUX_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

struct influx_options {
	const char *command;                   /* the subcommand, for ctl_error() */
	const char *url;                       /* base URL, without a trailing '/'; "/query" is added */
	const char *shown_url;                 /* the same without credentials, for messages */
	const char *database;                  /* db= with each statement; NULL: none */
	bool epoch_ms;                         /* epoch=ms: times as Unix milliseconds */
	const char *token;                     /* Authorization: Token (InfluxDB 2); NULL: none */
	const char *user, *password;           /* HTTP Basic when user is set (and no token); password NULL: "" */
	const char *ca_file;                   /* NULL: the system's */
	bool insecure;                         /* no check of the certificate and the host name */
	bool proxy_given;                      /* proxy (NULL: none) whatever the environment says */
	const char *proxy;
	long timeout_s, connect_timeout_s;
	bool compressed;                       /* ask for a compressed answer */
	size_t answer_max;                     /* bytes, decompressed; a longer answer is -EMSGSIZE */
	/* The words of the messages. */
	const char *server;                    /* "cannot reach SERVER at URL", "SERVER refused STATEMENT" */
	const char *dialect;                   /* "URL answered HTTP 500, not as DIALECT does" */
	const char *not_found_hint;            /* after "answered HTTP 404", with its leading space */
	const char *refused;                   /* what HTTP 401 refused: "the user name and password", … */
	bool forbidden_refuses;                /* HTTP 403 refuses the credentials as 401 does */
};

struct influx_link {
	CURL *easy;                            /* POST .../query, every option set */
	struct curl_slist *headers;
	char *query_url;
	struct influx_options options;
	char curl_error[CURL_ERROR_SIZE];
	char version[40];                      /* the last X-Influxdb-Version, or "" */
};

/* text in InfluxQL's quotes: '"' around an identifier (whatever it is: "in"
 * is a keyword), '\'' around a string; the quote and '\\' escaped with a
 * backslash. */
void influx_put_quoted(FILE *out, const char *text, char quote);

/* url without its user name and password, for messages: 0 with *shown
 * (curl_free() it) and, when user_given is not NULL, whether url named a
 * user; -EINVAL when libcurl cannot use url; -ENOMEM.  Says nothing. */
int influx_shown_url(const char *url, char **shown, bool *user_given);

/* The easy handle as options say.  0, or -ENOMEM (say nothing); the link
 * is to be closed either way. */
int influx_open(struct influx_link *link, const struct influx_options *options);
void influx_close(struct influx_link *link);

/* Run one statement.  0 with *result the statement's result inside *json,
 * which the caller cJSON_Delete()s; or a negative errno after saying why
 * on stderr: -EHOSTUNREACH no answer; -EACCES credentials refused; -EPROTO
 * an answer InfluxDB 1.x does not give; -EREMOTEIO the statement refused;
 * -ENOMEM; and, without a word for the caller to say its own,
 * -EMSGSIZE an answer longer than answer_max. */
int influx_query(struct influx_link *link, const char *statement, cJSON **json, const cJSON **result);

#endif
