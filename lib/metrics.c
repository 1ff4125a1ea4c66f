/*
 * metrics - the registry of families and series in a shared mapping, and
 * the text exposition format.  See metrics.h for the interface and the
 * limits.
 *
 * Layout of the shared mapping: a spin lock for inserts, the count of
 * series made, the series themselves (value, family, hash, label values
 * joined by METRICS_SEP), and an open-addressing index (hash -> series
 * number + 1) twice the size of the series array.  A reader probes the
 * index without the lock: an index slot is published (release) only after
 * its series is complete, and never changes afterwards.
 *
 * Families live in ordinary memory: they are all registered before the
 * first fork that shares the mapping, so every process holds the same
 * table.
 */
#include "metrics.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "clock.h"
#include "log.h"

#define METRICS_SEP '\x1f'                      /* between label values */
#define METRICS_INDEX_SIZE (2 * METRICS_MAX_SERIES) /* a power of two */

struct metrics_series {
    atomic_llong value;
    uint32_t family;
    uint32_t hash;
    char key[METRICS_KEY_MAX];
};

struct metrics_shm {
    atomic_int lock;
    atomic_uint nseries;
    atomic_llong dropped;
    atomic_uint index[METRICS_INDEX_SIZE];
    struct metrics_series series[METRICS_MAX_SERIES];
};

struct metrics_family {
    enum metrics_type type;
    uint32_t id;
    int nlabels;
    char name[METRICS_NAME_MAX];
    char help[METRICS_HELP_MAX];
    char labels[METRICS_MAX_LABELS][METRICS_NAME_MAX];
};

static struct metrics_shm *shm;
static struct metrics_family families[METRICS_MAX_FAMILIES];
static unsigned nfamilies;
extern int metrics_http_started; /* metrics_http.c: no registering after */

struct metrics_family *metrics_db_errors, *metrics_db_failovers,
    *metrics_ldap_errors, *metrics_ldap_failovers, *metrics_conn_open,
    *metrics_conn_total, *metrics_snap_generation, *metrics_snap_loads,
    *metrics_snap_age;

static struct {
    pthread_mutex_t lock;
    int n;
    metrics_health_fn fn[METRICS_HEALTH_MAX];
    void *ctx[METRICS_HEALTH_MAX];
} health = {PTHREAD_MUTEX_INITIALIZER, 0, {0}, {0}};

static void lib_families(void)
{
    metrics_db_errors = metrics_register(
        METRICS_COUNTER, "postern_db_errors_total",
        "Database errors by kind (connect: no host answered; query: a "
        "statement failed).", "kind");
    metrics_db_failovers = metrics_register(
        METRICS_COUNTER, "postern_db_failovers_total",
        "Database connections dropped as unusable; the next attempt tries "
        "the next host.", NULL);
    metrics_ldap_errors = metrics_register(
        METRICS_COUNTER, "postern_ldap_errors_total",
        "LDAP errors by kind (connect: no server answered or bound; search).",
        "kind");
    metrics_ldap_failovers = metrics_register(
        METRICS_COUNTER, "postern_ldap_failovers_total",
        "LDAP connections dropped; the next attempt tries the servers again "
        "in order.", NULL);
    metrics_conn_open = metrics_register(
        METRICS_GAUGE, "postern_connections_open",
        "Client connections open now.", NULL);
    metrics_conn_total = metrics_register(
        METRICS_COUNTER, "postern_connections_total",
        "Client connections accepted.", NULL);
    metrics_snap_generation = metrics_register(
        METRICS_GAUGE, "postern_snapshot_generation",
        "Snapshots of SQL tables handed over (full loads and deltas).",
        "what");
    metrics_snap_loads = metrics_register(
        METRICS_COUNTER, "postern_snapshot_loads_total",
        "Snapshot reads by kind (full, delta, error).", "what,kind");
    metrics_snap_age = metrics_register(
        METRICS_AGE, "postern_snapshot_age_seconds",
        "Seconds since the database was last read for the snapshot.",
        "what");
    metrics_series(metrics_db_failovers, NULL);
    metrics_series(metrics_ldap_failovers, NULL);
    metrics_series(metrics_conn_open, NULL);
    metrics_series(metrics_conn_total, NULL);
    metrics_series(metrics_db_errors, METRICS_L("connect"));
    metrics_series(metrics_db_errors, METRICS_L("query"));
}

int metrics_init(struct str *err)
{
    void *p;

    if (shm != NULL)
        return 0;
    p = mmap(NULL, sizeof(struct metrics_shm), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        str_appendf(err, "metrics: cannot map %zu bytes: %m",
                    sizeof(struct metrics_shm));
        return -1;
    }
    shm = p; /* zero-filled by the kernel */
    lib_families();
    return 0;
}

