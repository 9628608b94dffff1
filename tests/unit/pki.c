/* pki.c — see pki.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki.h"

static EVP_PKEY *read_key(const char *path)
{
	FILE *file = fopen(path, "r");
	assert_non_null(file);
	EVP_PKEY *key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
	fclose(file);
	assert_non_null(key);
	return key;
}

static X509 *read_certificate(const char *path)
{
	FILE *file = fopen(path, "r");
	assert_non_null(file);
	X509 *certificate = PEM_read_X509(file, NULL, NULL, NULL);
	fclose(file);
	assert_non_null(certificate);
	return certificate;
}

void pki_make(const char *cert_path, const char *key_path, const char *common_name, const char *issuer_cert,
              const char *issuer_key, const char *passphrase)
{
	static long serial = 1;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	assert_non_null(key);
	X509 *certificate = X509_new();
	assert_non_null(certificate);
	assert_int_equal(X509_set_version(certificate, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial++);
	X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
	X509_gmtime_adj(X509_getm_notAfter(certificate), 86400);
	X509_NAME *name = X509_get_subject_name(certificate);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0);
	X509_set_pubkey(certificate, key);

	X509 *issuer = issuer_cert ? read_certificate(issuer_cert) : NULL;
	EVP_PKEY *signer = issuer_key ? read_key(issuer_key) : NULL;
	X509_set_issuer_name(certificate, issuer ? X509_get_subject_name(issuer) : name);
	assert_true(X509_sign(certificate, signer ? signer : key, EVP_sha256()) > 0);

	FILE *file = fopen(key_path, "w");
	assert_non_null(file);
	assert_int_equal(PEM_write_PrivateKey(file, key, passphrase ? EVP_aes_256_cbc() : NULL, NULL, 0, NULL,
	                                      (void *)passphrase), 1);
	assert_int_equal(fclose(file), 0);
	file = fopen(cert_path, "w");
	assert_non_null(file);
	assert_int_equal(PEM_write_X509(file, certificate), 1);
	assert_int_equal(fclose(file), 0);

	X509_free(issuer);
	EVP_PKEY_free(signer);
	X509_free(certificate);
	EVP_PKEY_free(key);
}

void pki_join(const char *out, const char *const paths[])
{
	FILE *target = fopen(out, "w");
	assert_non_null(target);
	for (size_t i = 0; paths[i]; i++) {
		FILE *source = fopen(paths[i], "r");
		assert_non_null(source);
		char buffer[4096];
		size_t got;
		while ((got = fread(buffer, 1, sizeof(buffer), source)) > 0)
			assert_int_equal(fwrite(buffer, 1, got, target), got);
		fclose(source);
	}
	assert_int_equal(fclose(target), 0);
}
