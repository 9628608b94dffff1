/* watch.c — `tryggctl watch`: a live view of one gateway's MQTT traffic,
 * for a technician commissioning a site, or one JSON line per message for
 * a script.
 *
 * This file is the command line: the options, --help, and where to look.
 * That comes from tryggd's own configuration (config_load(): the brokers,
 * the MQTT version and keepalive, the topic prefix, the district, the
 * gateway id and its sensors), or from the command line; the topic is
 * built by topic.c, as tryggd builds it (watch_run.c).  The configuration
 * is owned here for the whole run; struct watch_target borrows from it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <MQTTAsync.h>   /* MQTTVERSION_3_1_1, MQTTVERSION_5 */

#include "common.h"
#include "config.h"
#include "parse.h"
#include "watch.h"
#include "watch_internal.h"

#define COMMAND WATCH_COMMAND
#define DEFAULT_PREFIX "trygghet"
#define DEFAULT_KEEPALIVE_S 30
#define TIMEOUT_MAX_MS (INT64_C(366) * 86400 * 1000)

/* ---- the command line ------------------------------------------------------------------ */

static void print_help(FILE *out)
{
	fprintf(out,
	        "Usage: %s %s -c FILE [--json] [--count N] [--timeout TIME]\n"
	        "       %s %s --uri URI --district D --gateway G [--prefix P] [--json] ...\n"
	        "\n"
	        "Watch one gateway's MQTT traffic live: its status, each reading, each window\n"
	        "as it closes, alerts and health, and gaps and repeats in the readings' seq.\n"
	        "Everything under PREFIX/D/G/ is shown, also what is not understood.\n"
	        "\n"
	        "  -c, --config FILE  where to look, from tryggd's configuration: [mqtt] uri\n"
	        "                     (every broker listed), version, keepalive and\n"
	        "                     topic_prefix, [gateway] district and id\n"
	        "      --uri URI      or the broker (tcp://HOST:PORT, mqtt://, ws://HOST:PORT/PATH)\n"
	        "      --district D   the district, as in the config (Årby) or as its topic\n"
	        "                     level (arby)\n"
	        "      --gateway G    the gateway's id\n"
	        "      --prefix P     the topic prefix (default %s)\n"
	        "      --json         one line of JSON per message, for scripts:\n"
	        "                     {\"topic\":…,\"retained\":…,\"payload\":…}\n"
	        "      --count N      stop after N messages\n"
	        "      --timeout TIME stop after TIME (seconds, or 500ms, 2min, 1h)\n"
	        "  -h, --help         print this help and exit\n"
	        "\n"
	        "Each line starts with the message's own time (a reading's, a window's end), in\n"
	        "local time.  Problems stand out: ALERT and OFFLINE in capitals, seq gaps and\n"
	        "repeats, coverage below 100 %%; in colour on a terminal, where Enter prints a\n"
	        "summary (each sensor's last reading and its age) and Ctrl-C stops.\n"
	        "\n"
	        "Exit status: 0 stopped (count reached, time up, or a signal); 64 bad usage;\n"
	        "66 the configuration cannot be read; 69 the broker cannot be reached or\n"
	        "refuses the subscription; 75 --count not reached within --timeout;\n"
	        "78 invalid configuration, or one without [mqtt]; 70, 71 or 74 an internal,\n"
	        "system or output error.\n",
	        CTL_PROGRAM, COMMAND, CTL_PROGRAM, COMMAND, DEFAULT_PREFIX);
}

