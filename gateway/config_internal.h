/* config_internal.h — what the files of config_load() share, and no one else
 * sees:
 *
 *   config.c          config_load(): reads the file, runs the two passes,
 *                     sorts and writes the problems; config_free(),
 *                     config_find_sensor(); reporting (config_report) and
 *                     quoting values back (config_shown);
 *   config_read.c     pass 1: inih over the text, into raw sections of raw
 *                     entries with their line numbers (syntax, duplicates,
 *                     unknown sections, UTF-8);
 *   config_take.c     the typed config_take_*() readers every section uses,
 *                     and relative paths;
 *   config_gateway.c  pass 2 for [gateway] and [simulation];
 *   config_outputs.c  pass 2 for [mqtt] and [influx];
 *   config_mqtt_security.c  [mqtt]'s credentials, TLS and proxy;
 *   config_sensor.c   pass 2 for every [sensor.NAME]: common keys, alert
 *                     thresholds, the driver's check_option()/check_sensor(),
 *                     a lamp's light sensor and what [simulation] asks;
 *   config_summary.c  config_print_summary(), for `tryggd --check`.
 * (config_copy.c, the sections' copies and comparisons for a reload, needs
 * nothing of this: config_free() clears [mqtt] and [influx] through it.)
 *
 * Ownership: config_load_with_drivers() owns the struct loader, which owns
 * its raw sections (title, entries' keys and values) and problems (their
 * messages) until free.  A struct raw_entry * from config_take*() is borrowed
 * from the loader; whatever goes into struct config is copied
 * (config_copy_text) and owned by it.  No function here fails alone: a
 * problem goes through config_report(), a failed allocation sets
 * loader->out_of_memory, and config_load_with_drivers() looks at both once
 * every section has been validated. */
#ifndef TRYGGD_CONFIG_INTERNAL_H
#define TRYGGD_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* District and site end up in tags, payloads and (district) topics; a
 * generous but finite bound keeps every buffer downstream honest. */
#define PLACE_TEXT_MAX 128
#define SLUG_BUFFER_SIZE (PLACE_TEXT_MAX * 2 + 1)
/* Values quoted back in messages are cut here so one line stays one line. */
#define SHOWN_VALUE_MAX 64
#define SHOWN_VALUE_SIZE (SHOWN_VALUE_MAX + 8)   /* + a cut character's tail, "..." and NUL */

enum section_kind { SECTION_GATEWAY, SECTION_SIMULATION, SECTION_MQTT, SECTION_INFLUX, SECTION_SENSOR };

struct raw_entry {
	char *key;
	char *value;
	int line;
	bool used;
};

struct raw_section {
	enum section_kind kind;
	char *title;             /* as shown in messages: "gateway", "sensor.door" */
	const char *sensor_name; /* points into title, for SECTION_SENSOR */
	int line;
	struct raw_entry *entries;
	size_t entry_count;
	size_t entry_capacity;
};

struct problem {
	int line;
	size_t sequence;         /* keeps problems of one line in the order found */
	char *message;
};

/* Where keys of the line being read go: a section, nowhere yet (before the
 * first header), or the bin (a section already reported as bad). */
enum { CURRENT_NONE = -1, CURRENT_IGNORED = -2 };

struct loader {
	char *directory;         /* absolute directory of the file, for relative paths */
	config_driver_lookup find_driver;

	const char *text;
	size_t text_size;
	size_t position;
	int line_number;         /* line the reader handed to inih last */

	struct raw_section *sections;
	size_t section_count;
	size_t section_capacity;
	long current;
	bool saw_sensor_section;

	struct problem *problems;
	size_t problem_count;
	size_t problem_capacity;
	bool out_of_memory;
};

/* ---- config.c: problems and copies ------------------------------------- */

