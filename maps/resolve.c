/*
 * resolve - the routing semantics of every postern-maps map name, answered
 * from one snapshot.  Postfix sends socketmaps the full key only; this module
 * does extension stripping, alias domains, catch-alls and defaults itself.
 *
 *   domain       any domain postern hosts or relays (local, alias, relay,
 *                legacy)                                    -> OK kind
 *   mailboxdomain local and alias domains (virtual_mailbox_domains)
 *   relaydomain  relay and legacy domains (relay_domains)
 *   mailbox      an existing mailbox in any state (alias domains resolved)
 *                -> OK maildir; a directory group without a mailbox row ->
 *                OK directory-group (MAPS_GROUP_MAILBOX)
 *   alias        virtual_alias_maps: a closed mailbox's closed_forward
 *                alone, explicit aliases and forwards (with keep_copy the
 *                mailbox itself is kept), an existing mailbox or directory
 *                group maps to itself so a catch-all never swallows it,
 *                alias domains map to the target domain only where the
 *                target resolves, then the domain's catch-all
 *   transport    address rows, mailbox override, a directory group without
 *                a mailbox row -> MAPS_GROUP_TRANSPORT (retry:, it waits
 *                for an expansion that did not happen), migration switch (legacy
 *                mailboxes to the domain's or the default legacy route),
 *                domain rows (".parent" matches subdomains), domain column,
 *                by kind: local -> default local route, legacy -> legacy
 *                route, relay -> NOTFOUND (Postfix relay_transport); other
 *                domains -> the default delivery route (the smarthost)
 *   relayhost    address row, mailbox column, domain row, domain column,
 *                default; key "<>" (null sender) gets the default
 *   senderlogin  the mailbox itself, the owner of an alias with one local
 *                mailbox target, explicit grants for the address or domain;
 *                nothing for a closed mailbox, and a closed mailbox owns no
 *                alias
 *   maildir      the derived maildir path of a mailbox
 *   ldamailbox   for postern-lda ([lda] lookup = maps), not for Postfix:
 *                -> OK quota=BYTES MAILDIR, BYTES the mailbox's quota_bytes,
 *                else its domain's default_quota_bytes (0 = unlimited);
 *                OK MAILDIR (as maildir) when neither is set: the LDA's
 *                [lda] default_quota applies
 *   relayrecipient  relay_recipient_maps: at a relay domain with mailbox
 *                rows (the admin has the list) its mailboxes, aliases and
 *                catch-all only; a relay domain without mailbox rows (aliases
 *                alone are rewrites, not a list), and any other domain,
 *                accepts every address (OK)
 *   rcptcheck    check_recipient_access at RCPT: "550 5.1.2 ..." for an
 *                address literal ([192.0.2.1]) that is not a domains row;
 *                "550 5.2.1 mailbox closed" (maps_set_closed_text) for a
 *                closed mailbox without closed_forward, reached directly
 *                or through single-target aliases (closed_target);
 *                "550 5.4.6 ..." when Postfix's virtual alias expansion of
 *                the address would never end (an alias loop: cleanup
 *                would defer the message for ever); NOTFOUND otherwise
 *
 * Mailbox states: leaving is answered as active everywhere.  Keys are read
 * with addr_canonical (quotes that are not needed dropped), so every
 * spelling of an address finds the same mailbox, group and state.
 *
 * Address literals are never routed by the transport map unless a row names
 * them: Postfix then uses its own class (own IP literals are the local class,
 * whose local_transport postern-postconf sets to error:).
 *
 * Invalid keys are NOTFOUND (no such address can exist); a rule that cannot
 * be answered safely (a legacy mailbox without a legacy route, a reply over
 * MAPS_MAX_REPLY) is TEMP so mail waits for the admin instead of bouncing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "hash.h"
#include "log.h"
#include "maps.h"
#include "mem.h"

#define ALIAS_DOMAIN_DEPTH ADDR_ALIAS_DOMAIN_DEPTH /* lib/addr.h */

struct key {
    struct addr a;       /* parsed, lower-cased, extension split off */
    char raw[ADDR_MAX + 1]; /* the key lower-cased, extension kept */
    int is_catchall;     /* "@domain" */
    int is_domain;       /* "domain" without '@' */
};

