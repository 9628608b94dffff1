/* influx_query.c — see influx_query.h: POST /query to InfluxDB 1.x (or to
 * InfluxDB 2's compatibility endpoint) for the tryggctl subcommands.
 *
 * Ownership: each answer's body and each request's form belong to
 * influx_query() and are freed before it returns; the JSON of a good
 * answer goes to its caller. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "credentials.h"
#include "influx_query.h"

void influx_put_quoted(FILE *out, const char *text, char quote)
{
	fputc(quote, out);
	for (; *text; text++) {
		if (*text == quote || *text == '\\')
			fputc('\\', out);
		fputc(*text, out);
	}
	fputc(quote, out);
}

int influx_shown_url(const char *url, char **shown, bool *user_given)
{
	CURLU *parsed = curl_url();
	if (!parsed)
		return -ENOMEM;
	char *user = NULL;
	bool usable = curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK;
	if (user_given)
		*user_given = usable && curl_url_get(parsed, CURLUPART_USER, &user, 0) == CURLUE_OK;
	curl_free(user);
	if (!usable || curl_url_set(parsed, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(parsed, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_get(parsed, CURLUPART_URL, shown, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		*shown = NULL;
	curl_url_cleanup(parsed);
	return *shown ? 0 : -EINVAL;
}

int influx_open(struct influx_link *link, const struct influx_options *options)
{
	*link = (struct influx_link){ .options = *options };
	link->easy = curl_easy_init();
	if (!link->easy || asprintf(&link->query_url, "%s/query", options->url) < 0) {
		link->query_url = NULL;
		return -ENOMEM;
	}
	CURL *easy = link->easy;
	curl_easy_setopt(easy, CURLOPT_URL, link->query_url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, options->timeout_s);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, options->connect_timeout_s);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, link->curl_error);
	if (options->compressed)
		curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	if (options->token) {
		char *header = NULL;
		if (asprintf(&header, "Authorization: Token %s", options->token) < 0)
			return -ENOMEM;
		link->headers = curl_slist_append(NULL, header);
		credential_free(header);
		if (!link->headers)
			return -ENOMEM;
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, link->headers);
	} else if (options->user) {
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(easy, CURLOPT_USERNAME, options->user);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, options->password ? options->password : "");
	}
	if (options->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, options->ca_file);
	if (options->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (options->proxy_given)
		curl_easy_setopt(easy, CURLOPT_PROXY, options->proxy ? options->proxy : "");
	return 0;
}

void influx_close(struct influx_link *link)
{
	curl_easy_cleanup(link->easy);
	curl_slist_free_all(link->headers);
	free(link->query_url);
	link->easy = NULL;
	link->headers = NULL;
	link->query_url = NULL;
}

/* ---- the answer ----------------------------------------------------------------------- */

struct answer {
	char *body;
	size_t length, capacity, max;
	bool too_large;              /* more than max came: the transfer was ended */
};

/* The data come decompressed already (compressed): max bounds what a small
 * gzip body can become, not only what crosses the network.  The buffer
 * doubles, up to max and its NUL, so that a long answer costs a few
 * copies rather than one per piece libcurl hands over. */
static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
	struct answer *answer = userdata;
	size_t length = size * count;
	answer->too_large = length > answer->max - answer->length;
	if (answer->too_large)
		return 0;   /* the transfer fails, and says so */
	size_t needed = answer->length + length + 1;
	if (needed > answer->capacity) {
		size_t capacity = answer->capacity < 4096 ? 4096 : answer->capacity;
		while (capacity < needed)
			capacity = capacity > (answer->max + 1) / 2 ? answer->max + 1 : 2 * capacity;
		char *grown = realloc(answer->body, capacity);
		if (!grown)
			return 0;
		answer->body = grown;
		answer->capacity = capacity;
	}
	memcpy(answer->body + answer->length, data, length);
	answer->length += length;
	answer->body[answer->length] = '\0';
	return length;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
	static const char name[] = "X-Influxdb-Version:";
	struct influx_link *link = userdata;
	size_t length = size * count, skip = sizeof(name) - 1;
	if (length > skip && strncasecmp(data, name, skip) == 0) {
		while (skip < length && (data[skip] == ' ' || data[skip] == '\t'))
			skip++;
		while (length > skip && isspace((unsigned char)data[length - 1]))
			length--;
		snprintf(link->version, sizeof(link->version), "%.*s", (int)(length - skip), data + skip);
	}
	return size * count;
}

