/* mqtt_reason.h — why a connection to the broker failed, in words, for
 * tryggd's log (mqtt_link.c) and `tryggctl watch` (watch_mqtt.c) alike.
 *
 * Three pieces: a broker's CONNACK refusal (an MQTT 3.1.1 return code 1 to
 * 5, or an MQTT 5 reason code), with a hint at the setting to look at;
 * OpenSSL's reason taken from one of its error lines, which Paho hands to
 * its ssl_error_cb; and Paho's reason joined with OpenSSL's.
 *
 * Each function writes into the caller's buffer (truncating as snprintf
 * does) and returns that buffer, so a call can stand as a printf argument.
 * No global state: safe on any thread, Paho's included. */
#ifndef TRYGGD_MQTT_REASON_H
#define TRYGGD_MQTT_REASON_H

#include <stdbool.h>
#include <stddef.h>

/* "the broker refused WHO: REASON (see SETTING)": who is "tryggd" or "the
 * watch"; client_id_hint adds "(see client_id)" to return code 2, for a
 * client whose id comes from the configuration.  A code Paho does not
 * know is named "?". */
char *mqtt_reason_refusal(int code, const char *who, bool client_id_hint, char *text, size_t size);

/* OpenSSL's reason in one of its error lines ("…:error:0A000086:SSL
 * routines:FUNCTION:REASON:FILE:LINE:"; length bytes, not necessarily
 * NUL-terminated), with control characters replaced by '?'.  NULL, and
 * the buffer untouched, when the line holds no reason. */
char *mqtt_reason_openssl(const char *line, size_t length, char *reason, size_t size);

/* "WHY (TLS: SSL_REASON)", or just WHY when ssl_reason is NULL or empty. */
char *mqtt_reason_failure(const char *why, const char *ssl_reason, char *text, size_t size);

#endif