/* domain_len - without one trailing dot: "example.org." is example.org,
   as addr_parse has it for addresses */
static size_t domain_len(const char *d, size_t len)
{
    return len > 1 && d[len - 1] == '.' ? len - 1 : len;
}

static int key_parse(const char *delims, const char *k, size_t len,
                     struct key *out)
{
    const char *err;

    memset(out, 0, sizeof(*out));
    if (len == 0 || len > ADDR_MAX)
        return -1;
    memcpy(out->raw, k, len);
    out->raw[len] = '\0';
    str_lower(out->raw, len);
    if (k[0] == '@') {
        size_t dl = domain_len(k + 1, len - 1);
        if (!addr_domain_valid(k + 1, dl))
            return -1;
        out->is_catchall = 1;
        memcpy(out->a.domain, out->raw + 1, dl);
        out->a.has_domain = 1;
        return 0;
    }
    if (memchr(k, '@', len) == NULL) {
        size_t dl = domain_len(k, len);
        if (!addr_domain_valid(k, dl))
            return -1;
        out->is_domain = 1;
        memcpy(out->a.domain, out->raw, dl);
        return 0;
    }
    /* "Pupil+x"@d is pupil@d (lib/addr.h); alias domains are followed
       by dom_final, which knows the snapshot's domains */
    return addr_canonical(k, len, delims, ADDR_NEED_DOMAIN, NULL, NULL,
                          &out->a, &err);
}

static const struct dom *dom_get(const struct snapshot *s, const char *name)
{
    return strmap_get(&s->domains, name);
}

/* dom_final - follow alias domains to the domain that holds the data. */
static const struct dom *dom_final(const struct snapshot *s,
                                   const struct dom *d)
{
    for (int i = 0; d && d->kind == DOM_ALIAS && i < ALIAS_DOMAIN_DEPTH; i++)
        d = dom_get(s, d->alias_target);
    return d && d->kind == DOM_ALIAS ? NULL : d;
}

static const struct mbox *mbox_get(const struct snapshot *s, const char *local,
                                   const char *domain)
{
    char buf[2 * ADDR_MAX + 4];

    snprintf(buf, sizeof(buf), "%s@%s", local, domain);
    return strmap_get(&s->mailboxes, buf);
}

/* mbox_find - the mailbox a parsed address names, through alias domains. */
static const struct mbox *mbox_find(const struct snapshot *s,
                                    const struct key *k)
{
    const struct dom *d = dom_final(s, dom_get(s, k->a.domain));

    if (d == NULL || k->is_domain || k->is_catchall)
        return NULL;
    return mbox_get(s, k->a.local, d->name);
}

/* group_find - the directory group a parsed address names, through alias
   domains (a mailbox row for the address wins: callers ask mbox_find
   first). */
static const char *group_find(const struct snapshot *s, const struct key *k)
{
    const struct dom *d = dom_final(s, dom_get(s, k->a.domain));
    char buf[2 * ADDR_MAX + 4];

    if (d == NULL || k->is_domain || k->is_catchall)
        return NULL;
    snprintf(buf, sizeof(buf), "%s@%s", k->a.local, d->name);
    return strmap_get(&s->groups, buf);
}

static const struct slist *alias_get(const struct snapshot *s,
                                     const char *local, const char *domain)
{
    char buf[2 * ADDR_MAX + 4];

    snprintf(buf, sizeof(buf), "%s@%s", local, domain);
    return strmap_get(&s->aliases, buf);
}

static int answer(struct str *out, const char *v);

/* put_list - the values, comma-separated.  It stops once out passes
   MAPS_MAX_REPLY (maps_lookup then answers TEMP), so a list of any length
   stays far below STR_MAX_SIZE (each value is one SQL column, VARCHAR). */
static void put_list(struct str *out, const struct slist *l)
{
    for (const struct sval *v = l->head; v && out->len <= MAPS_MAX_REPLY;
         v = v->next) {
        if (out->len)
            str_append_char(out, ',');
        str_append_cstr(out, v->s);
    }
}

/* --- the maps -------------------------------------------------------------- */

