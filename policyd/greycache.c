/*
 * greycache - greylisting state in memory, in front of MariaDB.
 *
 * The database stays the truth that every MX host shares; this cache keeps
 * the triplets and client networks this host has seen, so that retries and
 * known senders are answered from memory, and it batches the writes:
 *
 *   reads   a triplet or client not in the cache, or cached longer than
 *           [policyd] greylist_cache_ttl ago, is read from the database
 *           (one statement for both); the answer is cached.  A state this
 *           host changed is answered from the cache, whatever the ttl,
 *           until the writer has committed the change (each queued change
 *           has a sequence number; the writer publishes the last one
 *           committed), and a state read meanwhile never replaces it: the
 *           database does not have it yet.
 *   writes  state changes are queued and written by one flusher thread
 *           every 100 ms (or at GC_FLUSH_AT queued changes), many rows per
 *           statement and one transaction per batch, run again as a whole
 *           after a deadlock or a lost connection and never committed in
 *           part; a change the server refuses is logged and dropped, the
 *           rest of its batch is written.  "Seen again"
 *           updates of last_seen are written at most every GC_SEEN_GRAIN
 *           seconds per row (expiry is counted in days).  The
 *           sender-domain whitelist (greylist_domain_awl) is written the
 *           same way (GC_DOMAIN_PASS, GC_DOMAIN_SEEN).
 *
 * What this changes, and why it keeps the semantics: a first sight is in
 * the database within ~100 ms, long before any retry (minutes); a host
 * that meets a triplet first written by another host reads it from the
 * database (cache miss).  If the process dies, at most the last 100 ms of
 * greylisting state is lost: those senders are greylisted once more, no
 * mail is lost.  Database down: the queue keeps up to GC_QUEUE_MAX changes
 * and is retried; beyond that, changes are dropped with a warning (soft
 * state).
 *
 * Limits: greylist_cache_size entries (triplets plus clients).  The cache
 * is split into GC_SHARDS_MAX shards at most (one per GC_SHARD_MIN entries
 * of the bound: a cache of fewer than 2 * GC_SHARD_MIN entries is one
 * shard), each with its own lock, its own share of the bound and a list of
 * its entries from the oldest store to the newest.  Eviction is gradual:
 * a store into a full shard first drops its oldest entry, and every store
 * also drops up to GC_EXPIRE_BATCH entries at the old end that are older
 * than greylist_cache_ttl (they would be read again anyway).  So no store
 * holds a lock for more than a few entries' work, the newest entries stay
 * and answer, and a dropped entry is only read again from the database
 * (a miss, never another outcome).  The first time the bound is reached
 * it is logged once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbtext.h"
#include "log.h"
#include "hash.h"
#include "mem.h"
#include "policyd.h"

#define GC_FLUSH_MS 100
#define GC_FLUSH_AT 2000
#define GC_QUEUE_MAX 200000
#define GC_ROWS 16                 /* rows per multi-row INSERT */
#define GC_TX_TRIES 3              /* whole-batch runs after a deadlock or
                                      a lost connection, per flush */
#define GC_SHARDS_MAX 64           /* locks (and eviction lists) of the cache */
#define GC_SHARD_MIN 1024          /* entries of the bound per shard, at least */
#define GC_EXPIRE_BATCH 2          /* expired entries dropped per store */

struct gc_entry {
    struct gc_entry *prev, *next;  /* the shard's list, oldest store first */
    struct gc_state st;
    unsigned long long seq;        /* this host's write of it (0: none) */
    char key[];
};

struct gc_shard {
    pthread_mutex_t lock;
    struct hmap index;             /* key -> struct gc_entry (keys borrowed) */
    struct gc_entry *oldest, *newest;
    size_t max;                    /* this shard's share of the bound */
};

struct gc_cache {
    struct gc_shard *shard;
    unsigned nshards;              /* a power of two */
    atomic_llong ttl;              /* seconds; 0: within the same second */
    atomic_ullong done;            /* writes up to this seq are committed */
    atomic_int full_logged;
};

struct gc_op {
    struct gc_op *next;
    unsigned long long seq;        /* in queue order, from 1 */
    int type;                      /* enum gc_op_type */
    long long now, first;
    char *net, *sender, *rcpt;     /* one allocation, see op_new */
};

