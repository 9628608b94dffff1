/* config_sensor.c — pass 2 for every [sensor.NAME]: its generic keys and
 * alert thresholds, then its driver's options through the driver's
 * check_option(); once all sensors are known, a lamp's light sensor, the
 * driver's check_sensor() and check_environment(), and whether [simulation]
 * has only simulated sensors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "driver.h"
#include "parse.h"

#define DRIVER_MESSAGE_SIZE 256

/* The generic keys of a [sensor.NAME] section; every other key is the
 * driver's. */
static const char *const sensor_keys[] = {
	"type", "driver", "interval", "dark_lux", "light",
	/* alerts (struct sensor_alerts) */
	"stuck_after", "busy_hours", "blocked_after", "covered_lux", "covered_after", "fault_after",
};

/* Alert defaults: long enough that an ordinary quiet spell, a lingering
 * passer-by, a cloud or a photocell's switching delay never raise one. */
#define STUCK_DEFAULT_MS (3 * 3600 * 1000)
#define BUSY_FROM_DEFAULT 8
#define BUSY_TO_DEFAULT 20
#define BLOCKED_DEFAULT_MS (30 * 1000)
#define COVERED_LUX_DEFAULT 1.0
#define COVERED_DEFAULT_MS (30 * 60 * 1000)
#define LAMP_FAULT_DEFAULT_MS (15 * 60 * 1000)
#define ALERT_AFTER_MAX_MS (7LL * 86400 * 1000)

static bool is_sensor_key(const char *key)
{
	for (size_t i = 0; i < sizeof(sensor_keys) / sizeof(sensor_keys[0]); i++)
		if (strcmp(key, sensor_keys[i]) == 0)
			return true;
	return false;
}