static int lk_domain(const struct snapshot *s,
                                    const struct key *k, int which,
                                    struct str *out)
{
    static const char *const kinds[] = {"local", "alias", "relay", "legacy"};
    const struct dom *d = dom_get(s, k->a.domain);

    if (d == NULL || (!k->is_domain && !k->is_catchall && which != 0))
        return LK_NOTFOUND;
    if (which == 1 && d->kind != DOM_LOCAL && d->kind != DOM_ALIAS)
        return LK_NOTFOUND;
    if (which == 2 && d->kind != DOM_RELAY && d->kind != DOM_LEGACY)
        return LK_NOTFOUND;
    str_append_cstr(out, kinds[d->kind]);
    return LK_FOUND;
}

/* lk_mailbox - a mailbox in any state (a closed one keeps its Maildir
   until it is purged; rcptcheck refuses new mail to it); with groups, a
   directory group without a mailbox row too (mailbox, not maildir) */
static int lk_mailbox(const struct snapshot *s, const struct key *k,
                      int groups, struct str *out)
{
    const struct mbox *m = mbox_find(s, k);

    if (m == NULL) {
        if (groups && group_find(s, k) != NULL)
            return answer(out, MAPS_GROUP_MAILBOX);
        return LK_NOTFOUND;
    }
    str_append_cstr(out, m->maildir);
    return LK_FOUND;
}

/* alias_in_domain - resolve local@d (d not an alias domain); 1 if found. */
static int alias_in_domain(const struct snapshot *s, const struct key *k,
                           const struct dom *d, struct str *out)
{
    const struct slist *l = NULL;
    const struct mbox *m = mbox_get(s, k->a.local, d->name);
    char buf[2 * ADDR_MAX + 4];

    if (m && m->closed_forward) { /* closed: the forward replaces delivery
                                     and every alias row of the address */
        str_append_cstr(out, m->closed_forward);
        return 1;
    }
    if (k->a.delim) { /* the full key with extension wins, as in Postfix */
        char full[2 * ADDR_LOCAL_MAX + 4];
        snprintf(full, sizeof(full), "%s%c%s", k->a.local, k->a.delim,
                 k->a.ext);
        l = alias_get(s, full, d->name);
    }
    if (l == NULL)
        l = alias_get(s, k->a.local, d->name);
    if (l) {
        int keep = 0;
        for (const struct sval *v = l->head; v; v = v->next)
            keep |= v->flag;
        put_list(out, l);
        if (keep && m) /* forward with a copy: the mailbox keeps one */
            str_appendf(out, ",%s", m->address);
        return 1;
    }
    snprintf(buf, sizeof(buf), "%s@%s", k->a.local, d->name);
    if (m || strmap_get(&s->groups, buf) != NULL) { /* a mailbox or a
        directory group maps to itself: no catch-all takes its mail */
        str_append_cstr(out, k->raw);
        return 1;
    }
    if ((l = alias_get(s, "", d->name)) != NULL) {
        put_list(out, l);
        return 1;
    }
    return 0;
}

static int lk_alias(const struct snapshot *s,
                                   const struct key *k, struct str *out)
{
    const struct dom *d = dom_get(s, k->a.domain), *t;
    const struct slist *l;

    if (d == NULL || k->is_domain)
        return LK_NOTFOUND;
    if (k->is_catchall) {
        if (d->kind == DOM_ALIAS || (l = alias_get(s, "", d->name)) == NULL)
            return LK_NOTFOUND;
        put_list(out, l);
        return LK_FOUND;
    }
    if (d->kind != DOM_ALIAS)
        return alias_in_domain(s, k, d, out) ? LK_FOUND : LK_NOTFOUND;
    /* alias domain: rewrite to the target domain where the target resolves */
    if ((t = dom_final(s, d)) == NULL)
        return LK_NOTFOUND;
    if (!alias_in_domain(s, k, t, out))
        return LK_NOTFOUND;
    str_reset(out);
    if (k->a.delim)
        str_appendf(out, "%s%c%s@%s", k->a.local, k->a.delim, k->a.ext, t->name);
    else
        str_appendf(out, "%s@%s", k->a.local, t->name);
    return LK_FOUND;
}

