/* config_mqtt_security.c — [mqtt]'s keys for who tryggd is to the broker
 * and whom it trusts: username and password_file; TLS with ca_file,
 * ca_dir, cert_file, key_file and verify; and proxy.
 *
 * What can be known before connecting is checked here, so that `--check`
 * finds it on the board: every file is there and readable, a certificate
 * file holds a certificate, a key is not locked by a passphrase and belongs
 * to its certificate, a password file holds one line.  The password is read
 * for that and zeroed at once; mqtt.c reads it again at start.  No message
 * shows a secret, only where it is.
 *
 * Brokers either all use TLS or none does: a failover from an encrypted
 * broker to a plain one would send the password and the data in clear. */
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config_internal.h"
#include "credentials.h"
#include "parse.h"

#define USERNAME_MAX 1024

static bool uri_is_tls(const char *uri)
{
	return strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0 || strncmp(uri, "wss://", 6) == 0;
}

/* A *_file key: the file's absolute path (see credentials.h for where a
 * relative name is looked), or NULL when absent or reported. */
char *config_take_file(struct loader *loader, struct raw_section *section, const char *key,
                       struct raw_entry **entry_out)
{
	bool valid;
	struct raw_entry *entry = config_take_text(loader, section, key, false, PATH_MAX - 1, &valid);
	*entry_out = entry;
	if (!entry || !valid)
		return NULL;
	char *path = NULL;
	if (credential_locate(entry->value, loader->directory, &path) < 0) {
		loader->out_of_memory = true;
		return NULL;
	}
	/* O_NONBLOCK: a FIFO named here must not hang --check in open().  A
	 * directory is named as such where the file is read. */
	int descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int error = descriptor < 0 ? errno : 0;
	struct stat status;
	if (descriptor >= 0 && fstat(descriptor, &status) == 0 && !S_ISREG(status.st_mode) &&
	    !S_ISDIR(status.st_mode))
		error = ENXIO;
	if (descriptor >= 0)
		close(descriptor);
	if (error == 0) {
		/* Shown in the summary and in messages: without "../". */
		char *real = realpath(path, NULL);
		if (real) {
			free(path);
			path = real;
		}
		return path;
	}

	char shown_buffer[SHOWN_VALUE_SIZE];
	const char *reason = error == ENXIO ? "not a regular file" : strerror(error);
	const char *credentials = getenv("CREDENTIALS_DIRECTORY");
	if (entry->value[0] == '/')
		config_report(loader, entry->line, "%s: cannot read %s: %s", key, path, reason);
	else if (error == ENOENT && credentials && credentials[0] == '/')
		config_report(loader, entry->line, "%s: cannot read '%s': not in $CREDENTIALS_DIRECTORY (%s) nor in %s",
		              key, config_shown(entry->value, shown_buffer), credentials, loader->directory);
	else if (error == ENOENT)
		config_report(loader, entry->line, "%s: cannot read %s: %s ($CREDENTIALS_DIRECTORY is not set)", key,
		              path, reason);
	else
		config_report(loader, entry->line, "%s: cannot read %s: %s", key, path, reason);
	free(path);
	return NULL;
}

/* A passphrase is never asked for: tryggd runs unattended. */
static int no_passphrase(char *buffer, int size, int writing, void *asked)
{
	(void)buffer;
	(void)size;
	(void)writing;
	*(bool *)asked = true;
	return -1;
}

static X509 *read_certificate(const char *path, int *count)
{
	X509 *first = NULL;
	*count = 0;
	BIO *bio = BIO_new_file(path, "r");
	if (!bio)
		return NULL;
	X509 *certificate;
	while ((certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!first)
			first = certificate;
		else
			X509_free(certificate);
		(*count)++;
	}
	BIO_free(bio);
	ERR_clear_error();   /* the end of the file reads as an error */
	return first;
}

static EVP_PKEY *read_key(const char *path, bool *encrypted)
{
	*encrypted = false;
	BIO *bio = BIO_new_file(path, "r");
	if (!bio)
		return NULL;
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, encrypted);
	BIO_free(bio);
	ERR_clear_error();
	return key;
}

/* OpenSSL's hashed names, as `openssl rehash` makes them: 9d66eef0.0. */
static bool is_hashed_name(const char *name)
{
	size_t hex = strspn(name, "0123456789abcdef");
	if (hex != 8 || name[8] != '.')
		return false;
	const char *suffix = name + 9 + (name[9] == 'r');
	return suffix[0] && strspn(suffix, "0123456789") == strlen(suffix);
}