struct greycache {
    pthread_mutex_t lock;          /* the write queue */
    pthread_cond_t cond;
    struct gc_cache *cache;
    struct gc_op *q, *qtail;
    size_t nq;
    unsigned long long seq;        /* of the last op queued */
    int stop, dropping;
    pthread_t thread;
    struct db_config dbcfg;
};

/* --- the cache --------------------------------------------------------------- */

struct gc_cache *gc_cache_new(size_t max, long long ttl)
{
    struct gc_cache *c = xcalloc(1, sizeof(*c));
    unsigned n = 1;

    if (max < 1)
        max = 1;
    while (n < GC_SHARDS_MAX && (size_t)n * 2 * GC_SHARD_MIN <= max)
        n *= 2;
    c->nshards = n;
    atomic_init(&c->ttl, ttl);
    atomic_init(&c->done, 0);
    c->shard = xcalloc(n, sizeof(*c->shard));
    for (unsigned i = 0; i < n; i++) {
        struct gc_shard *sh = &c->shard[i];
        pthread_mutex_init(&sh->lock, NULL);
        hmap_init(&sh->index, 0, 0);
        sh->max = max / n + (i < max % n); /* the shares add up to max */
    }
    atomic_init(&c->full_logged, 0);
    return c;
}

void gc_cache_free(struct gc_cache *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->nshards; i++) {
        hmap_free(&c->shard[i].index, free);
        pthread_mutex_destroy(&c->shard[i].lock);
    }
    free(c->shard);
    free(c);
}

static struct gc_shard *shard_of(struct gc_cache *c, const char *key)
{
    if (c->nshards == 1)
        return &c->shard[0];
    /* the high bits: the table inside uses the low ones */
    return &c->shard[(hmap_hash(key, strlen(key), 0) >> 40) &
                     (c->nshards - 1)];
}

static void list_unlink(struct gc_shard *sh, struct gc_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        sh->oldest = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        sh->newest = e->prev;
    e->prev = e->next = NULL;
}

static void list_append(struct gc_shard *sh, struct gc_entry *e)
{
    e->next = NULL;
    e->prev = sh->newest;
    if (sh->newest)
        sh->newest->next = e;
    else
        sh->oldest = e;
    sh->newest = e;
}

/* evict_oldest - drop the shard's oldest entry (lock held) */
static void evict_oldest(struct gc_shard *sh)
{
    struct gc_entry *e = sh->oldest;

    list_unlink(sh, e);
    hmap_del(&sh->index, e->key);
    free(e);
}

int gc_cache_get(struct gc_cache *c, const char *key, time_t now,
                 struct gc_state *out)
{
    struct gc_shard *sh = shard_of(c, key);
    long long ttl = atomic_load(&c->ttl);
    int hit = 0;

    pthread_mutex_lock(&sh->lock);
    struct gc_entry *e = hmap_get(&sh->index, key);
    if (e != NULL && (now - e->st.cached_at <= ttl ||
                      e->seq > atomic_load(&c->done))) {
        *out = e->st;
        hit = 1;
    }
    pthread_mutex_unlock(&sh->lock);
    return hit;
}

/* put - store st; read: from the database, else this host's change with
   the sequence number of its queued write (0: none queued) */
static void put(struct gc_cache *c, const char *key, const struct gc_state *st,
                unsigned long long seq, int read)
{
    struct gc_shard *sh = shard_of(c, key);
    struct gc_entry *e;
    long long ttl = atomic_load(&c->ttl);
    unsigned long long done = atomic_load(&c->done);
    int full = 0;

    pthread_mutex_lock(&sh->lock);
    /* expired at the old end: dropped a few at a time (never one whose
       write is still queued) */
    for (int i = 0; i < GC_EXPIRE_BATCH && sh->oldest &&
                    sh->oldest->seq <= done &&
                    st->cached_at - sh->oldest->st.cached_at > ttl; i++)
        if (strcmp(sh->oldest->key, key) != 0)
            evict_oldest(sh);
    if ((e = hmap_get(&sh->index, key)) != NULL) {
        if (read && e->seq > done) {
            /* read from the database, which does not have this host's
               newer write yet: the cached state stays */
            pthread_mutex_unlock(&sh->lock);
            return;
        }
        e->st = *st;
        if (read)
            e->seq = 0;
        else if (seq > e->seq)
            e->seq = seq;
        list_unlink(sh, e); /* stored again: the newest */
        list_append(sh, e);
        pthread_mutex_unlock(&sh->lock);
        return;
    }
    if (hmap_count(&sh->index) >= sh->max) {
        evict_oldest(sh);
        full = 1;
    }
    e = xmalloc(sizeof(*e) + strlen(key) + 1);
    strcpy(e->key, key);
    e->st = *st;
    e->seq = read ? 0 : seq;
    hmap_put(&sh->index, e->key, e);
    list_append(sh, e);
    pthread_mutex_unlock(&sh->lock);
    if (full && atomic_exchange(&c->full_logged, 1) == 0)
        log_info("greylisting cache full (%zu entries in %u shards): the "
                 "oldest entries are dropped as new ones come, and read "
                 "from the database again when needed", gc_cache_count(c),
                 c->nshards);
}

