/* store_dialect.c — see store_dialect.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "store_dialect.h"
#include "store_http.h"

static const struct store_dialect dialects[] = {
	{
		.api = INFLUX_V1, .name = "v1", .product = "InfluxDB 1.x", .write_path = "/write",
		.auth = STORE_AUTH_BASIC, .backslash = LINEPROTO_BACKSLASH_AS_IS,
		.string_fields = true, .verify = INFLUX_VERIFY_NONE,
		.not_found_hint = "the database does not exist: create it with `tryggctl setup-influx`",
	},
	{
		/* 2.x parses line protocol with 1.x's parser, so backslashes
		 * are read the same way. */
		.api = INFLUX_V2, .name = "v2", .product = "InfluxDB 2.x", .write_path = "/api/v2/write",
		.auth = STORE_AUTH_TOKEN, .backslash = LINEPROTO_BACKSLASH_AS_IS,
		.string_fields = true, .verify = INFLUX_VERIFY_NONE,
		.not_found_hint = "the organization or bucket does not exist (influx bucket create)",
	},
	{
		.api = INFLUX_V3, .name = "v3", .product = "InfluxDB 3", .write_path = "/api/v3/write_lp",
		.auth = STORE_AUTH_BEARER, .backslash = LINEPROTO_BACKSLASH_DOUBLED,
		.string_fields = true, .verify = INFLUX_VERIFY_NONE,
		.not_found_hint = "the database does not exist (influxdb3 create database)",
	},
	{
		/* VictoriaMetrics answers 204 to lines it then drops (malformed,
		 * or older than its retention): read a sample back.  Every
		 * field becomes a series of numbers: a string field's text is
		 * not kept (lib/protoparser/influx/parser.go, parseFieldValue). */
		.api = INFLUX_VICTORIA, .name = "victoriametrics", .product = "VictoriaMetrics",
		.write_path = "/write", .auth = STORE_AUTH_BASIC, .backslash = LINEPROTO_BACKSLASH_DOUBLED,
		.string_fields = false, .verify = INFLUX_VERIFY_READBACK,
		.not_found_hint = "no write API at this URL (is it VictoriaMetrics, or vminsert with its /insert/0/influx path?)",
	},
};

#define DIALECT_COUNT (sizeof(dialects) / sizeof(dialects[0]))

const struct store_dialect *store_dialect_of(enum influx_api api)
{
	for (size_t i = 0; i < DIALECT_COUNT; i++)
		if (dialects[i].api == api)
			return &dialects[i];
	return NULL;
}

const struct store_dialect *store_dialect_named(const char *name)
{
	for (size_t i = 0; i < DIALECT_COUNT; i++)
		if (strcmp(dialects[i].name, name) == 0)
			return &dialects[i];
	return NULL;
}

const char *store_dialect_names(void)
{
	return "v1, v2, v3 or victoriametrics";
}

int store_dialect_write_url(const struct store_dialect *dialect, const struct influx_config *config, char **out)
{
	const char *bucket = config->bucket ? config->bucket : config->database;
	const char *v1[] = { "db", config->database, "rp", config->retention_policy, "precision", "s", NULL };
	const char *v2[] = { "org", config->org ? config->org : "", "bucket", bucket, "precision", "s", NULL };
	const char *v3[] = { "db", config->database, "precision", "second", NULL };
	/* db becomes a label on every series, as InfluxDB's database would
	 * name them. */
	const char *victoria[] = { "db", config->database, "precision", "s", NULL };
	if (!config->retention_policy)
		v1[2] = "precision", v1[3] = "s", v1[4] = NULL;
	const char *const *pairs = dialect->api == INFLUX_V1 ? v1 : dialect->api == INFLUX_V2 ? v2
	                         : dialect->api == INFLUX_V3 ? v3 : victoria;
	return store_http_url(config->url, dialect->write_path, pairs, out);
}

char *store_dialect_url_for_logs(const struct influx_config *config)
{
	char *text = NULL, *copy = NULL;
	CURLU *url = curl_url();
	if (!url)
		return NULL;
	if (curl_url_set(url, CURLUPART_URL, config->url, 0) == CURLUE_OK &&
	    curl_url_set(url, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(url, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(url, CURLUPART_URL, &text, CURLU_NO_DEFAULT_PORT) == CURLUE_OK)
		copy = strdup(text);
	else
		copy = strdup(config->url);
	curl_free(text);
	curl_url_cleanup(url);
	return copy;
}
