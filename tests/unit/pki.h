/* pki.h — keys and certificates made on the spot for the tests of TLS
 * settings (test_config), with OpenSSL: a CA, certificates it signs, keys
 * locked by a passphrase.  Every failure stops the test through cmocka. */
#ifndef TRYGGD_TEST_PKI_H
#define TRYGGD_TEST_PKI_H

/* A new EC P-256 key in key_path (PEM; locked by passphrase unless it is
 * NULL) and a certificate for it in cert_path, for common_name: a CA of its
 * own when issuer_cert is NULL, else signed by issuer_cert's key in
 * issuer_key (unlocked). */
void pki_make(const char *cert_path, const char *key_path, const char *common_name, const char *issuer_cert,
              const char *issuer_key, const char *passphrase);

/* Writes the files in paths (NULL-ended), one after the other, to out. */
void pki_join(const char *out, const char *const paths[]);

#endif