void gc_cache_put(struct gc_cache *c, const char *key,
                  const struct gc_state *st)
{
    put(c, key, st, 0, 1);
}

void gc_cache_put_own(struct gc_cache *c, const char *key,
                      const struct gc_state *st, unsigned long long seq)
{
    put(c, key, st, seq, 0);
}

void gc_cache_done(struct gc_cache *c, unsigned long long seq)
{
    atomic_store(&c->done, seq);
}

size_t gc_cache_count(struct gc_cache *c)
{
    size_t n = 0;

    for (unsigned i = 0; i < c->nshards; i++) {
        pthread_mutex_lock(&c->shard[i].lock);
        n += hmap_count(&c->shard[i].index);
        pthread_mutex_unlock(&c->shard[i].lock);
    }
    return n;
}

int gc_get(struct greycache *gc, const char *key, time_t now,
           struct gc_state *out)
{
    return gc_cache_get(gc->cache, key, now, out);
}

void gc_put(struct greycache *gc, const char *key, const struct gc_state *st)
{
    gc_cache_put(gc->cache, key, st);
}

void gc_put_own(struct greycache *gc, const char *key,
                const struct gc_state *st, unsigned long long seq)
{
    gc_cache_put_own(gc->cache, key, st, seq);
}

unsigned long long gc_queue(struct greycache *gc, int type, const char *net,
                            const char *sender, const char *rcpt,
                            long long now, long long first)
{
    unsigned long long seq;
    size_t ln = strlen(net) + 1, ls = strlen(sender) + 1,
           lr = strlen(rcpt) + 1;
    long cn = dbtext_chars(net, ln - 1), cs = dbtext_chars(sender, ls - 1),
         cr = dbtext_chars(rcpt, lr - 1);
    struct gc_op *op;

    if (cn < 0 || cn > PD_COL_NET || cs < 0 || cs > PD_COL_ADDR || cr < 0 ||
        cr > PD_COL_ADDR) { /* a bug of the caller: never a poisoned batch */
        log_warn("greylisting: a state change for client %s, sender <%s>, "
                 "recipient <%s> does not fit the database: kept in memory "
                 "only", log_safe_cstr(net), log_safe_cstr(sender),
                 log_safe_cstr(rcpt));
        return 0;
    }
    op = xmalloc(sizeof(*op) + ln + ls + lr);

    op->next = NULL;
    op->type = type;
    op->now = now;
    op->first = first;
    op->net = (char *)(op + 1);
    op->sender = op->net + ln;
    op->rcpt = op->sender + ls;
    memcpy(op->net, net, ln);
    memcpy(op->sender, sender, ls);
    memcpy(op->rcpt, rcpt, lr);
    pthread_mutex_lock(&gc->lock);
    if (gc->nq >= GC_QUEUE_MAX) {
        if (!gc->dropping)
            log_warn("greylisting: %d state changes wait for the database; "
                     "dropping new ones until it is back", GC_QUEUE_MAX);
        gc->dropping = 1;
        pthread_mutex_unlock(&gc->lock);
        free(op);
        return 0;
    }
    seq = op->seq = ++gc->seq;
    if (gc->qtail)
        gc->qtail->next = op;
    else
        gc->q = op;
    gc->qtail = op;
    if (++gc->nq >= GC_FLUSH_AT)
        pthread_cond_signal(&gc->cond);
    pthread_mutex_unlock(&gc->lock);
    return seq;
}

/* --- writing a batch -------------------------------------------------------- */

#define TRIPLET_HASH PD_TRIPLET_HASH
#define FIRST_ROW "(" TRIPLET_HASH ", ?, ?, ?, ?, ?, 1)"
#define FIRST_HEAD                                                            \
    "INSERT INTO greylist_triplets (triplet_hash, client_net, sender,"       \
    " recipient, first_seen, last_seen, block_count) VALUES "