/* "db=…&epoch=ms&q=…" as the options say, allocated; NULL when out of memory. */
static char *query_form(const struct influx_link *link, const char *statement)
{
	const struct influx_options *options = &link->options;
	char *escaped = curl_easy_escape(link->easy, statement, 0), *form = NULL;
	char *database = options->database ? curl_easy_escape(link->easy, options->database, 0) : NULL;
	if (escaped && (database || !options->database) &&
	    asprintf(&form, "%s%s%s%sq=%s", database ? "db=" : "", database ? database : "", database ? "&" : "",
	             options->epoch_ms ? "epoch=ms&" : "", escaped) < 0)
		form = NULL;
	curl_free(escaped);
	curl_free(database);
	return form;
}

/* What the answer says, as influx_query() gives it. */
static int check_answer(struct influx_link *link, const char *statement, long status, cJSON *root,
                        const cJSON **result)
{
	const struct influx_options *options = &link->options;
	const char *error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "error"));
	const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "results"), 0);
	if (status == 401 || (status == 403 && options->forbidden_refuses)) {
		if (error)
			ctl_error(options->command, "%s at %s refused %s: %s", options->server, options->shown_url,
			          options->refused, error);
		else
			ctl_error(options->command, "%s at %s refused %s: HTTP %ld", options->server,
			          options->shown_url, options->refused, status);
		return -EACCES;
	}
	if (error && status >= 400 && status < 500) {
		ctl_error(options->command, "%s refused %s: %s", options->server, statement, error);
		return -EREMOTEIO;
	}
	if (status != 200 || !cJSON_IsObject(first)) {
		const char *hint = status == 404 ? options->not_found_hint : "";
		if (error)
			ctl_error(options->command, "%s answered HTTP %ld: %s%s", options->shown_url, status, error, hint);
		else
			ctl_error(options->command, "%s answered HTTP %ld, not as %s does%s", options->shown_url, status,
			          options->dialect, hint);
		return -EPROTO;
	}
	if ((error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "error")))) {
		ctl_error(options->command, "%s refused %s: %s", options->server, statement, error);
		return -EREMOTEIO;
	}
	*result = first;
	return 0;
}

int influx_query(struct influx_link *link, const char *statement, cJSON **json, const cJSON **result)
{
	const struct influx_options *options = &link->options;
	struct answer answer = { .max = options->answer_max };
	char *form = query_form(link, statement);
	cJSON *root = NULL;
	long status = 0;
	int r = -ENOMEM;
	*json = NULL;
	/* Each statement on a handle of its own, copied from the configured
	 * one: libcurl 7.88 keeps state from one answer to the next request on
	 * the same handle, and an answer with garbled headers (found by
	 * fuzzing) made it read memory it had freed.  A copy starts clean;
	 * the few statements of a run each connect anew, which costs little. */
	CURL *easy = form ? curl_easy_duphandle(link->easy) : NULL;
	if (!easy)
		goto out;
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, link);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, link->curl_error);
	link->curl_error[0] = '\0';
	CURLcode code = curl_easy_perform(easy);
	if (code == CURLE_WRITE_ERROR) {
		r = answer.too_large ? -EMSGSIZE : -ENOMEM;
		goto out;
	}
	if (code != CURLE_OK) {
		ctl_error(options->command, "cannot reach %s at %s: %s", options->server, options->shown_url,
		          link->curl_error[0] ? link->curl_error : curl_easy_strerror(code));
		r = -EHOSTUNREACH;
		goto out;
	}
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	root = answer.body ? cJSON_Parse(answer.body) : NULL;
	r = check_answer(link, statement, status, root, result);
	if (r == 0) {
		*json = root;
		root = NULL;
	}
out:
	if (easy)
		curl_easy_cleanup(easy);
	cJSON_Delete(root);
	free(answer.body);
	free(form);
	return r;
}
