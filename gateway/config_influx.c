/* config_influx.c — pass 2 for [influx]: the time-series store, its write
 * API (store_dialect.h), how the requests authenticate and whom they trust,
 * batching, read-back and the spool's bound. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "parse.h"
#include "store_dialect.h"

#define USER_MAX 256
#define DEFAULT_SPOOL_MAX_MB 64

static void take_url(struct loader *loader, struct raw_section *section, struct influx_config *influx)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take_required(loader, section, "url");
	if (!entry)
		return;
	const char *url = entry->value;
	size_t scheme_length = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
	size_t length = strlen(url);
	while (length > scheme_length && url[length - 1] == '/')
		length--;  /* paths are appended with their own '/' */
	bool spaces = false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		spaces |= *p <= ' ' || *p == 0x7f;
	const char *at = strchr(url + scheme_length, '@');
	const char *slash = strchr(url + scheme_length, '/');
	if (at && (!slash || at < slash)) {
		/* Not quoted back: it holds a password. */
		config_report(loader, entry->line,
		              "url: a user name or password in the URL is not supported (secrets do not go in the config); "
		              "use user and password_file, or token_file");
		return;
	}
	if (scheme_length == 0 || length == scheme_length || url[scheme_length] == '/' || spaces) {
		config_report(loader, entry->line, "url: expected http://HOST:PORT or https://HOST:PORT, got '%s'",
		              config_shown(url, shown_buffer));
		return;
	}
	influx->url = strndup(url, length);
	if (!influx->url)
		loader->out_of_memory = true;
}

static void take_text(struct loader *loader, struct raw_section *section, const char *key, char **field)
{
	bool valid;
	struct raw_entry *entry = config_take_text(loader, section, key, false, 0, &valid);
	if (entry && valid) {
		free(*field);
		*field = config_copy_text(loader, entry->value);
	}
}

static void take_boolean(struct loader *loader, struct raw_section *section, const char *key, bool *field)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry = config_take(section, key);
	if (entry && !parse_boolean(entry->value, field))
		config_report(loader, entry->line, "%s: expected yes or no, got '%s'", key,
		              config_shown(entry->value, shown_buffer));
}

/* Who tryggd is to the store: user and password_file (v1,
 * victoriametrics) or token_file (v2, v3); each file read once here, so a
 * missing or empty one is a config error, not a failure at the first write. */
static void take_credentials(struct loader *loader, struct raw_section *section, struct influx_config *influx,
                             const struct store_dialect *dialect)
{
	struct raw_entry *entry;
	const char *secrets[] = { "password", "token" };
	for (size_t i = 0; i < 2; i++)
		if ((entry = config_take(section, secrets[i])))
			config_report(loader, entry->line,
			              "%s: secrets do not go in the config; put it in a file of its own and name it with "
			              "%s_file",
			              secrets[i], secrets[i]);

	bool valid;
	struct raw_entry *user = config_take_text(loader, section, "user", false, USER_MAX, &valid);
	if (user && valid)
		influx->user = config_copy_text(loader, user->value);
	const char *keys[] = { "password_file", "token_file" };
	char **fields[] = { &influx->password_file, &influx->token_file };
	for (size_t i = 0; i < 2; i++) {
		char *path = config_take_file(loader, section, keys[i], &entry);
		if (!path)
			continue;
		bool basic = dialect && dialect->auth == STORE_AUTH_BASIC;
		if (i == 0 && !user) {
			config_report(loader, entry->line, "password_file: needs user");
		} else if (i == 0 && dialect && !basic) {
			config_report(loader, entry->line, "password_file: api = %s authenticates with token_file",
			              dialect->name);
		} else if (i == 1 && dialect && basic) {
			config_report(loader, entry->line, "token_file: api = %s authenticates with user and password_file",
			              dialect->name);
		} else if (config_secret_readable(loader, entry, path)) {
			*fields[i] = path;
			path = NULL;
		}
		free(path);
	}
}