static int add_option(struct sensor_config *sensor, const struct raw_entry *entry)
{
	struct sensor_option *grown = realloc(sensor->options, (sensor->option_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	sensor->options = grown;
	struct sensor_option option = { strdup(entry->key), strdup(entry->value), entry->line };
	if (!option.key || !option.value) {
		free(option.key);
		free(option.value);
		return -ENOMEM;
	}
	sensor->options[sensor->option_count++] = option;
	return 0;
}

/* The tamper and wear thresholds; each belongs to one type. */
static void validate_alerts(struct loader *loader, struct raw_section *section, struct sensor_config *sensor,
                            bool type_known)
{
	static const struct {
		const char *key;
		enum sensor_type type;
	} owners[] = {
		{ "stuck_after", SENSOR_FOOTFALL }, { "busy_hours", SENSOR_FOOTFALL },
		{ "blocked_after", SENSOR_FOOTFALL }, { "covered_lux", SENSOR_LIGHT },
		{ "covered_after", SENSOR_LIGHT }, { "fault_after", SENSOR_LAMP },
	};
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct sensor_alerts *alerts = &sensor->alerts;
	*alerts = (struct sensor_alerts){
		.stuck_ms = STUCK_DEFAULT_MS, .busy_from_hour = BUSY_FROM_DEFAULT, .busy_to_hour = BUSY_TO_DEFAULT,
		.blocked_ms = BLOCKED_DEFAULT_MS, .covered_lux = COVERED_LUX_DEFAULT,
		.covered_ms = COVERED_DEFAULT_MS, .lamp_fault_ms = LAMP_FAULT_DEFAULT_MS,
	};
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		const struct raw_entry *entry = config_take(section, owners[i].key);
		if (entry && type_known && sensor->type != owners[i].type) {
			config_report(loader, entry->line, "%s applies only to %s sensors", owners[i].key,
			              sensor_type_name(owners[i].type));
		}
	}
	if (!type_known)
		return;
	switch (sensor->type) {
	case SENSOR_FOOTFALL: {
		config_take_duration(loader, section, "stuck_after", 0, ALERT_AFTER_MAX_MS, &alerts->stuck_ms);
		config_take_duration(loader, section, "blocked_after", 0, ALERT_AFTER_MAX_MS, &alerts->blocked_ms);
		struct raw_entry *entry = config_take(section, "busy_hours");
		long from, to;
		char *dash = entry ? strchr(entry->value, '-') : NULL;
		if (!entry)
			break;
		if (dash) {
			*dash = '\0';
			bool good = parse_integer(entry->value, 0, 23, &from) && parse_integer(dash + 1, 1, 24, &to) &&
			            from < to;
			*dash = '-';
			if (good) {
				alerts->busy_from_hour = (int)from;
				alerts->busy_to_hour = (int)to;
				break;
			}
		}
		config_report(loader, entry->line, "busy_hours: expected local hours FROM-TO like 8-20, got '%s'",
		              config_shown(entry->value, shown_buffer));
		break;
	}
	case SENSOR_LIGHT: {
		config_take_duration(loader, section, "covered_after", 0, ALERT_AFTER_MAX_MS, &alerts->covered_ms);
		struct raw_entry *entry = config_take(section, "covered_lux");
		if (entry && !parse_decimal(entry->value, 0, &alerts->covered_lux))
			config_report(loader, entry->line, "covered_lux: expected lux, 0 or more, got '%s'",
			              config_shown(entry->value, shown_buffer));
		break;
	}
	case SENSOR_LAMP:
		config_take_duration(loader, section, "fault_after", 0, ALERT_AFTER_MAX_MS, &alerts->lamp_fault_ms);
		break;
	}
}

/* What validate_sensor() learnt, for the checks that span sensors. */
struct sensor_verdict {
	const struct driver_ops *driver;   /* NULL when unknown */
	bool type_known;
	bool sound;                        /* no problem at all so far */
};

/* What a sensor section says about itself. */
static struct sensor_verdict validate_sensor(struct loader *loader, struct raw_section *section,
                                             struct sensor_config *sensor)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	size_t problems_before = loader->problem_count;
	bool type_known = false, serves = true;
	const struct driver_ops *driver = NULL;

	sensor->name = config_copy_text(loader, section->sensor_name);
	sensor->line = section->line;
	sensor->interval_s = 5;
	sensor->dark_lux = 10;

	struct raw_entry *entry = config_take_required(loader, section, "type");
	if (entry) {
		type_known = sensor_type_parse(entry->value, &sensor->type);
		if (!type_known)
			config_report(loader, entry->line, "type: expected footfall, light or lamp, got '%s'",
			              config_shown(entry->value, shown_buffer));
	}

	entry = config_take_required(loader, section, "driver");
	if (entry) {
		driver = loader->find_driver(entry->value);
		if (!driver)
			config_report(loader, entry->line, "unknown driver '%s'",
			              config_shown(entry->value, shown_buffer));
		else if (type_known && !(driver->types & (1u << sensor->type))) {
			config_report(loader, entry->line, "driver '%s' cannot serve %s sensors", driver->name,
			              sensor_type_name(sensor->type));
			serves = false;
		}
		if (driver)
			sensor->driver = config_copy_text(loader, driver->name);
	}

	config_take_integer(loader, section, "interval", "whole seconds", 1, 86400, &sensor->interval_s);

	entry = config_take(section, "dark_lux");
	if (entry) {
		if (type_known && sensor->type != SENSOR_LIGHT)
			config_report(loader, entry->line, "dark_lux applies only to light sensors");
		else if (!parse_decimal(entry->value, 0, &sensor->dark_lux))
			config_report(loader, entry->line, "dark_lux: expected lux, 0 or more, got '%s'",
			              config_shown(entry->value, shown_buffer));
	}

	validate_alerts(loader, section, sensor, type_known);

	/* Whether light names a light sensor is checked once all are known. */
	entry = config_take(section, "light");
	if (entry && type_known && sensor->type != SENSOR_LAMP)
		config_report(loader, entry->line, "light applies only to lamp sensors");

	/* The rest is the driver's, which needs to know the type to judge. */
	for (size_t i = 0; i < section->entry_count; i++) {
		struct raw_entry *option = &section->entries[i];
		if (is_sensor_key(option->key))
			continue;
		option->used = true;
		if (!driver || !type_known || !serves)
			continue;
		char message[DRIVER_MESSAGE_SIZE] = "";
		int r = driver->check_option(sensor->type, option->key, option->value, message, sizeof(message));
		if (r == -ENOENT)
			config_report(loader, option->line, "unknown key '%s' for driver '%s'",
			              config_shown(option->key, shown_buffer), driver->name);
		else if (r < 0)
			config_report(loader, option->line, "%s", message[0] ? message : strerror(-r));
		else if (add_option(sensor, option) < 0)
			loader->out_of_memory = true;
	}

	return (struct sensor_verdict){
		.driver = driver,
		.type_known = type_known,
		.sound = loader->problem_count == problems_before && driver && type_known,
	};
}