#define FIRST_TAIL                                                            \
    " ON DUPLICATE KEY UPDATE last_seen = GREATEST(last_seen,"               \
    " VALUES(last_seen)), block_count = block_count + 1"

static const char SQL_FIRST1[] = FIRST_HEAD FIRST_ROW FIRST_TAIL;
static const char SQL_FIRSTN[] =
    FIRST_HEAD FIRST_ROW "," FIRST_ROW "," FIRST_ROW "," FIRST_ROW ","
    FIRST_ROW "," FIRST_ROW "," FIRST_ROW "," FIRST_ROW "," FIRST_ROW ","
    FIRST_ROW "," FIRST_ROW "," FIRST_ROW "," FIRST_ROW "," FIRST_ROW ","
    FIRST_ROW "," FIRST_ROW FIRST_TAIL;
static const char SQL_RESTART[] =
    "UPDATE greylist_triplets SET first_seen = ?, last_seen = ?,"
    " passed_at = NULL, block_count = block_count + 1"
    " WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_BLOCK[] =
    "UPDATE greylist_triplets SET last_seen = GREATEST(last_seen, ?),"
    " block_count = block_count + 1 WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_PASS[] =
    "UPDATE greylist_triplets SET last_seen = GREATEST(last_seen, ?),"
    " pass_count = pass_count + 1, passed_at = IFNULL(passed_at, ?)"
    " WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_SEEN[] =
    "UPDATE greylist_triplets SET last_seen = GREATEST(last_seen, ?)"
    " WHERE triplet_hash = " TRIPLET_HASH;
static const char SQL_CLIENT_PASS[] =
    "INSERT INTO greylist_clients (client_net, first_seen, last_seen,"
    " pass_count) VALUES (?, ?, ?, 1) ON DUPLICATE KEY UPDATE"
    " pass_count = IF(last_seen + ? < VALUES(last_seen), 1, pass_count + 1),"
    " last_seen = GREATEST(last_seen, VALUES(last_seen))";
static const char SQL_CLIENT_SEEN[] =
    "UPDATE greylist_clients SET last_seen = GREATEST(last_seen, ?)"
    " WHERE client_net = ?";
/* the sender-domain whitelist (greylist.c, greylist_domain_awl): a row
   unused for longer than the expiry counts from 1 again */
static const char SQL_DOMAIN_PASS[] =
    "INSERT INTO greylist_domain_awl (sender_domain, client_net, first_seen,"
    " last_seen, pass_count) VALUES (?, ?, ?, ?, 1) ON DUPLICATE KEY UPDATE"
    " pass_count = IF(last_seen + ? < VALUES(last_seen), 1, pass_count + 1),"
    " first_seen = IF(pass_count = 1, VALUES(first_seen), first_seen),"
    " last_seen = GREATEST(last_seen, VALUES(last_seen))";
static const char SQL_DOMAIN_SEEN[] =
    "UPDATE greylist_domain_awl SET last_seen = GREATEST(last_seen, ?)"
    " WHERE sender_domain = ? AND client_net = ?";

_Static_assert(GC_ROWS * 8 <= DB_PARAMS_MAX, "DB_PARAMS_MAX too small");

static int write_firsts(struct db *db, struct gc_op **ops, size_t n,
                        struct str *err)
{
    struct db_param p[GC_ROWS * 8];

    for (size_t i = 0; i < n; i++) {
        struct gc_op *o = ops[i];
        struct db_param *r = &p[i * 8];
        r[0] = DBP_S(o->net);
        r[1] = DBP_S(o->sender);
        r[2] = DBP_S(o->rcpt);
        r[3] = DBP_S(o->net);
        r[4] = DBP_S(o->sender);
        r[5] = DBP_S(o->rcpt);
        r[6] = DBP_I(o->now);
        r[7] = DBP_I(o->now);
    }
    return db_exec(db, n == GC_ROWS ? SQL_FIRSTN : SQL_FIRST1, p, n * 8, NULL,
                   err);
}

