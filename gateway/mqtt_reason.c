/* mqtt_reason.c — see mqtt_reason.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <MQTTReasonCodes.h>

#include "mqtt_reason.h"

char *mqtt_reason_refusal(int code, const char *who, bool client_id_hint, char *text, size_t size)
{
	static const char *const v3[] = {
		[1] = "unacceptable protocol version (see version)",
		[2] = "client id not accepted",
		[3] = "server unavailable",
		[4] = "bad user name or password (see username and password_file)",
		[5] = "not authorised (see username and password_file)",
	};
	if (code >= 1 && code <= 5) {
		snprintf(text, size, "the broker refused %s: %s%s", who, v3[code],
		         code == 2 && client_id_hint ? " (see client_id)" : "");
		return text;
	}
	const char *hint = code == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD || code == MQTTREASONCODE_NOT_AUTHORIZED
	                   ? " (see username and password_file)"
	                   : code == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION ? " (see version)" : "";
	const char *name = MQTTReasonCode_toString((enum MQTTReasonCodes)code);
	/* "Not authorized": in a sentence, as the 3.1.1 words above. */
	snprintf(text, size, "the broker refused %s: %c%s%s", who,
	         name && name[0] ? tolower((unsigned char)name[0]) : '?', name && name[0] ? name + 1 : "", hint);
	return text;
}

char *mqtt_reason_openssl(const char *line, size_t length, char *reason, size_t size)
{
	char copy[512];
	snprintf(copy, sizeof(copy), "%.*s", (int)(length < sizeof(copy) ? length : sizeof(copy)), line);
	/* Past ":error:", the code, the library and the function. */
	char *field = strstr(copy, ":error:");
	for (int skip = 0; field && skip < 4; skip++)
		field = strchr(field + 1, ':');
	if (!field)
		return NULL;
	field++;
	field[strcspn(field, ":\n")] = '\0';
	for (char *p = field; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(reason, size, "%s", field);
	return reason;
}

char *mqtt_reason_failure(const char *why, const char *ssl_reason, char *text, size_t size)
{
	if (ssl_reason && ssl_reason[0])
		snprintf(text, size, "%s (TLS: %s)", why, ssl_reason);
	else
		snprintf(text, size, "%s", why);
	return text;
}