/*
 * dom_rule - the row for domain d in a domain-keyed map, or a ".parent" row
 * above it, with an optional key prefix ("local:", "legacy:").
 */
static const char *dom_rule(const struct strmap *m, const char *prefix,
                            const char *d)
{
    char buf[2 * ADDR_DOMAIN_MAX + 16];
    const char *t;

    snprintf(buf, sizeof(buf), "%s%s", prefix, d);
    t = strmap_get(m, buf);
    for (const char *p = d; t == NULL && (p = strchr(p, '.')) != NULL; p++) {
        snprintf(buf, sizeof(buf), "%s%s", prefix, p);
        t = strmap_get(m, buf);
    }
    return t;
}

/* legacy_route - where unmigrated mailboxes of domain d go. */
static const char *legacy_route(const struct snapshot *s, const struct dom *d)
{
    const char *t = d ? d->legacy_transport : NULL;

    if (t == NULL && d)
        t = dom_rule(&s->tr_dom, "legacy:", d->name);
    return t ? t : s->tr_legacy;
}

static int answer(struct str *out, const char *v)
{
    if (v == NULL)
        return LK_NOTFOUND;
    str_append_cstr(out, v);
    return LK_FOUND;
}

static int lk_transport(const struct snapshot *s,
                                       const struct key *k, struct str *out)
{
    const struct dom *d0 = dom_get(s, k->a.domain), *d = dom_final(s, d0);
    const struct mbox *m = NULL;
    const char *t;

    if (k->is_catchall)
        return LK_NOTFOUND;
    if (!k->is_domain) {
        if ((t = strmap_get(&s->tr_addr, k->raw)) != NULL ||
            (t = strmap_get(&s->tr_addr, k->a.full)) != NULL)
            return answer(out, t);
        if ((m = mbox_find(s, k)) != NULL) {
            if (m->transport)
                return answer(out, m->transport);
            if (m->legacy) {
                if ((t = legacy_route(s, d)) == NULL) {
                    str_appendf(out, "mailbox %s is on the legacy store but "
                                "no legacy transport is configured", m->address);
                    return LK_TEMP;
                }
                return answer(out, t);
            }
        } else if (group_find(s, k) != NULL) /* not expanded: it waits */
            return answer(out, MAPS_GROUP_TRANSPORT);
    }
    if ((t = dom_rule(&s->tr_dom, "", k->a.domain)) != NULL)
        return answer(out, t);
    if (d == NULL && k->a.domain[0] == '[') /* an address literal: Postfix's
        class decides (own IP: local_transport = error:, others: relayhost) */
        return LK_NOTFOUND;
    if (d == NULL) /* not ours: everything external leaves by the smarthost */
        return answer(out, s->tr_default);
    if (d != d0 && (t = dom_rule(&s->tr_dom, "", d->name)) != NULL)
        return answer(out, t);
    if (d->transport)
        return answer(out, d->transport);
    switch (d->kind) {
    case DOM_LEGACY:
        return answer(out, legacy_route(s, d));
    case DOM_RELAY:
        return LK_NOTFOUND;
    default:
        t = dom_rule(&s->tr_dom, "local:", d->name);
        return answer(out, t ? t : s->tr_local);
    }
}

static int lk_relayhost(const struct snapshot *s,
                                       const struct key *k, struct str *out)
{
    const struct dom *d = dom_get(s, k->a.domain);
    const struct mbox *m;
    const char *t;

    if (!k->is_domain && !k->is_catchall) {
        if ((t = strmap_get(&s->rh_addr, k->raw)) != NULL ||
            (t = strmap_get(&s->rh_addr, k->a.full)) != NULL)
            return answer(out, t);
        if ((m = mbox_find(s, k)) != NULL && m->relayhost)
            return answer(out, m->relayhost);
    }
    if ((t = dom_rule(&s->rh_dom, "", k->a.domain)) != NULL)
        return answer(out, t);
    if (d && d->relayhost)
        return answer(out, d->relayhost);
    return answer(out, s->rh_default);
}