int metrics_enabled(void)
{
    return shm != NULL;
}

/* --- registering ---------------------------------------------------------- */

static int name_ok(const char *s, int colon)
{
    size_t n = strlen(s);

    if (n == 0 || n >= METRICS_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || (colon && c == ':')))
            return 0;
    }
    return 1;
}

static void parse_labels(struct metrics_family *f, const char *labels)
{
    const char *p = labels ? labels : "";

    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (f->nlabels == METRICS_MAX_LABELS || n == 0 ||
            n >= METRICS_NAME_MAX)
            log_panic("metrics: %s: bad label list '%s'", f->name, labels);
        memcpy(f->labels[f->nlabels], p, n);
        f->labels[f->nlabels][n] = '\0';
        if (!name_ok(f->labels[f->nlabels], 0))
            log_panic("metrics: %s: bad label name '%s'", f->name,
                      f->labels[f->nlabels]);
        f->nlabels++;
        p += n + (e != NULL);
    }
}

struct metrics_family *metrics_register(enum metrics_type type,
                                        const char *name, const char *help,
                                        const char *labels)
{
    struct metrics_family *f;

    if (shm == NULL)
        return NULL;
    for (unsigned i = 0; i < nfamilies; i++)
        if (!strcmp(families[i].name, name))
            return &families[i];
    if (metrics_http_started)
        log_panic("metrics: %s registered after the endpoint started", name);
    if (!name_ok(name, 1) || nfamilies == METRICS_MAX_FAMILIES ||
        strlen(help) >= METRICS_HELP_MAX)
        log_panic("metrics: cannot register '%s' (bad name, help too long, "
                  "or more than %d families)", name, METRICS_MAX_FAMILIES);
    f = &families[nfamilies];
    *f = (struct metrics_family){.type = type, .id = nfamilies};
    memcpy(f->name, name, strlen(name) + 1);
    memcpy(f->help, help, strlen(help) + 1);
    parse_labels(f, labels);
    nfamilies++;
    return f;
}

/* --- series --------------------------------------------------------------- */

/* make_key - the label values joined by METRICS_SEP, made safe, cut at
   METRICS_KEY_MAX - 1 */
