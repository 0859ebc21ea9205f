#ifndef PACKLEDGER_COPENSSL_SHIM_H
#define PACKLEDGER_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/crypto.h>

/* BIO_get_mem_data is a macro over BIO_ctrl; Swift cannot call macros. */
static inline long packledger_bio_get_mem_data(BIO *bio, char **out) {
    return BIO_get_mem_data(bio, out);
}

#include <openssl/sha.h>

/* SHA-256 on a context the caller owns (on its stack). EVP_DigestInit_ex in OpenSSL 3.0 frees
 * and allocates the provider's context on every call, even when reusing an EVP_MD_CTX for the
 * same digest, and the ledger hashes two to four times per entry. The low-level functions run
 * the same implementation without allocating; they are deprecated in 3.0, hence the wrappers,
 * which confine the deprecation to C. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline int packledger_sha256_init(SHA256_CTX *c) { return SHA256_Init(c); }
static inline int packledger_sha256_update(SHA256_CTX *c, const void *data, size_t length) { return SHA256_Update(c, data, length); }
static inline int packledger_sha256_final(unsigned char *md, SHA256_CTX *c) { return SHA256_Final(md, c); }
#pragma GCC diagnostic pop
#endif