int ctl_watch(int argc, char *argv[])
{
	enum { OPTION_URI = 256, OPTION_DISTRICT, OPTION_GATEWAY, OPTION_PREFIX, OPTION_JSON, OPTION_COUNT,
	       OPTION_TIMEOUT };
	static const char short_options[] = ":c:h";
	static const struct option long_options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "uri", required_argument, NULL, OPTION_URI },
		{ "district", required_argument, NULL, OPTION_DISTRICT },
		{ "gateway", required_argument, NULL, OPTION_GATEWAY },
		{ "prefix", required_argument, NULL, OPTION_PREFIX },
		{ "json", no_argument, NULL, OPTION_JSON },
		{ "count", required_argument, NULL, OPTION_COUNT },
		{ "timeout", required_argument, NULL, OPTION_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *uri = NULL, *district = NULL, *gateway = NULL, *prefix = NULL;
	bool json = false;
	long count = 0;
	int64_t timeout_ms = 0;
	int option;

	opterr = 0;
	while ((option = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		switch (option) {
		case 'c':
			config_path = optarg;
			break;
		case OPTION_URI:
			uri = optarg;
			break;
		case OPTION_DISTRICT:
			district = optarg;
			break;
		case OPTION_GATEWAY:
			gateway = optarg;
			break;
		case OPTION_PREFIX:
			prefix = optarg;
			break;
		case OPTION_JSON:
			json = true;
			break;
		case OPTION_COUNT:
			if (!parse_integer(optarg, 1, LONG_MAX, &count))
				return ctl_usage_error(COMMAND, "--count needs a whole number from 1, got '%s'", optarg);
			break;
		case OPTION_TIMEOUT:
			if (!parse_duration_ms(optarg, 1, TIMEOUT_MAX_MS, &timeout_ms))
				return ctl_usage_error(COMMAND, "--timeout needs a time such as 5, 1.5s, 500ms or 2min "
				                       "(at most a year), got '%s'", optarg);
			break;
		case 'h':
			print_help(stdout);
			return ctl_finish_output(COMMAND, stdout, 0);
		default:
			return ctl_option_error(COMMAND, option, argv, short_options);
		}
	}
	if (optind < argc)
		return ctl_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
	if (config_path && (uri || district || gateway || prefix))
		return ctl_usage_error(COMMAND, "give either -c FILE or --uri, --district and --gateway, not both");
	if (!config_path && !(uri && district && gateway))
		return ctl_usage_error(COMMAND, "give -c FILE, or --uri, --district and --gateway");

	struct watch_target target = {
		.prefix = prefix ? prefix : DEFAULT_PREFIX,
		.identity = { .gateway = gateway, .district = district },
		.version = MQTTVERSION_3_1_1,
		.keepalive_s = DEFAULT_KEEPALIVE_S,
		.verify = true,
	};
	char *uris[1] = { (char *)uri };
	const char **sensors = NULL;
	struct config config;
	bool loaded = false;
	int status;

	if (config_path) {
		int r = config_load(config_path, &config, stderr);
		if (r < 0)
			return r == -EINVAL ? EX_CONFIG : r == -ENOMEM ? EX_OSERR : EX_NOINPUT;
		loaded = true;
		if (!config.has_mqtt) {
			ctl_error(COMMAND, "%s has no [mqtt] section: that gateway publishes nothing to watch", config_path);
			status = EX_CONFIG;
			goto out;
		}
		target.uris = config.mqtt.uris;
		target.uri_count = config.mqtt.uri_count;
		target.prefix = config.mqtt.topic_prefix;
		target.identity.gateway = config.gateway.id;
		target.identity.district = config.gateway.district;
		target.version = config.mqtt.version == MQTT_VERSION_5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
		target.keepalive_s = config.mqtt.keepalive_s;
		target.username = config.mqtt.username;
		target.password_file = config.mqtt.password_file;
		target.tls = config.mqtt.tls;
		target.ca_file = config.mqtt.ca_file;
		target.ca_dir = config.mqtt.ca_dir;
		target.cert_file = config.mqtt.cert_file;
		target.key_file = config.mqtt.key_file;
		target.verify = config.mqtt.verify;
		target.proxy = config.mqtt.proxy;
		sensors = calloc(config.sensor_count + 1, sizeof(*sensors));
		if (!sensors) {
			ctl_error(COMMAND, "cannot start: %s", strerror(ENOMEM));
			status = EX_OSERR;
			goto out;
		}
		for (size_t i = 0; i < config.sensor_count; i++)
			sensors[i] = config.sensors[i].name;
		target.sensors = sensors;
		target.sensor_count = config.sensor_count;
	} else {
		if (!strstr(uri, "://"))
			return ctl_usage_error(COMMAND, "--uri needs SCHEME://HOST:PORT, e.g. tcp://broker.example:1883");
		target.uris = uris;
		target.uri_count = 1;
		target.tls = strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0 ||
		             strncmp(uri, "wss://", 6) == 0;
		target.environment_proxy = true;
	}

	status = watch_run(&target, json, (uint64_t)count, timeout_ms);
out:
	free(sensors);
	if (loaded)
		config_free(&config);
	return ctl_finish_output(COMMAND, stdout, status);
}
