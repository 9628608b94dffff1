/* config.c — config_load(): reads tryggd's INI file, validates every key and
 * fills a struct config (config.h).  What each other config_*.c file does is
 * in config_internal.h.
 *
 * Two passes.  The first one (config_read.c) runs inih over the text and
 * collects sections and keys with their line numbers, reporting syntax
 * problems, duplicates and unknown sections.  The second one validates each
 * section's keys, then what spans sections (a lamp's light sensor,
 * [simulation] and the drivers).  Problems are gathered and written at the
 * end, sorted by line, so a technician sees all of them at once and in file
 * order. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_internal.h"
#include "driver.h"

/* A configuration is a page or two of text; anything far larger is a
 * mistake (a log file given by accident) and is refused before parsing. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* ---- problems and copies ----------------------------------------------- */

void config_report(struct loader *loader, int line, const char *format, ...)
{
	if (loader->problem_count == loader->problem_capacity) {
		size_t capacity = loader->problem_capacity ? loader->problem_capacity * 2 : 16;
		struct problem *grown = realloc(loader->problems, capacity * sizeof(*grown));
		if (!grown) {
			loader->out_of_memory = true;
			return;
		}
		loader->problems = grown;
		loader->problem_capacity = capacity;
	}
	va_list arguments;
	va_start(arguments, format);
	char *message = NULL;
	int length = vasprintf(&message, format, arguments);
	va_end(arguments);
	if (length < 0) {
		loader->out_of_memory = true;
		return;
	}
	loader->problems[loader->problem_count] = (struct problem){ line, loader->problem_count, message };
	loader->problem_count++;
}

static int compare_problems(const void *left, const void *right)
{
	const struct problem *a = left, *b = right;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->sequence < b->sequence ? -1 : a->sequence > b->sequence;
}

/* A value as it may be quoted back: control bytes would break the one line
 * per problem rule, and a pasted megabyte would bury the message. */
const char *config_shown(const char *value, char buffer[static SHOWN_VALUE_SIZE])
{
	size_t length = 0;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (length >= SHOWN_VALUE_MAX && (*p & 0xc0) != 0x80) {
			memcpy(buffer + length, "...", 4);
			return buffer;
		}
		if (length >= SHOWN_VALUE_MAX + 3)
			break;  /* a continuation byte run that never ends: invalid anyway */
		buffer[length++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
	}
	buffer[length] = '\0';
	return buffer;
}

char *config_copy_text(struct loader *loader, const char *text)
{
	char *copy = strdup(text);
	if (!copy)
		loader->out_of_memory = true;
	return copy;
}

/* ---- loading ----------------------------------------------------------- */

static int read_file(const char *path, char **text, size_t *size)
{
	int r = 0;
	char *buffer = NULL;
	size_t length = 0;
	int descriptor = open(path, O_RDONLY | O_CLOEXEC);
	if (descriptor < 0)
		return -errno;
	struct stat status;
	if (fstat(descriptor, &status) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(status.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	buffer = malloc(CONFIG_FILE_MAX + 1);
	if (!buffer) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t got = read(descriptor, buffer + length, CONFIG_FILE_MAX + 1 - length);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		length += (size_t)got;
		if (length > CONFIG_FILE_MAX) {
			r = -EFBIG;
			goto out;
		}
	}
	buffer[length] = '\0';
	*text = buffer;
	*size = length;
	buffer = NULL;
out:
	free(buffer);
	close(descriptor);
	return r;
}

/* The file's directory as an absolute path (symbolic links in it resolved,
 * as the kernel will when the paths are opened). */
static int file_directory(const char *path, char **directory)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	*directory = realpath(dirname(copy), NULL);
	int r = *directory ? 0 : -errno;
	free(copy);
	return r;
}

static void free_loader(struct loader *loader)
{
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		for (size_t j = 0; j < section->entry_count; j++) {
			free(section->entries[j].key);
			free(section->entries[j].value);
		}
		free(section->entries);
		free(section->title);
	}
	free(loader->sections);
	for (size_t i = 0; i < loader->problem_count; i++)
		free(loader->problems[i].message);
	free(loader->problems);
	free(loader->directory);
}

int config_load(const char *path, struct config *out, FILE *errors)
{
	return config_load_with_drivers(path, driver_find, out, errors);
}

int config_load_with_drivers(const char *path, config_driver_lookup find_driver,
                             struct config *out, FILE *errors)
{
	struct config config = { 0 };
	struct loader loader = { .current = CURRENT_NONE, .find_driver = find_driver };
	char *text = NULL;
	size_t size = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = read_file(path, &text, &size);
	if (r < 0) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(-r));
		return r;
	}
	loader.text = text;
	loader.text_size = size;
	r = file_directory(path, &loader.directory);
	if (r < 0) {
		fprintf(errors, "%s: cannot read: %s\n", path, strerror(-r));
		goto out;
	}

	config_read_sections(&loader);
	config.path = config_copy_text(&loader, path);
	config.directory = config_copy_text(&loader, loader.directory);
	/* This order is part of the output: problems on one line (line 1 may
	 * hold several) are written in the order they were found. */
	config_validate_gateway(&loader, &config);
	config_validate_simulation(&loader, &config);
	config_validate_mqtt(&loader, &config);
	config_validate_influx(&loader, &config);
	config_validate_sensors(&loader, &config);

	if (loader.out_of_memory) {
		fprintf(errors, "%s: out of memory\n", path);
		r = -ENOMEM;
		goto out;
	}
	if (loader.problem_count > 0) {
		qsort(loader.problems, loader.problem_count, sizeof(*loader.problems), compare_problems);
		for (size_t i = 0; i < loader.problem_count; i++)
			fprintf(errors, "%s:%d: %s\n", path, loader.problems[i].line, loader.problems[i].message);
		fflush(errors);
		r = -EINVAL;
		goto out;
	}
	*out = config;
	memset(&config, 0, sizeof(config));
	r = 0;

out:
	config_free(&config);
	free_loader(&loader);
	free(text);
	return r;
}

void config_free(struct config *config)
{
	if (!config)
		return;
	free(config->path);
	free(config->directory);
	free(config->gateway.id);
	free(config->gateway.district);
	free(config->gateway.site);
	free(config->gateway.state_dir);
	free(config->simulation.profiles);
	free(config->simulation.scenarios);
	/* Their field lists live with their copies: config_copy.c,
	 * sensor_config.c. */
	mqtt_config_clear(&config->mqtt);
	influx_config_clear(&config->influx);
	for (size_t i = 0; i < config->sensor_count; i++)
		sensor_config_clear(&config->sensors[i]);
	free(config->sensors);
	memset(config, 0, sizeof(*config));
}

/* ---- lookups ----------------------------------------------------------- */

const struct sensor_config *config_find_sensor(const struct config *config, const char *name)
{
	for (size_t i = 0; i < config->sensor_count; i++)
		if (config->sensors[i].name && strcmp(config->sensors[i].name, name) == 0)
			return &config->sensors[i];
	return NULL;
}