static void take_transport(struct loader *loader, struct raw_section *section, struct influx_config *influx)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct raw_entry *entry;
	influx->ca_file = config_take_file(loader, section, "ca_file", &entry);
	take_boolean(loader, section, "tls_verify", &influx->tls_verify);
	if (influx->url && strncmp(influx->url, "https://", 8) != 0 && influx->ca_file)
		config_report(loader, entry->line, "ca_file: the url is not https://");

	bool valid;
	entry = config_take_text(loader, section, "proxy", false, 512, &valid);
	if (entry && valid && strcmp(entry->value, "none") != 0) {
		char *proxy = NULL;
		const char *problem = strchr(entry->value, '@')
		                      ? "a user name or password in the proxy's address is not supported"
		                      : config_parse_proxy(entry->value, &proxy);
		if (problem)
			config_report(loader, entry->line, "proxy: %s, got '%s'", problem,
			              strchr(entry->value, '@') ? "(not shown)" : config_shown(entry->value, shown_buffer));
		else if (!proxy)
			loader->out_of_memory = true;
		influx->proxy = proxy;
	}
}

void config_validate_influx(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct influx_config *influx = &config->influx;
	struct raw_section *section = config_find_section(loader, SECTION_INFLUX, NULL);
	influx->api = INFLUX_V1;
	influx->database = config_copy_text(loader, "trygghet");
	influx->timeout_s = 10;
	influx->batch_lines = 5000;
	influx->tls_verify = true;
	influx->verify = INFLUX_VERIFY_NONE;
	influx->spool_max_bytes = (uint64_t)DEFAULT_SPOOL_MAX_MB * 1024 * 1024;
	if (!section)
		return;
	config->has_influx = true;

	take_url(loader, section, influx);
	const struct store_dialect *dialect = store_dialect_of(INFLUX_V1);
	struct raw_entry *entry = config_take(section, "api");
	if (entry) {
		dialect = store_dialect_named(entry->value);
		if (!dialect)
			config_report(loader, entry->line, "api: expected %s, got '%s'", store_dialect_names(),
			              config_shown(entry->value, shown_buffer));
		else
			influx->api = dialect->api;
	}
	if (dialect)
		influx->verify = dialect->verify;

	take_text(loader, section, "database", &influx->database);
	take_text(loader, section, "retention_policy", &influx->retention_policy);
	take_text(loader, section, "org", &influx->org);
	take_text(loader, section, "bucket", &influx->bucket);
	if (influx->api == INFLUX_V2 && !influx->org)
		config_report(loader, section->line, "[influx]: api = v2 needs org (and bucket, or database as the bucket)");
	take_credentials(loader, section, influx, dialect);
	take_transport(loader, section, influx);
	take_boolean(loader, section, "gzip", &influx->gzip);

	entry = config_take(section, "verify");
	if (entry) {
		if (strcmp(entry->value, "readback") == 0)
			influx->verify = INFLUX_VERIFY_READBACK;
		else if (strcmp(entry->value, "none") == 0)
			influx->verify = INFLUX_VERIFY_NONE;
		else
			config_report(loader, entry->line, "verify: expected none or readback, got '%s'",
			              config_shown(entry->value, shown_buffer));
		if (influx->verify == INFLUX_VERIFY_READBACK && influx->api != INFLUX_VICTORIA)
			config_report(loader, entry->line, "verify = readback: only api = victoriametrics can be read back");
	}

	config_take_integer(loader, section, "timeout", "whole seconds", 1, 300, &influx->timeout_s);
	config_take_integer(loader, section, "batch_lines", "a number of lines", 1, 100000, &influx->batch_lines);
	config_take_duration(loader, section, "flush_interval", 0, 3600 * 1000, &influx->flush_interval_ms);
	int spool_max_mb = DEFAULT_SPOOL_MAX_MB;
	config_take_integer(loader, section, "spool_max_mb", "megabytes", 1, 1024 * 1024, &spool_max_mb);
	influx->spool_max_bytes = (uint64_t)spool_max_mb * 1024 * 1024;
	config_report_unused(loader, section);
}