/* Adds "message" for line; written, sorted by line, once loading ends. */
void config_report(struct loader *loader, int line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
/* value as it may be quoted back in a message, in buffer. */
const char *config_shown(const char *value, char buffer[static SHOWN_VALUE_SIZE]);
/* A copy owned by the caller, or NULL with loader->out_of_memory set. */
char *config_copy_text(struct loader *loader, const char *text);

/* ---- config_read.c: pass 1 --------------------------------------------- */

/* Reads loader->text into loader->sections, reporting what it cannot take. */
void config_read_sections(struct loader *loader);
/* The section of that kind (and, for sensors, name), or NULL. */
struct raw_section *config_find_section(struct loader *loader, enum section_kind kind,
                                        const char *sensor_name);

/* ---- config_take.c: typed keys ----------------------------------------- */

bool config_has_control_characters(const char *text);
/* The end of the host at the start of text: a name or IPv4 address, or an
 * IPv6 address in brackets.  NULL with *problem "bad IPv6 address" for a
 * bad bracketed one; text itself when there is no host. */
const char *config_host_end(const char *text, const char **problem);
/* The port's digits at text, 1 to 65535: true with *length set. */
bool config_port(const char *text, size_t *length);
/* 1 to maximum of a-z 0-9 _ - (and A-Z with allow_upper). */
bool config_is_word(const char *text, size_t maximum, bool allow_upper);

/* The entry for key in section (NULL when absent), marked as used. */
struct raw_entry *config_take(struct raw_section *section, const char *key);
struct raw_entry *config_take_required(struct loader *loader, struct raw_section *section, const char *key);
/* Reports every key of section nobody took. */
void config_report_unused(struct loader *loader, struct raw_section *section);
void config_take_integer(struct loader *loader, struct raw_section *section, const char *key,
                         const char *what, long minimum, long maximum, int *field);
void config_take_duration(struct loader *loader, struct raw_section *section, const char *key,
                          int64_t minimum_ms, int64_t maximum_ms, int64_t *field);
struct raw_entry *config_take_text(struct loader *loader, struct raw_section *section, const char *key,
                                   bool required, size_t maximum, bool *valid);
/* path, absolute: a relative one is taken from the file's directory. */
char *config_resolve_path(struct loader *loader, const char *path);
char *config_take_path(struct loader *loader, struct raw_section *section, const char *key,
                       const char *fallback);

/* ---- pass 2: one function a concern ------------------------------------ */

/* config_load_with_drivers() calls them in this order, which shows: the
 * problems found on one line are written in the order they were found. */

void config_validate_gateway(struct loader *loader, struct config *config);
void config_validate_simulation(struct loader *loader, struct config *config);
void config_validate_mqtt(struct loader *loader, struct config *config);
/* Within [mqtt], once the brokers are known (config_mqtt_security.c):
 * username, password_file, ca_file, ca_dir, cert_file, key_file, verify
 * and proxy. */
void config_validate_mqtt_security(struct loader *loader, struct raw_section *section,
                                   const struct raw_entry *uri, struct config *config);
/* A file named by key (a secret's, a certificate's), located as
 * credential_locate() does and readable: its path, absolute (the caller's),
 * or NULL with the problem reported.  *entry_out: the entry, or NULL. */
char *config_take_file(struct loader *loader, struct raw_section *section, const char *key,
                       struct raw_entry **entry_out);
/* The secret in path (credentials.h) can be read: true, or false with
 * "KEY: PATH: why" reported at entry's line. */
bool config_secret_readable(struct loader *loader, const struct raw_entry *entry, const char *path);
/* A proxy's HOST:PORT (an http:// in front is allowed) into *out; NULL, or
 * what is wrong with it. */
const char *config_parse_proxy(const char *text, char **out);
/* Their lines in the --check summary: where the password is, never what. */
void config_print_mqtt_security(const struct mqtt_config *mqtt, FILE *out);
void config_validate_influx(struct loader *loader, struct config *config);
void config_validate_sensors(struct loader *loader, struct config *config);

#endif
