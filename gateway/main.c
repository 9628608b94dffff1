/* main.c — the tryggd program: command line, configuration, then the
 * daemon (daemon.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <MQTTAsync.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "config.h"
#include "daemon.h"

#define DEFAULT_CONFIG "/etc/tryggd/tryggd.conf"

static void print_help(FILE *out)
{
	fprintf(out,
	        "Usage: tryggd [-c FILE] [-v] [--check]\n"
	        "\n"
	        "MQTT gateway for lighting and footfall sensors in public places.\n"
	        "\n"
	        "  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
	        "  -v, --verbose      log debug messages too (as TRYGGD_DEBUG=1 does)\n"
	        "      --check        validate the configuration, print a summary, exit\n"
	        "      --version      print the version and exit\n"
	        "  -h, --help         print this help and exit\n"
	        "\n"
	        "Exit status: 0 stopped cleanly; 78 invalid configuration; 69 the state directory\n"
	        "could not be opened or a sensor's settings cannot work (a missing device is not\n"
	        "an exit: the sensor reports failed and keeps trying); 75 a simulation ended with\n"
	        "data undelivered.\n"
	        "Signals: SIGTERM/SIGINT stop gracefully (open window flushed, spool kept);\n"
	        "SIGHUP reloads the configuration (an invalid one is refused, the old one runs on).\n");
}

/* Process-wide settings of libraries that cost memory for nothing in a
 * daemon meant to hold about a MiB (issue 17); before any client or
 * connection of theirs exists, so that they take.  Each only saves
 * memory: a failure leaves the library's default, which works. */
static void lean_libraries(void)
{
	/* Paho records every function entry and exit of its own in a ring
	 * of 400 entries (125 KiB, written through within seconds) that
	 * nobody reads unless tracing is switched on; from the error level
	 * up it records nearly nothing, and the ring's pages stay untouched.
	 * MQTT_C_CLIENT_TRACE (or _LEVEL) still traces as Paho documents. */
	if (!getenv("MQTT_C_CLIENT_TRACE") && !getenv("MQTT_C_CLIENT_TRACE_LEVEL"))
		MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
	/* SQLite gives each connection a first block for 20 pages of cache
	 * (87 KiB) at its first read; tryggd.db and mqtt-buffer.db use a
	 * few pages each.  Without it pages are allocated one at a time as
	 * used, up to the same cache_size. */
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

int main(int argc, char **argv)
{
	enum { OPTION_CHECK = 256, OPTION_VERSION };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check", no_argument, NULL, OPTION_CHECK },
		{ "version", no_argument, NULL, OPTION_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	int check = 0, option;

	while ((option = getopt_long(argc, argv, "c:vh", options, NULL)) != -1) {
		switch (option) {
		case 'c':
			path = optarg;
			break;
		case 'v':
			/* log.c reads the debug switch from the environment, so that
			 * no module keeps a global for it; before any thread starts,
			 * setenv is safe. */
			if (setenv("TRYGGD_DEBUG", "1", 1) < 0) {
				perror("tryggd: setenv");
				return 1;
			}
			break;
		case OPTION_CHECK:
			check = 1;
			break;
		case OPTION_VERSION:
			printf("tryggd %s\n", TRYGGD_VERSION);
			return 0;
		case 'h':
			print_help(stdout);
			return 0;
		default:
			print_help(stderr);
			return 64;  /* EX_USAGE */
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tryggd: unexpected argument '%s'\n", argv[optind]);
		return 64;
	}

	struct config *config = calloc(1, sizeof(*config));
	if (!config) {
		fprintf(stderr, "tryggd: out of memory\n");
		return 1;
	}
	if (config_load(path, config, stderr) < 0) {
		free(config);
		return EXIT_CONFIG;
	}
	if (check) {
		config_print_summary(config, stdout);
		config_free(config);
		free(config);
		return 0;
	}

	lean_libraries();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct daemon *daemon = NULL;
	int status;
	if (daemon_new(config, &daemon, &status) == 0) {
		status = daemon_run(daemon);
		daemon_free(daemon);
	}
	curl_global_cleanup();
	return status;
}
