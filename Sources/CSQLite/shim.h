#ifndef PACKLEDGER_CSQLITE_SHIM_H
#define PACKLEDGER_CSQLITE_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast macro Swift cannot import. */
static inline sqlite3_destructor_type packledger_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/* sqlite3_config is variadic, which Swift cannot call. Turning off memory statistics removes
   a global mutex taken on every SQLite allocation; it must run before SQLite initialises. */
static inline int packledger_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
/* A hint to load the cache line at `address` ahead of its use (__builtin_prefetch is a compiler
   builtin Swift cannot call). Here because the storage layer, its one user, imports this module:
   an import's check of "was this event id written in this transaction" reads a random word of an
   8 MiB filter for every event, and loading it a few events early hides the memory latency. */
static inline void packledger_prefetch(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
#endif