static char *take_ca_dir(struct loader *loader, struct raw_section *section, struct raw_entry **entry_out)
{
	bool valid;
	struct raw_entry *entry = config_take_text(loader, section, "ca_dir", false, PATH_MAX - 1, &valid);
	*entry_out = entry;
	if (!entry || !valid)
		return NULL;
	char *path = config_resolve_path(loader, entry->value);
	if (!path)
		return NULL;
	DIR *directory = opendir(path);
	if (!directory) {
		config_report(loader, entry->line, "ca_dir: cannot read %s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	bool hashed = false;
	struct dirent *item;
	while (!hashed && (item = readdir(directory)))
		hashed = is_hashed_name(item->d_name);
	closedir(directory);
	if (!hashed) {
		config_report(loader, entry->line,
		              "ca_dir: %s holds no certificate under a hashed name such as 9d66eef0.0; "
		              "run 'openssl rehash' on it", path);
		free(path);
		return NULL;
	}
	return path;
}

/* HOST:PORT or http://HOST:PORT[/]; NULL when good, or what is wrong. */
const char *config_parse_proxy(const char *text, char **out)
{
	const char *host = text;
	if (strncmp(text, "http://", 7) == 0)
		host += 7;
	else if (strstr(text, "://"))
		return "expected HOST:PORT or http://HOST:PORT (tryggd asks the proxy with a plain HTTP CONNECT)";
	const char *problem = NULL;
	const char *host_end = config_host_end(host, &problem);
	if (!host_end)
		return problem;
	if (host_end == host)
		return "expected HOST:PORT or http://HOST:PORT";
	if (host_end[0] != ':')
		return "missing port, e.g. proxy.example:3128";
	const char *port = host_end + 1;
	size_t digits;
	if (!config_port(port, &digits))
		return "the port must be from 1 to 65535";
	if (strcmp(port + digits, "") != 0 && strcmp(port + digits, "/") != 0)
		return "unexpected text after the port";
	/* Paho takes it bare: it strips "http://" only for plain brokers and
	 * misreads it for TLS ones. */
	*out = strndup(host, (size_t)(port + digits - host));
	return NULL;
}

static void take_proxy(struct loader *loader, struct raw_section *section, struct mqtt_config *mqtt)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	bool valid;
	struct raw_entry *entry = config_take_text(loader, section, "proxy", false, 512, &valid);
	if (!entry || !valid || strcmp(entry->value, "none") == 0)
		return;
	char *proxy = NULL;
	if (strchr(entry->value, '@')) {
		/* Not quoted back: it may hold a password. */
		config_report(loader, entry->line,
		              "proxy: a user name or password in the proxy's address is not supported (secrets do not go "
		              "in the config)");
		return;
	}
	const char *problem = config_parse_proxy(entry->value, &proxy);
	if (problem)
		config_report(loader, entry->line, "proxy: %s, got '%s'", problem, config_shown(entry->value, shown_buffer));
	else if (!proxy)
		loader->out_of_memory = true;
	mqtt->proxy = proxy;
}

static void take_credentials(struct loader *loader, struct raw_section *section, struct mqtt_config *mqtt)
{
	bool valid;
	struct raw_entry *user = config_take_text(loader, section, "username", false, USERNAME_MAX, &valid);
	if (user && valid)
		mqtt->username = config_copy_text(loader, user->value);

	struct raw_entry *entry = config_take(section, "password");
	if (entry)
		config_report(loader, entry->line,
		              "password: secrets do not go in the config; put the password in a file of its own and name "
		              "it with password_file");
	char *path = config_take_file(loader, section, "password_file", &entry);
	if (entry && !user) {
		config_report(loader, entry->line, "password_file: needs username (MQTT sends no password without one)");
		free(path);
		return;
	}
	if (!path)
		return;
	if (!config_secret_readable(loader, entry, path)) {
		free(path);
		return;
	}
	mqtt->password_file = path;
}

bool config_secret_readable(struct loader *loader, const struct raw_entry *entry, const char *path)
{
	/* Read once and forgotten: the secret itself is read again where it
	 * is used, so a rotated file is picked up. */
	char *secret = NULL;
	int r = credential_read(path, &secret);
	credential_free(secret);
	if (r < 0)
		config_report(loader, entry->line, "%s: %s: %s", entry->key, path, credential_strerror(r));
	return r >= 0;
}

/* The client's certificate and key: each readable, the key unlocked and
 * the certificate's. */
static void take_client_certificate(struct loader *loader, struct raw_section *section, struct mqtt_config *mqtt)
{
	struct raw_entry *cert_entry, *key_entry;
	char *cert_file = config_take_file(loader, section, "cert_file", &cert_entry);
	char *key_file = config_take_file(loader, section, "key_file", &key_entry);
	if (key_entry && !cert_entry) {
		config_report(loader, key_entry->line, "key_file: needs cert_file, the certificate the key belongs to");
		goto out;
	}
	if (!cert_file || (key_entry && !key_file))
		goto out;

	int count;
	X509 *certificate = read_certificate(cert_file, &count);
	if (!certificate) {
		config_report(loader, cert_entry->line,
		              "cert_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", cert_file);
		goto out;
	}
	const char *key_path = key_file ? key_file : cert_file;
	const struct raw_entry *key_line = key_file ? key_entry : cert_entry;
	bool encrypted;
	EVP_PKEY *key = read_key(key_path, &encrypted);
	if (!key && encrypted)
		config_report(loader, key_line->line,
		              "%s: the key in %s is locked by a passphrase; tryggd needs it unlocked "
		              "(keep it readable only by tryggd, e.g. through LoadCredential=)",
		              key_file ? "key_file" : "cert_file", key_path);
	else if (!key && key_file)
		config_report(loader, key_line->line, "key_file: %s holds no PEM private key", key_path);
	else if (!key)
		config_report(loader, key_line->line,
		              "cert_file: %s holds no private key; name the key's file with key_file", cert_file);
	else if (X509_check_private_key(certificate, key) != 1)
		config_report(loader, key_line->line, "%s: the key in %s does not belong to the certificate in %s",
		              key_file ? "key_file" : "cert_file", key_path, cert_file);
	else {
		mqtt->cert_file = cert_file;
		mqtt->key_file = key_file;
		cert_file = key_file = NULL;
	}
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(certificate);
out:
	free(cert_file);
	free(key_file);
}

static void take_trust(struct loader *loader, struct raw_section *section, struct mqtt_config *mqtt)
{
	struct raw_entry *entry;
	char *ca_file = config_take_file(loader, section, "ca_file", &entry);
	if (ca_file) {
		int count;
		X509 *first = read_certificate(ca_file, &count);
		X509_free(first);
		if (count == 0) {
			config_report(loader, entry->line,
			              "ca_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", ca_file);
			free(ca_file);
			ca_file = NULL;
		}
	}
	mqtt->ca_file = ca_file;
	mqtt->ca_dir = take_ca_dir(loader, section, &entry);
}

void config_validate_mqtt_security(struct loader *loader, struct raw_section *section,
                                   const struct raw_entry *uri, struct config *config)
{
	char shown_buffer[SHOWN_VALUE_SIZE];
	struct mqtt_config *mqtt = &config->mqtt;
	mqtt->verify = true;

	size_t tls = 0;
	for (size_t i = 0; i < mqtt->uri_count; i++)
		tls += uri_is_tls(mqtt->uris[i]);
	if (tls > 0 && tls < mqtt->uri_count)
		config_report(loader, uri->line,
		              "uri: either every broker uses TLS (ssl, mqtts, wss) or none does: a failover to a plain "
		              "one would send in clear");
	mqtt->tls = tls > 0;

	take_credentials(loader, section, mqtt);
	take_proxy(loader, section, mqtt);

	/* TLS settings for plain brokers would protect nothing: say so, and
	 * leave their files alone. */
	static const char *const tls_keys[] = { "ca_file", "ca_dir", "cert_file", "key_file", "verify" };
	if (mqtt->uri_count > 0 && tls == 0) {
		for (size_t i = 0; i < sizeof(tls_keys) / sizeof(tls_keys[0]); i++) {
			struct raw_entry *entry = config_take(section, tls_keys[i]);
			if (entry)
				config_report(loader, entry->line,
				              "%s: only for brokers reached over TLS (ssl://, mqtts://, wss://), and uri names "
				              "none", tls_keys[i]);
		}
		return;
	}
	take_trust(loader, section, mqtt);
	take_client_certificate(loader, section, mqtt);
	struct raw_entry *entry = config_take(section, "verify");
	if (entry && !parse_boolean(entry->value, &mqtt->verify))
		config_report(loader, entry->line, "verify: expected yes or no, got '%s'",
		              config_shown(entry->value, shown_buffer));
}

void config_print_mqtt_security(const struct mqtt_config *mqtt, FILE *out)
{
	const char *indent = "            ";
	if (mqtt->tls) {
		fprintf(out, "%sTLS: ", indent);
		if (!mqtt->verify)
			fprintf(out, "the broker's certificate is NOT checked (verify = no)\n");
		else if (mqtt->ca_file || mqtt->ca_dir)
			fprintf(out, "the broker's certificate and host name checked against %s%s%s\n",
			        mqtt->ca_file ? mqtt->ca_file : "", mqtt->ca_file && mqtt->ca_dir ? " and " : "",
			        mqtt->ca_dir ? mqtt->ca_dir : "");
		else
			fprintf(out, "the broker's certificate and host name checked against the system's CA store\n");
		if (mqtt->cert_file)
			fprintf(out, "%sclient certificate %s, key %s\n", indent, mqtt->cert_file,
			        mqtt->key_file ? mqtt->key_file : "in the same file");
	}
	if (mqtt->username) {
		fprintf(out, "%suser %s, ", indent, mqtt->username);
		if (!mqtt->password_file)
			fprintf(out, "no password\n");
		else
			fprintf(out, "password from %s%s%s\n", mqtt->password_file,
			        credential_world_readable(mqtt->password_file) ? " (readable by every user: chmod o-r)" : "",
			        mqtt->tls ? "" : " (sent unencrypted: the broker is not TLS)");
	}
	if (mqtt->proxy)
		fprintf(out, "%sthrough the HTTP proxy %s\n", indent, mqtt->proxy);
	else
		fprintf(out, "%sno proxy (%s in the environment is not used)\n", indent,
		        mqtt->tls ? "https_proxy" : "http_proxy");
}
