/*
 * hash - the one string-keyed hash table of postern (struct hmap): the
 * indexes of snapshots with hundreds of thousands of keys, member sets,
 * cache indexes.
 *
 * Open addressing with linear probing over a power-of-two table, grown at
 * 70 % load; deletion shifts the following entries back (no tombstones).
 * The hash covers the whole key, so keys that share a long prefix or
 * suffix ("postmaster@" of 5,000 domains) do not collide the way glibc
 * hsearch_r's did; it is SipHash-1-3 with a random key per process (the
 * choice of Python and Rust for their tables), so nobody who can choose
 * keys (greylisting triplets from the internet, addresses in mail) can
 * compute a set that collides and turns lookups into linear scans.
 *
 * Flags:
 *   HMAP_NOCASE    ASCII case-insensitive keys (hashing and comparing)
 *   HMAP_COPYKEYS  the table owns a copy of every key; without it keys are
 *                  borrowed and must outlive the table (an arena)
 *
 * Values are opaque pointers and must not be NULL (NULL means "absent").
 * Out of memory is fatal (mem.h).  Limits: HMAP_MAX_ENTRIES keys.
 * Thread safety: none; readers may share a table nobody writes.
 */
#ifndef POSTERN_HASH_H
#define POSTERN_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HMAP_NOCASE 1
#define HMAP_COPYKEYS 2
#define HMAP_MAX_ENTRIES ((size_t)1 << 30)

struct hmap_slot {
    const char *key; /* NULL: empty */
    void *val;
    uint64_t hash;
};

struct hmap {
    struct hmap_slot *slots;
    size_t cap;   /* 0 or a power of two */
    size_t count;
    int flags;
};

/* hmap_init - an empty table with room for hint keys before it grows. */
void hmap_init(struct hmap *m, size_t hint, int flags);
struct hmap *hmap_new(size_t hint, int flags);
/* hmap_free - free the table (and copied keys); free_val may be NULL. */
void hmap_free(struct hmap *m, void (*free_val)(void *));
void hmap_destroy(struct hmap *m, void (*free_val)(void *)); /* + struct */

/* hmap_put - insert key -> val unless key exists; returns the value now
   stored under key (val, or the one that was there). */
void *hmap_put(struct hmap *m, const char *key, void *val);
/* hmap_replace - set key -> val; returns the previous value or NULL. */
void *hmap_replace(struct hmap *m, const char *key, void *val);
void *hmap_get(const struct hmap *m, const char *key);
void *hmap_getn(const struct hmap *m, const char *key, size_t len);
/* hmap_del - remove key; returns its value or NULL. */
void *hmap_del(struct hmap *m, const char *key);
size_t hmap_count(const struct hmap *m);
/* hmap_next - iterate: size_t it = 0; while (hmap_next(m, &it, &k, &v)).
   The table must not change during an iteration. */
int hmap_next(const struct hmap *m, size_t *it, const char **key, void **val);
/* hmap_hash - the table's hash of key[0..len) under flags (for callers
   that shard): keyed per process, so never store or compare it across
   processes. */
uint64_t hmap_hash(const char *key, size_t len, int flags);
/* hash_stable64 - a 64-bit hash that is the same in every process and on
   every host (FNV-1a with a final mix), for text that is stored (not for
   tables that face chosen keys). */
uint64_t hash_stable64(const char *key, size_t len, int flags);
/* hash_siphash - SipHash-c-d of key[0..len) under key k (HMAP_NOCASE in
   flags folds ASCII case first); hmap_hash is SipHash-1-3. */
uint64_t hash_siphash(const uint64_t k[2], int crounds, int drounds,
                      const char *key, size_t len, int flags);

#endif
