/*
 * pool - LDAP and database handles (milter_pool_*) for libmilter's worker threads.  A
 * callback takes one struct mres (an LDAP connection and a database
 * connection, each used by one thread at a time), uses it, and gives it
 * back.  The pool holds [milter] connections handles, all created at start
 * (while still root, so the password files are read before privileges are
 * dropped); a callback that finds none free waits for one.  Connections
 * themselves are made lazily by lib/ldapc.c and lib/db.c on first use and
 * re-made by them after failures.
 *
 * Diagnostics: a handle that cannot be created at start (unreadable
 * password file) is fatal for the caller.
 */
#include <stdlib.h>

#include "mem.h"
#include "milter.h"

struct milter_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    struct mres *free_list;
    struct mres *all;     /* every handle, for milter_pool_free */
};

/* each worker thread registers with the database client library once */
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_end(void *unused)
{
    (void)unused;
    db_thread_end();
}

static void thread_key_init(void)
{
    pthread_key_create(&thread_key, thread_end);
}

struct milter_pool *milter_pool_create(const struct milter_config *cfg,
                                       struct str *err)
{
    struct milter_pool *p = xcalloc(1, sizeof(*p));

    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    for (long long i = 0; i < cfg->connections; i++) {
        struct mres *r = xcalloc(1, sizeof(*r));
        r->ld = ldapc_open(&cfg->ldap, err);
        r->db = r->ld ? db_open(&cfg->db, err) : NULL;
        if (r->db == NULL) {
            ldapc_close(r->ld);
            free(r);
            milter_pool_free(p);
            return NULL;
        }
        r->next = p->free_list;
        p->free_list = r;
        r->all_next = p->all;
        p->all = r;
    }
    return p;
}

void milter_pool_free(struct milter_pool *p)
{
    struct mres *r, *next;

    if (p == NULL)
        return;
    for (r = p->all; r; r = next) {
        next = r->all_next;
        ldapc_close(r->ld);
        db_close(r->db);
        free(r);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

struct mres *milter_pool_get(struct milter_pool *p, struct str *err)
{
    struct mres *r;

    (void)err;
    pthread_once(&thread_once, thread_key_init);
    if (pthread_getspecific(thread_key) == NULL) {
        db_thread_init();
        pthread_setspecific(thread_key, p);
    }
    pthread_mutex_lock(&p->lock);
    while ((r = p->free_list) == NULL)
        pthread_cond_wait(&p->freed, &p->lock);
    p->free_list = r->next;
    pthread_mutex_unlock(&p->lock);
    return r;
}

void milter_pool_put(struct milter_pool *p, struct mres *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    r->next = p->free_list;
    p->free_list = r;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}