static int write_one(struct db *db, struct gc_op *o, struct str *err)
{
    struct db_param k[3] = {DBP_S(o->net), DBP_S(o->sender), DBP_S(o->rcpt)};

    switch (o->type) {
    case GC_RESTART: {
        struct db_param p[] = {DBP_I(o->now), DBP_I(o->now), k[0], k[1], k[2]};
        return db_exec(db, SQL_RESTART, p, 5, NULL, err);
    }
    case GC_BLOCK: {
        struct db_param p[] = {DBP_I(o->now), k[0], k[1], k[2]};
        return db_exec(db, SQL_BLOCK, p, 4, NULL, err);
    }
    case GC_PASS: {
        struct db_param p[] = {DBP_I(o->now), DBP_I(o->now), k[0], k[1], k[2]};
        struct db_param c[] = {k[0], DBP_I(o->now), DBP_I(o->now),
                               DBP_I(o->first /* the expiry */)};
        if (db_exec(db, SQL_PASS, p, 5, NULL, err) < 0)
            return -1;
        return db_exec(db, SQL_CLIENT_PASS, c, 4, NULL, err);
    }
    case GC_SEEN: {
        struct db_param p[] = {DBP_I(o->now), k[0], k[1], k[2]};
        return db_exec(db, SQL_SEEN, p, 4, NULL, err);
    }
    case GC_CLIENT_SEEN: {
        struct db_param p[] = {DBP_I(o->now), k[0]};
        return db_exec(db, SQL_CLIENT_SEEN, p, 2, NULL, err);
    }
    case GC_DOMAIN_PASS: {
        struct db_param p[] = {k[1], k[0], DBP_I(o->now), DBP_I(o->now),
                               DBP_I(o->first /* the expiry */)};
        return db_exec(db, SQL_DOMAIN_PASS, p, 5, NULL, err);
    }
    case GC_DOMAIN_SEEN: {
        struct db_param p[] = {DBP_I(o->now), k[1], k[0]};
        return db_exec(db, SQL_DOMAIN_SEEN, p, 3, NULL, err);
    }
    }
    return 0;
}

/* batch_body - every op of the list, in order: the body of one
   transaction (db_transaction), so it only reads the ops; 0 or LK_TEMP */
static int batch_body(struct db *db, void *ctx, struct str *err)
{
    struct gc_op *firsts[GC_ROWS];
    size_t nf = 0;

    for (struct gc_op *o = ctx; o; o = o->next) {
        if (o->type == GC_FIRST) {
            firsts[nf++] = o;
            if (nf == GC_ROWS) {
                if (write_firsts(db, firsts, nf, err) < 0)
                    return LK_TEMP;
                nf = 0;
            }
            continue;
        }
        /* keep the order for one triplet: pending firsts go first */
        for (size_t i = 0; i < nf; i++)
            if (write_firsts(db, &firsts[i], 1, err) < 0)
                return LK_TEMP;
        nf = 0;
        if (write_one(db, o, err) < 0)
            return LK_TEMP;
    }
    for (size_t i = 0; i < nf; i++)
        if (write_firsts(db, &firsts[i], 1, err) < 0)
            return LK_TEMP;
    return 0;
}

/* item_body - one op alone (not its successors); 0 or LK_TEMP */
static int item_body(struct db *db, void *ctx, struct str *err)
{
    struct gc_op *o = ctx;

    if (o->type == GC_FIRST)
        return write_firsts(db, &o, 1, err) < 0 ? LK_TEMP : 0;
    return write_one(db, o, err) < 0 ? LK_TEMP : 0;
}

static void free_ops(struct gc_op *o)
{
    while (o) {
        struct gc_op *n = o->next;
        free(o);
        o = n;
    }
}

/*
 * flush - write a batch as one transaction, run again as a whole after a
 * deadlock or a lost connection (GC_TX_TRIES times), never committed in
 * part.  When the server refuses a statement (not retryable: one bad item
 * would refuse the batch on every flush), the items are written one by
 * one, each in its own transaction, and a refused item is logged and
 * dropped.  Returns what must wait for the next flush (the batch, or its
 * unwritten rest after a retryable failure; *err says why), NULL when all
 * is written or dropped.
 */