static void login_add(struct str *out, const char *login)
{
    size_t n = strlen(login);
    const char *p = out->data;

    if (n == 0) /* the schema forbids it; strstr(p, "") would never move */
        return;
    /* skip duplicates: the lists are short */
    while (p && (p = strstr(p, login)) != NULL) {
        if ((p == out->data || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return;
        p += n;
    }
    if (out->len)
        str_append_char(out, ',');
    str_append_cstr(out, login);
}

static int lk_senderlogin(const struct snapshot *s,
                                         const struct key *k, struct str *out)
{
    const struct dom *d = dom_final(s, dom_get(s, k->a.domain));
    const struct slist *l;
    const struct mbox *m;
    const char *owner;
    char buf[2 * ADDR_MAX + 4];

    if (k->is_domain)
        return LK_NOTFOUND;
    if (!k->is_catchall) {
        if ((m = mbox_find(s, k)) != NULL && m->state == MBOX_CLOSED)
            return LK_NOTFOUND; /* nobody sends as a closed mailbox */
        if (m != NULL)
            login_add(out, m->address);
        if (d) {
            snprintf(buf, sizeof(buf), "%s@%s", k->a.local, d->name);
            if ((owner = snapshot_alias_owner(s, buf)) != NULL)
                login_add(out, owner);
        }
        if ((l = strmap_get(&s->grant_addr, k->a.full)) != NULL)
            for (const struct sval *v = l->head; v; v = v->next)
                login_add(out, v->s);
    }
    if ((l = strmap_get(&s->grant_dom, k->a.domain)) != NULL)
        for (const struct sval *v = l->head; v; v = v->next)
            login_add(out, v->s);
    return out->len ? LK_FOUND : LK_NOTFOUND;
}

static int lk_maildir(const struct snapshot *s,
                                     const struct key *k, struct str *out)
{
    return lk_mailbox(s, k, 0, out);
}

static int lk_ldamailbox(const struct snapshot *s, const struct key *k,
                         struct str *out)
{
    const struct mbox *m = mbox_find(s, k);
    const char *at;
    const struct dom *d;
    long long q;

    if (m == NULL)
        return LK_NOTFOUND;
    q = m->quota;
    if (q < 0 && (at = strrchr(m->address, '@')) != NULL &&
        (d = dom_get(s, at + 1)) != NULL)
        q = d->default_quota;
    if (q >= 0)
        str_appendf(out, "quota=%lld ", q);
    str_append_cstr(out, m->maildir);
    return LK_FOUND;
}

static int lk_relayrecipient(const struct snapshot *s, const struct key *k,
                             struct str *out)
{
    const struct dom *d = dom_get(s, k->a.domain);

    if (k->is_domain || k->is_catchall)
        return LK_NOTFOUND;
    if (d == NULL || d->kind != DOM_RELAY ||
        strmap_get(&s->rcpt_doms, d->name) == NULL)
        return answer(out, "unlisted"); /* no list: every address passes */
    if (alias_in_domain(s, k, d, out)) { /* a mailbox, alias or catch-all */
        str_reset(out);
        return answer(out, "listed");
    }
    return LK_NOTFOUND;
}

/* --- alias loops ------------------------------------------------------------ */

#define LOOP_MAX_ADDRS 1000  /* Postfix's virtual_alias_expansion_limit */
#define LOOP_MAX_STEPS 20000 /* lookups before we give up (not certain) */

struct argvec {
    char **v;
    size_t n, cap;
};

static char *lower_dup(const char *s, size_t len)
{
    char *d = xstrndup(s, len);

    str_lower(d, len);
    return d;
}

static void argvec_add(struct argvec *a, char *s)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
    }
    a->v[a->n++] = s;
}

/*
 * alias_loop - 1 if Postfix's virtual alias expansion of addr never ends,
 * 0 if it ends (or we cannot tell: an answer other than FOUND/NOTFOUND,
 * too many addresses or lookups).  This replays cleanup(8)'s algorithm
 * (cleanup_map1n.c) on the snapshot: each address of the list is looked
 * up again and again, replaced by the first address of its expansion (the
 * others are appended to the list), until a lookup finds nothing or the
 * address is in the "been here" set, which holds the addresses that
 * expanded into themselves.  When one address comes back while that set
 * did not grow since it was first seen, the same lookups repeat for ever
 * and Postfix stops only at virtual_alias_recursion_limit, deferring the
 * message: the loop is certain.  *where gets the repeating address.
 */
