/*
 * hash - string-keyed open-addressing hash table.  See hash.h.
 */
#include "hash.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"

#define HMAP_MIN_CAP 16

static inline unsigned char fold(unsigned char c, int nocase)
{
    return nocase && c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

uint64_t hash_stable64(const char *key, size_t len, int flags)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    int nocase = flags & HMAP_NOCASE;

    for (size_t i = 0; i < len; i++) {
        h ^= fold((unsigned char)key[i], nocase);
        h *= 0x100000001b3ULL;
    }
    /* final mix (murmur3 fmix64): every input bit reaches the low bits */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* --- SipHash (Aumasson and Bernstein 2012) with a per-process key --------- */

static uint64_t hmap_key[2];

/* hmap_key_init - the table key, once per process before main() (so no
   thread can race it): getrandom(2), or time and pid when that fails. */
__attribute__((constructor)) static void hmap_key_init(void)
{
    if (getrandom(hmap_key, sizeof(hmap_key), GRND_NONBLOCK) !=
        (ssize_t)sizeof(hmap_key)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        hmap_key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
                      (uint64_t)getpid();
        hmap_key[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL;
    }
}

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                              \
    do {                                                                      \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);         \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                              \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                              \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);         \
    } while (0)

uint64_t hash_siphash(const uint64_t k[2], int crounds, int drounds,
                      const char *key, size_t len, int flags)
{
    const unsigned char *p = (const unsigned char *)key;
    uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL;
    uint64_t v1 = k[1] ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL;
    uint64_t v3 = k[1] ^ 0x7465646279746573ULL;
    uint64_t m;
    int nocase = flags & HMAP_NOCASE;
    size_t i = 0, j;

    for (; i + 8 <= len; i += 8) {
        m = 0;
        for (j = 0; j < 8; j++)
            m |= (uint64_t)fold(p[i + j], nocase) << (8 * j);
        v3 ^= m;
        for (int r = 0; r < crounds; r++)
            SIPROUND;
        v0 ^= m;
    }
    m = (uint64_t)len << 56;
    for (j = 0; i + j < len; j++)
        m |= (uint64_t)fold(p[i + j], nocase) << (8 * j);
    v3 ^= m;
    for (int r = 0; r < crounds; r++)
        SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    for (int r = 0; r < drounds; r++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t hmap_hash(const char *key, size_t len, int flags)
{
    return hash_siphash(hmap_key, 1, 3, key, len, flags);
}

static int key_eq(const struct hmap *m, const struct hmap_slot *s,
                  uint64_t h, const char *key, size_t len)
{
    if (s->hash != h)
        return 0;
    if (m->flags & HMAP_NOCASE)
        return strncasecmp(s->key, key, len) == 0 && s->key[len] == '\0';
    return strncmp(s->key, key, len) == 0 && s->key[len] == '\0';
}

static size_t cap_for(size_t n)
{
    size_t cap = HMAP_MIN_CAP;

    while (cap * 7 / 10 < n)
        cap *= 2;
    return cap;
}

void hmap_init(struct hmap *m, size_t hint, int flags)
{
    memset(m, 0, sizeof(*m));
    m->flags = flags;
    if (hint > 0) {
        m->cap = cap_for(hint);
        m->slots = xcalloc(m->cap, sizeof(*m->slots));
    }
}

struct hmap *hmap_new(size_t hint, int flags)
{
    struct hmap *m = xmalloc(sizeof(*m));

    hmap_init(m, hint, flags);
    return m;
}

void hmap_free(struct hmap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == NULL)
            continue;
        if (free_val)
            free_val(m->slots[i].val);
        if (m->flags & HMAP_COPYKEYS)
            free((char *)m->slots[i].key);
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

void hmap_destroy(struct hmap *m, void (*free_val)(void *))
{
    if (m == NULL)
        return;
    hmap_free(m, free_val);
    free(m);
}

/* find - the slot holding key, or the empty slot where it would go */
static struct hmap_slot *find(const struct hmap *m, const char *key,
                              size_t len, uint64_t h)
{
    size_t mask = m->cap - 1;

    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct hmap_slot *s = &m->slots[i];
        if (s->key == NULL || key_eq(m, s, h, key, len))
            return s;
    }
}

static void grow(struct hmap *m)
{
    struct hmap_slot *old = m->slots;
    size_t oldcap = m->cap;

    if (m->count >= HMAP_MAX_ENTRIES)
        log_panic("hmap: more than %zu keys", HMAP_MAX_ENTRIES);
    m->cap = oldcap ? oldcap * 2 : HMAP_MIN_CAP;
    m->slots = xcalloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].key == NULL)
            continue;
        size_t mask = m->cap - 1, j = old[i].hash & mask;
        while (m->slots[j].key != NULL)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

static struct hmap_slot *slot_for_insert(struct hmap *m, const char *key,
                                         int *fresh)
{
    size_t len = strlen(key);
    uint64_t h = hmap_hash(key, len, m->flags);
    struct hmap_slot *s;

    if (m->cap == 0 || (m->count + 1) * 10 > m->cap * 7)
        grow(m);
    s = find(m, key, len, h);
    *fresh = s->key == NULL;
    if (*fresh) {
        s->key = m->flags & HMAP_COPYKEYS ? xstrdup(key) : key;
        s->hash = h;
        s->val = NULL;
        m->count++;
    }
    return s;
}

void *hmap_put(struct hmap *m, const char *key, void *val)
{
    int fresh;
    struct hmap_slot *s = slot_for_insert(m, key, &fresh);

    if (fresh)
        s->val = val;
    return s->val;
}

void *hmap_replace(struct hmap *m, const char *key, void *val)
{
    int fresh;
    struct hmap_slot *s = slot_for_insert(m, key, &fresh);
    void *old = fresh ? NULL : s->val;

    s->val = val;
    return old;
}

void *hmap_getn(const struct hmap *m, const char *key, size_t len)
{
    if (m->count == 0)
        return NULL;
    struct hmap_slot *s = find(m, key, len, hmap_hash(key, len, m->flags));
    return s->key ? s->val : NULL;
}

void *hmap_get(const struct hmap *m, const char *key)
{
    return hmap_getn(m, key, strlen(key));
}

void *hmap_del(struct hmap *m, const char *key)
{
    size_t len = strlen(key), mask = m->cap - 1, i, j;
    struct hmap_slot *s;
    void *val;

    if (m->count == 0)
        return NULL;
    s = find(m, key, len, hmap_hash(key, len, m->flags));
    if (s->key == NULL)
        return NULL;
    val = s->val;
    if (m->flags & HMAP_COPYKEYS)
        free((char *)s->key);
    /* backward-shift deletion: move later members of the probe run into
       the hole when their home slot does not lie after it */
    i = (size_t)(s - m->slots);
    for (j = (i + 1) & mask; m->slots[j].key != NULL; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->slots[i].val = NULL;
    m->count--;
    return val;
}

size_t hmap_count(const struct hmap *m)
{
    return m->count;
}

int hmap_next(const struct hmap *m, size_t *it, const char **key, void **val)
{
    while (*it < m->cap) {
        const struct hmap_slot *s = &m->slots[(*it)++];
        if (s->key != NULL) {
            if (key)
                *key = s->key;
            if (val)
                *val = s->val;
            return 1;
        }
    }
    return 0;
}