static struct gc_op *flush(struct db *db, struct gc_op *batch, struct str *err)
{
    if (db_transaction(db, batch_body, batch, GC_TX_TRIES, err) == 0) {
        free_ops(batch);
        return NULL;
    }
    if (db_retryable(db))
        return batch;
    log_warn("greylisting writer: a batch was refused (%s); writing its "
             "changes one by one", str_cstr(err));
    while (batch) {
        struct gc_op *o = batch;
        str_reset(err);
        if (db_transaction(db, item_body, o, GC_TX_TRIES, err) < 0) {
            if (db_retryable(db))
                return batch;
            log_warn("greylisting writer: dropped a state change for "
                     "client %s, sender <%s>, recipient <%s>: %s",
                     log_safe_cstr(o->net), log_safe_cstr(o->sender),
                     log_safe_cstr(o->rcpt), str_cstr(err));
        }
        batch = o->next;
        free(o);
    }
    return NULL;
}

static void *flusher(void *arg)
{
    struct greycache *gc = arg;
    struct str err = STR_INIT;
    struct db *db;
    unsigned long long last_seq;
    int down = 0;

    db_thread_init();
    if ((db = db_open(&gc->dbcfg, &err)) == NULL)
        log_error("greylisting writer: database: %s", str_cstr(&err));
    pthread_mutex_lock(&gc->lock);
    while (!gc->stop || gc->q) {
        struct timespec until;
        struct gc_op *batch;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += GC_FLUSH_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!gc->stop && gc->nq < GC_FLUSH_AT)
            pthread_cond_timedwait(&gc->cond, &gc->lock, &until);
        if ((batch = gc->q) == NULL)
            continue;
        last_seq = gc->qtail->seq;
        gc->q = gc->qtail = NULL;
        gc->nq = 0;
        pthread_mutex_unlock(&gc->lock);
        str_reset(&err);
        if ((batch = db ? flush(db, batch, &err) : batch) == NULL) {
            gc_cache_done(gc->cache, last_seq); /* in queue order */
            if (down)
                log_info("greylisting writer: database back");
            down = 0;
            pthread_mutex_lock(&gc->lock);
            gc->dropping = 0;
            continue;
        }
        if (!down)
            log_error("greylisting writer: %s (kept, retried)",
                      db ? str_cstr(&err) : "no database connection");
        down = 1;
        pthread_mutex_lock(&gc->lock);
        if (gc->stop) { /* shutting down with the database away: drop */
            free_ops(batch);
            break;
        }
        /* put the batch back in front, in order */
        {
            struct gc_op *last = batch;
            size_t n = 1;
            while (last->next) {
                last = last->next;
                n++;
            }
            last->next = gc->q;
            if (gc->q == NULL)
                gc->qtail = last;
            gc->q = batch;
            gc->nq += n;
        }
        pthread_mutex_unlock(&gc->lock);
        {
            struct timespec pause = {0, 500 * 1000000L};
            nanosleep(&pause, NULL);
        }
        pthread_mutex_lock(&gc->lock);
    }
    pthread_mutex_unlock(&gc->lock);
    db_close(db);
    str_free(&err);
    db_thread_end();
    return NULL;
}

void gc_cache_set_ttl(struct gc_cache *c, long long ttl)
{
    atomic_store(&c->ttl, ttl);
}

void gc_reconfigure(struct greycache *gc, const struct policyd_config *cfg)
{
    gc_cache_set_ttl(gc->cache, cfg->greylist_cache_ttl / 1000);
}

struct greycache *gc_new(const struct policyd_config *cfg, struct str *err)
{
    struct greycache *gc = xcalloc(1, sizeof(*gc));

    gc->cache = gc_cache_new((size_t)cfg->greylist_cache_size,
                             cfg->greylist_cache_ttl / 1000);
    pthread_mutex_init(&gc->lock, NULL);
    pthread_cond_init(&gc->cond, NULL);
    db_config_copy(&gc->dbcfg, &cfg->db);
    if (pthread_create(&gc->thread, NULL, flusher, gc) != 0) {
        db_config_free(&gc->dbcfg);
        gc_cache_free(gc->cache);
        free(gc);
        return str_appendf(err, "cannot start the greylisting writer"), NULL;
    }
    return gc;
}

void gc_free(struct greycache *gc)
{
    if (gc == NULL)
        return;
    pthread_mutex_lock(&gc->lock);
    gc->stop = 1;
    pthread_cond_signal(&gc->cond);
    pthread_mutex_unlock(&gc->lock);
    pthread_join(gc->thread, NULL);
    gc_cache_free(gc->cache);
    db_config_free(&gc->dbcfg);
    pthread_mutex_destroy(&gc->lock);
    pthread_cond_destroy(&gc->cond);
    free(gc);
}