static int alias_loop(const struct snapshot *s, const char *delims,
                      const char *addr, size_t len, struct str *where)
{
    struct argvec av = {NULL, 0, 0};
    struct hmap been_here, chain;
    struct str val = STR_INIT;
    long steps = 0;
    int loop = 0, stop = 0;

    hmap_init(&been_here, 8, HMAP_NOCASE | HMAP_COPYKEYS);
    argvec_add(&av, lower_dup(addr, len));
    for (size_t arg = 0; arg < av.n && !loop && !stop; arg++) {
        if (av.n > LOOP_MAX_ADDRS)
            break;
        hmap_init(&chain, 8, HMAP_NOCASE | HMAP_COPYKEYS);
        for (;;) {
            const char *cur = av.v[arg];
            if (hmap_get(&been_here, cur))
                break;
            if (hmap_get(&chain, cur)) {
                /* it goes into an SMTP reply and the log: printable only */
                for (const char *c = cur; *c && where->len < 320; c++)
                    str_append_char(where, *c > ' ' && *c < 127 ? *c : '?');
                loop = 1;
                break;
            }
            if (++steps > LOOP_MAX_STEPS) {
                stop = 1;
                break;
            }
            hmap_put(&chain, cur, (void *)1);
            if (maps_lookup(s, delims, "alias", cur, strlen(cur), &val) !=
                LK_FOUND) /* the end of this chain, or not certain */
                break;
            char *lhs = xstrdup(cur);
            size_t before = hmap_count(&been_here), i = 0;
            const char *p = str_cstr(&val);
            while (*p) {
                size_t n = strcspn(p, ", \t");
                if (n) {
                    char *e = lower_dup(p, n);
                    if (strcmp(lhs, e) == 0) /* expands into itself */
                        hmap_put(&been_here, lhs, (void *)1);
                    if (i++ == 0) { /* the first one replaces the address */
                        free(av.v[arg]);
                        av.v[arg] = e;
                    } else
                        argvec_add(&av, e);
                }
                p += n;
                p += strspn(p, ", \t");
            }
            free(lhs);
            if (i == 0)
                break;
            if (hmap_count(&been_here) != before) { /* the state changed:
                a repeat from before this point proves nothing */
                hmap_free(&chain, NULL);
                hmap_init(&chain, 8, HMAP_NOCASE | HMAP_COPYKEYS);
            }
        }
        hmap_free(&chain, NULL);
    }
    for (size_t i = 0; i < av.n; i++)
        free(av.v[i]);
    free(av.v);
    hmap_free(&been_here, NULL);
    str_free(&val);
    return loop;
}

/* --- closed mailboxes -------------------------------------------------- */

#define CLOSED_CHAIN_MAX 8 /* aliases followed to the mailbox */

static char closed_text[MAPS_CLOSED_TEXT_MAX + 1] = "mailbox closed";

void maps_set_closed_text(const char *text)
{
    size_t n = 0;

    /* it goes into an SMTP reply: printable ASCII only (maps_check) */
    for (; *text && n < MAPS_CLOSED_TEXT_MAX; text++)
        closed_text[n++] = *text >= ' ' && *text < 127 ? *text : '?';
    closed_text[n] = '\0';
}

/*
 * closed_target - the closed mailbox without a forward that mail to k
 * reaches: k's own mailbox, or the mailbox at the end of a chain of
 * aliases with one target each (an alternative address of the person, an
 * alias domain, a catch-all), as the alias map answers them.  NULL when
 * the mail goes anywhere else (a list, a forward, a group, outside) or
 * after CLOSED_CHAIN_MAX steps.
 */