static size_t make_key(const struct metrics_family *f,
                       const char *const *values, char *key)
{
    size_t n = 0;

    for (int i = 0; i < f->nlabels; i++) {
        const char *v = values[i] ? values[i] : "";
        if (i > 0 && n < METRICS_KEY_MAX - 1)
            key[n++] = METRICS_SEP;
        for (; *v && n < METRICS_KEY_MAX - 1; v++) {
            unsigned char c = (unsigned char)*v;
            key[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
    }
    key[n] = '\0';
    return n;
}

static uint32_t hash_key(uint32_t family, const char *key, size_t n)
{
    uint32_t h = 2166136261u ^ family;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

/* probe - the series of (family, key) from index slot *slot on: found
   (its number), or the first empty slot in *slot and -1 */
static int probe(uint32_t family, uint32_t h, const char *key, unsigned *slot)
{
    for (unsigned i = 0; i < METRICS_INDEX_SIZE; i++) {
        unsigned at = (h + i) & (METRICS_INDEX_SIZE - 1);
        unsigned v = atomic_load_explicit(&shm->index[at], memory_order_acquire);
        if (v == 0) {
            *slot = at;
            return -1;
        }
        struct metrics_series *s = &shm->series[v - 1];
        if (s->hash == h && s->family == family && !strcmp(s->key, key))
            return (int)(v - 1);
    }
    *slot = METRICS_INDEX_SIZE;
    return -1;
}

static void spin_lock(void)
{
    int spins = 0;

    while (atomic_exchange_explicit(&shm->lock, 1, memory_order_acquire))
        if (++spins % 64 == 0)
            sched_yield();
}

static void spin_unlock(void)
{
    atomic_store_explicit(&shm->lock, 0, memory_order_release);
}

struct metrics_series *metrics_series(struct metrics_family *f,
                                      const char *const *values)
{
    char key[METRICS_KEY_MAX];
    size_t n;
    uint32_t h;
    unsigned slot, ns;
    int found;

    if (f == NULL || shm == NULL)
        return NULL;
    n = make_key(f, values, key);
    h = hash_key(f->id, key, n);
    if ((found = probe(f->id, h, key, &slot)) >= 0)
        return &shm->series[found];
    spin_lock();
    if ((found = probe(f->id, h, key, &slot)) < 0) {
        ns = atomic_load_explicit(&shm->nseries, memory_order_relaxed);
        if (ns < METRICS_MAX_SERIES && slot < METRICS_INDEX_SIZE) {
            struct metrics_series *s = &shm->series[ns];
            s->family = f->id;
            s->hash = h;
            memcpy(s->key, key, n + 1);
            atomic_store_explicit(&s->value, 0, memory_order_relaxed);
            atomic_store_explicit(&shm->nseries, ns + 1, memory_order_release);
            atomic_store_explicit(&shm->index[slot], ns + 1,
                                  memory_order_release);
            found = (int)ns;
        }
    }
    spin_unlock();
    if (found < 0) {
        atomic_fetch_add_explicit(&shm->dropped, 1, memory_order_relaxed);
        return NULL;
    }
    return &shm->series[found];
}

void metrics_add(struct metrics_series *s, long long n)
{
    if (s)
        atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void metrics_set(struct metrics_series *s, long long v)
{
    if (s)
        atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

void metrics_inc(struct metrics_family *f, const char *const *values)
{
    metrics_add(metrics_series(f, values), 1);
}

long long metrics_get(const struct metrics_series *s)
{
    return s ? atomic_load_explicit(&s->value, memory_order_relaxed) : 0;
}

/* --- the exposition format ------------------------------------------------ */

static void append_escaped(struct str *out, const char *s, size_t n, int quote)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            str_append(out, "\\\\", 2);
        else if (s[i] == '\n')
            str_append(out, "\\n", 2);
        else if (quote && s[i] == '"')
            str_append(out, "\\\"", 2);
        else
            str_append_char(out, s[i]);
    }
}

static void render_series(struct str *out, const struct metrics_family *f,
                          const struct metrics_series *s, long long now)
{
    long long v = atomic_load_explicit(&s->value, memory_order_relaxed);
    const char *k = s->key;

    if (f->type == METRICS_AGE && v == 0)
        return; /* never happened */
    str_append_cstr(out, f->name);
    for (int i = 0; i < f->nlabels; i++) {
        const char *e = strchr(k, METRICS_SEP);
        size_t n = e ? (size_t)(e - k) : strlen(k);
        str_appendf(out, "%s%s=\"", i ? "," : "{", f->labels[i]);
        append_escaped(out, k, n, 1);
        str_append_char(out, '"');
        k += n + (e != NULL);
    }
    if (f->nlabels)
        str_append_char(out, '}');
    if (f->type == METRICS_AGE)
        str_appendf(out, " %.3f\n", (double)(now - v) / 1000.0);
    else
        str_appendf(out, " %lld\n", v);
}

void metrics_render(struct str *out)
{
    unsigned ns;
    long long now = clock_ms();

    if (shm == NULL)
        return;
    ns = atomic_load_explicit(&shm->nseries, memory_order_acquire);
    for (unsigned i = 0; i < nfamilies; i++) {
        const struct metrics_family *f = &families[i];
        str_appendf(out, "# HELP %s ", f->name);
        append_escaped(out, f->help, strlen(f->help), 0);
        str_appendf(out, "\n# TYPE %s %s\n", f->name,
                    f->type == METRICS_COUNTER ? "counter" : "gauge");
        for (unsigned j = 0; j < ns; j++)
            if (shm->series[j].family == f->id)
                render_series(out, f, &shm->series[j], now);
    }
    str_appendf(out, "# HELP postern_metrics_series_dropped_total Label "
                "combinations not counted: the %d series were used up.\n"
                "# TYPE postern_metrics_series_dropped_total counter\n"
                "postern_metrics_series_dropped_total %lld\n",
                METRICS_MAX_SERIES,
                (long long)atomic_load_explicit(&shm->dropped,
                                                memory_order_relaxed));
}

/* --- health --------------------------------------------------------------- */

void metrics_health_add(metrics_health_fn fn, void *ctx)
{
    pthread_mutex_lock(&health.lock);
    if (health.n == METRICS_HEALTH_MAX)
        log_panic("metrics: more than %d health checks", METRICS_HEALTH_MAX);
    health.fn[health.n] = fn;
    health.ctx[health.n] = ctx;
    health.n++;
    pthread_mutex_unlock(&health.lock);
}

void metrics_health_remove(metrics_health_fn fn, void *ctx)
{
    pthread_mutex_lock(&health.lock);
    for (int i = 0; i < health.n; i++)
        if (health.fn[i] == fn && health.ctx[i] == ctx) {
            health.n--;
            memmove(&health.fn[i], &health.fn[i + 1],
                    (size_t)(health.n - i) * sizeof(health.fn[0]));
            memmove(&health.ctx[i], &health.ctx[i + 1],
                    (size_t)(health.n - i) * sizeof(health.ctx[0]));
            break;
        }
    pthread_mutex_unlock(&health.lock);
}

int metrics_health(struct str *why)
{
    int ok = 1;

    pthread_mutex_lock(&health.lock);
    for (int i = 0; i < health.n && ok; i++)
        ok = health.fn[i](health.ctx[i], why);
    pthread_mutex_unlock(&health.lock);
    return ok;
}