/* Each sound sensor against the rest of the config (a sim sensor's district
 * in the profiles file), at the line of the option at fault or of its
 * section. */
static void check_environments(struct loader *loader, const struct config *config,
                               const struct sensor_verdict *verdicts, size_t count)
{
	const struct driver_env env = {
		.gateway_id = config->gateway.id,
		.district = config->gateway.district,
		.profiles = config->simulation.profiles,
		.scenarios = config->simulation.scenarios,
		.config_directory = loader->directory,
	};
	for (size_t index = 0; index < count; index++) {
		const struct driver_ops *driver = verdicts[index].driver;
		const struct sensor_config *sensor = &config->sensors[index];
		if (!verdicts[index].sound || !driver->check_environment)
			continue;
		char message[DRIVER_MESSAGE_SIZE * 2] = "";
		const char *key = NULL;
		int r = driver->check_environment(sensor, &env, &key, message, sizeof(message));
		if (r >= 0)
			continue;
		int line = sensor->line;
		for (size_t i = 0; key && i < sensor->option_count; i++)
			if (strcmp(sensor->options[i].key, key) == 0)
				line = sensor->options[i].line;
		config_report(loader, line, "%s", message[0] ? message : strerror(-r));
	}
}

void config_validate_sensors(struct loader *loader, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	size_t count = 0;
	for (size_t i = 0; i < loader->section_count; i++)
		count += loader->sections[i].kind == SECTION_SENSOR;
	if (count == 0) {
		if (!loader->saw_sensor_section)
			config_report(loader, 1, "no sensors: add at least one [sensor.NAME] section");
		return;
	}
	config->sensors = calloc(count, sizeof(*config->sensors));
	if (!config->sensors) {
		loader->out_of_memory = true;
		return;
	}

	struct sensor_verdict *verdicts = calloc(count, sizeof(*verdicts));
	if (!verdicts) {
		loader->out_of_memory = true;
		return;
	}

	size_t index = 0;
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		if (section->kind != SECTION_SENSOR)
			continue;
		verdicts[index] = validate_sensor(loader, section, &config->sensors[index]);
		index++;
	}
	config->sensor_count = count;

	/* A lamp's light sensor: only now are all sensors known. */
	index = 0;
	for (size_t i = 0; i < loader->section_count; i++) {
		struct raw_section *section = &loader->sections[i];
		if (section->kind != SECTION_SENSOR)
			continue;
		struct sensor_config *sensor = &config->sensors[index];
		struct raw_entry *entry = config_take(section, "light");
		if (entry && verdicts[index].type_known && sensor->type == SENSOR_LAMP) {
			const struct sensor_config *light = config_find_sensor(config, entry->value);
			if (!light) {
				config_report(loader, entry->line, "light: no sensor '%s' is configured",
				              config_shown(entry->value, shown_buffer));
				verdicts[index].sound = false;
			} else if (!verdicts[light - config->sensors].type_known) {
				/* its own type problem was reported; no second guess here */
				verdicts[index].sound = false;
			} else if (light->type != SENSOR_LIGHT) {
				config_report(loader, entry->line,
				              "light: sensor '%s' is a %s sensor, not a light sensor", light->name,
				              sensor_type_name(light->type));
				verdicts[index].sound = false;
			} else {
				sensor->light = config_copy_text(loader, light->name);
			}
		}
		index++;
	}

	/* The driver sees the whole sensor last, and only a sensor with no
	 * problem so far: it should not have to guess around half a config. */
	for (index = 0; index < count; index++) {
		const struct driver_ops *driver = verdicts[index].driver;
		if (!verdicts[index].sound || !driver->check_sensor)
			continue;
		char message[DRIVER_MESSAGE_SIZE] = "";
		int r = driver->check_sensor(&config->sensors[index], message, sizeof(message));
		if (r < 0) {
			config_report(loader, config->sensors[index].line, "%s", message[0] ? message : strerror(-r));
			verdicts[index].sound = false;
		}
	}

	check_environments(loader, config, verdicts, count);

	struct raw_section *simulation = config_find_section(loader, SECTION_SIMULATION, NULL);
	for (index = 0; simulation && index < count; index++) {
		const struct driver_ops *driver = verdicts[index].driver;
		if (driver && !driver->simulated)
			config_report(loader, simulation->line,
			              "[simulation] needs simulated sensors, but sensor '%s' uses driver '%s'",
			              config->sensors[index].name, driver->name);
	}
	free(verdicts);
}