static const struct mbox *closed_target(const struct snapshot *s,
                                        const char *delims,
                                        const struct key *k0)
{
    struct key k = *k0;
    struct str val = STR_INIT;
    const struct mbox *m, *closed = NULL;

    for (int i = 0; i < CLOSED_CHAIN_MAX; i++) {
        if ((m = mbox_find(s, &k)) != NULL) {
            if (m->state == MBOX_CLOSED && m->closed_forward == NULL)
                closed = m;
            break;
        }
        str_reset(&val);
        if (group_find(s, &k) != NULL || lk_alias(s, &k, &val) != LK_FOUND ||
            memchr(val.data, ',', val.len) != NULL ||
            key_parse(delims, val.data, val.len, &k) < 0)
            break;
    }
    str_free(&val);
    return closed;
}

static int lk_rcptcheck(const struct snapshot *s, const char *delims,
                        const struct key *k, const char *keybuf,
                        size_t keylen, struct str *out)
{
    struct str where = STR_INIT;

    if (k->is_domain || k->is_catchall)
        return LK_NOTFOUND;
    if (k->a.domain[0] == '[' && dom_get(s, k->a.domain) == NULL) {
        str_append_cstr(out, "550 5.1.2 address literals are not accepted "
                        "here, use the domain name");
        return LK_FOUND;
    }
    if (closed_target(s, delims, k) != NULL) {
        str_appendf(out, "550 5.2.1 %s", closed_text);
        return LK_FOUND;
    }
    if (alias_loop(s, delims, keybuf, keylen, &where)) {
        str_appendf(out, "550 5.4.6 alias loop at %s: ask the postmaster "
                    "to fix the forwarding", str_cstr(&where));
        log_warn("rcptcheck %s: alias loop at %s, refused",
                 log_safe(keybuf, keylen), str_cstr(&where));
        str_free(&where);
        return LK_FOUND;
    }
    str_free(&where);
    return LK_NOTFOUND;
}

int maps_known_name(const char *name)
{
    static const char *const names[] = {
        "domain", "mailboxdomain", "relaydomain", "mailbox", "alias",
        "transport", "relayhost", "senderlogin", "maildir",
        "relayrecipient", "rcptcheck", "ldamailbox"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(name, names[i]))
            return 1;
    return 0;
}

int maps_lookup(const struct snapshot *s, const char *delims,
                               const char *name, const char *keybuf,
                               size_t keylen, struct str *out)
{
    struct key k;
    int st;

    str_reset(out);
    if (!strcmp(name, "relayhost") && keylen == 2 && !memcmp(keybuf, "<>", 2))
        return s->rh_default && *s->rh_default ? answer(out, s->rh_default)
                                               : LK_NOTFOUND;
    if (key_parse(delims, keybuf, keylen, &k) < 0)
        return LK_NOTFOUND;
    if (!strcmp(name, "domain"))
        st = lk_domain(s, &k, 0, out);
    else if (!strcmp(name, "mailboxdomain"))
        st = lk_domain(s, &k, 1, out);
    else if (!strcmp(name, "relaydomain"))
        st = lk_domain(s, &k, 2, out);
    else if (!strcmp(name, "mailbox"))
        st = lk_mailbox(s, &k, 1, out);
    else if (!strcmp(name, "alias"))
        st = lk_alias(s, &k, out);
    else if (!strcmp(name, "transport"))
        st = lk_transport(s, &k, out);
    else if (!strcmp(name, "relayhost"))
        st = lk_relayhost(s, &k, out);
    else if (!strcmp(name, "senderlogin"))
        st = lk_senderlogin(s, &k, out);
    else if (!strcmp(name, "relayrecipient"))
        st = lk_relayrecipient(s, &k, out);
    else if (!strcmp(name, "rcptcheck"))
        st = lk_rcptcheck(s, delims, &k, keybuf, keylen, out);
    else if (!strcmp(name, "ldamailbox"))
        st = lk_ldamailbox(s, &k, out);
    else
        st = lk_maildir(s, &k, out);
    if (st == LK_FOUND && out->len > MAPS_MAX_REPLY - 16) {
        str_reset(out);
        str_appendf(out, "reply for this key is larger than %d bytes",
                    MAPS_MAX_REPLY);
        return LK_TEMP;
    }
    if (st == LK_FOUND && out->len == 0) /* an empty route: treat as absent */
        return LK_NOTFOUND;
    return st;
}
