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
#endif
