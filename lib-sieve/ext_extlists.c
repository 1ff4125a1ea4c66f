/*
 * ext_extlists - "extlists" (RFC 6134), externally stored lists:
 *
 *   header/address/envelope/string/... :list <list-names: string-list>
 *   valid_ext_list <list-names: string-list>
 *   redirect :list [:copy] <list-name: string>
 *
 * The lists are the host's (struct sieve_host list_member, list_valid,
 * list_members): postern-lda answers "tag:NAME" with the postern policy
 * group NAME (lda/sieve_lists.c), postern-sieve-test with files
 * (sieve_lists_dir below).  A list name must start with "tag:" (a
 * literal name that does not is a compile error, a computed one never
 * matches); ":addrbook:default" and other URIs are not supported, so
 * valid_ext_list answers false for them.
 *
 * :list - the test is true when any value (an address part for address
 * and envelope, the decoded field for header, the string for string) is
 * a member of any of the lists.  The list decides what a member is (the
 * comparator is not used, as RFC 6134 2.3 lets the list decide; postern
 * groups compare canonical addresses) and no match variables are set.
 * redirect :list - the message is redirected to every address member of
 * the list (nested groups included), each an ordinary redirect: the
 * redirect limits of the result (SIEVE_REDIRECT_MAX) hold, and a list
 * the host cannot spell as addresses (domain or LDAP members) is a
 * run-time error.
 *
 * Outcomes: the host's LK_TEMP or LK_LIMIT is a run-time error (the
 * result fails, the caller keeps the message); an unknown list has no
 * members.
 *
 * Limits: each (list, value) pair is asked once per run (EXTLISTS_CACHE
 * answers kept); at most EXTLISTS_LOOKUPS_MAX host lookups per run (more:
 * run-time error "too many list lookups"); values over
 * EXTLISTS_VALUE_MAX bytes are no member; each lookup costs
 * EXTLISTS_LOOKUP_STEPS of the CPU budget.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

#define EXTLISTS_CACHE 128
#define EXTLISTS_LOOKUPS_MAX 256
#define EXTLISTS_VALUE_MAX 1024
#define EXTLISTS_LOOKUP_STEPS 10000
#define EXTLISTS_FILE_MAX (1024 * 1024)  /* sieve_lists_dir: bytes per list */

struct xl_answer {
    const char *list, *value;
    int rc;
};

struct xl_cache {
    struct xl_answer a[EXTLISTS_CACHE];
    size_t n, next;
    unsigned lookups;
};

/* a supported list name: "tag:" and something after it */
static int name_ok(const char *s, size_t len)
{
    if (len <= 4 || len > 255 || strncasecmp(s, "tag:", 4) != 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static struct xl_cache *cache_of(struct sv_run *r)
{
    if (r->extlists == NULL) {
        r->extlists = arena_alloc(r->a, sizeof(struct xl_cache));
        memset(r->extlists, 0, sizeof(struct xl_cache));
    }
    return r->extlists;
}

/* one host answer, charged and cached; LK_* */
static int ask(struct sv_run *r, const struct sv_node *n, const char *list,
               const char *value)
{
    struct xl_cache *c = cache_of(r);
    struct xl_answer *slot;
    int rc;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->a[i].list, list) == 0 &&
            strcmp(c->a[i].value, value) == 0)
            return c->a[i].rc;
    if (++c->lookups > EXTLISTS_LOOKUPS_MAX) {
        sv_rerror(r, n, "too many list lookups (max %d per run)",
                  EXTLISTS_LOOKUPS_MAX);
        return LK_LIMIT;
    }
    if (sv_charge(r, n, EXTLISTS_LOOKUP_STEPS) < 0)
        return LK_LIMIT;
    rc = r->host->list_member(r->host->list_ctx, list, value);
    if (rc < 0) {
        sv_rerror(r, n, "list \"%.100s\": %s", list,
                  rc == LK_LIMIT ? "over a limit of the list lookup"
                                 : "temporary failure of the list lookup");
        return rc;
    }
    rc = rc == LK_FOUND ? LK_FOUND : LK_NOTFOUND;
    slot = c->n < EXTLISTS_CACHE ? &c->a[c->n++]
                                 : &c->a[c->next++ % EXTLISTS_CACHE];
    slot->list = arena_strdup(r->a, list);
    slot->value = arena_strdup(r->a, value);
    slot->rc = rc;
    return rc;
}

int sv_list_match(struct sv_run *r, const struct sv_node *n,
                  const struct sv_str *val, const struct sv_str *list)
{
    const char *l, *v;
    int rc;

    if (r->host == NULL || r->host->list_member == NULL ||
        !name_ok(list->s, list->len) || val->len == 0 ||
        val->len > EXTLISTS_VALUE_MAX || memchr(val->s, '\0', val->len))
        return 0;
    l = arena_strndup(r->a, list->s, list->len);
    v = arena_strndup(r->a, val->s, val->len);
    rc = ask(r, n, l, v);
    return rc < 0 ? -1 : rc == LK_FOUND;
}

/* the compile-time check of literal list names (validate.c calls it for
   every :list key list, sv_list_redirect_validate for redirect) */
int sv_list_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *k = n->npos > 0 ? n->pos[n->npos - 1] : NULL;

    for (size_t i = 0; k && i < k->list.n; i++)
        if (sv_literal(&k->list.v[i]) &&
            !name_ok(k->list.v[i].s, k->list.v[i].len)) {
            sv_verror(v, k->line, "unsupported list name \"%.60s\" "
                      "(extlists: only \"tag:NAME\" lists exist)",
                      k->list.v[i].s);
            return -1;
        }
    return 0;
}

int sv_list_redirect_validate(struct sv_valctx *v, struct sv_node *n)
{
    if (!sv_has(v->s, &sv_ext_extlists)) {
        sv_verror(v, n->line, "redirect :list requires the \"extlists\" "
                  "extension");
        return -1;
    }
    return sv_list_validate(v, n);
}

int sv_list_redirect(struct sv_run *r, struct sv_node *n)
{
    const char *list = sv_cstr(r, &sv_pos(n, 0)->list.v[0]);
    struct str out = STR_INIT;
    int rc, copy = sv_tag(n, "copy") != NULL;
    size_t count = 0;

    if (!name_ok(list, strlen(list)))
        return sv_rerror(r, n, "redirect :list: unsupported list name "
                         "\"%.60s\"", list);
    if (r->host == NULL || r->host->list_members == NULL)
        return sv_rerror(r, n, "redirect :list: no list \"%.60s\"", list);
    rc = r->host->list_members(r->host->list_ctx, list, &out,
                               SIEVE_REDIRECT_MAX);
    if (rc == LK_NOTFOUND)
        rc = sv_rerror(r, n, "redirect :list: no list \"%.60s\"", list);
    else if (rc == LK_LIMIT)
        rc = sv_rerror(r, n, "redirect :list: \"%.60s\" has members that "
                       "are no addresses, or more than %d", list,
                       SIEVE_REDIRECT_MAX);
    else if (rc < 0)
        rc = sv_rerror(r, n, "redirect :list: temporary failure of the "
                       "list \"%.60s\"", list);
    else
        rc = 0;
    for (size_t i = 0; rc == 0 && i < out.len;) {
        const char *nl = memchr(out.data + i, '\n', out.len - i);
        size_t e = nl ? (size_t)(nl - out.data) : out.len;
        struct sieve_action *a;
        if (e > i) {
            if ((a = sv_result_add(r, n, SIEVE_ACT_REDIRECT, out.data + i,
                                   e - i)) == NULL)
                rc = -1;
            else
                a->copy = copy;
            count++;
        }
        i = e + 1;
    }
    str_free(&out);
    if (rc == 0 && count > 0 && !copy)
        rc = sv_result_cancel_keep(r);
    return rc;
}

static int valid_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist l;

    sv_eval_list(r, &sv_pos(n, 0)->list, &l);
    if (r->host == NULL || r->host->list_valid == NULL)
        return 0;
    for (size_t i = 0; i < l.n; i++) {
        int rc;
        if (!name_ok(l.v[i].s, l.v[i].len))
            return 0;
        if (sv_charge(r, n, EXTLISTS_LOOKUP_STEPS) < 0)
            return -1;
        rc = r->host->list_valid(r->host->list_ctx,
                                 arena_strndup(r->a, l.v[i].s, l.v[i].len));
        if (rc < 0)
            return sv_rerror(r, n, "valid_ext_list: temporary failure of "
                             "the list \"%.60s\"", l.v[i].s);
        if (rc != LK_FOUND)
            return 0;
    }
    return 1;
}

/* --- lists from files (sieve_lists_dir) ------------------------------------- */

/* the file of list into out; 0, or -1 + errno (ENOENT also for a name
   that is no tag: name or holds '/' or starts with '.') */
static int dir_read(const char *dir, const char *list, struct str *out)
{
    const char *name = list + 4;
    char path[4096];
    FILE *f;
    size_t got;
    char buf[4096];

    if (!name_ok(list, strlen(list)) || name[0] == '.' || strchr(name, '/')) {
        errno = ENOENT;
        return -1;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (out->len + got > EXTLISTS_FILE_MAX) {
            fclose(f);
            errno = EFBIG;
            return -1;
        }
        str_append(out, buf, got);
    }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        errno = e ? e : EIO;
        return -1;
    }
    fclose(f);
    return 0;
}

/* each member line of a list file: fn(ctx, line, len); stops at fn != 0 */
static int dir_each(const struct str *t,
                    int (*fn)(void *ctx, const char *s, size_t len),
                    void *ctx)
{
    for (size_t i = 0; i < t->len;) {
        const char *nl = memchr(t->data + i, '\n', t->len - i);
        size_t e = nl ? (size_t)(nl - t->data) : t->len, b = i;
        int rc;
        while (b < e && (t->data[b] == ' ' || t->data[b] == '\t'))
            b++;
        i = e + 1;
        while (e > b && (t->data[e - 1] == ' ' || t->data[e - 1] == '\t' ||
                         t->data[e - 1] == '\r'))
            e--;
        if (e == b || t->data[b] == '#')
            continue;
        if ((rc = fn(ctx, t->data + b, e - b)) != 0)
            return rc;
    }
    return 0;
}

struct dir_find {
    const char *value;
};

static int dir_is(void *ctx, const char *s, size_t len)
{
    const struct dir_find *f = ctx;

    return strlen(f->value) == len && strncasecmp(f->value, s, len) == 0;
}

static int dir_open(const char *dir, const char *list, struct str *t)
{
    if (dir_read(dir, list, t) == 0)
        return LK_FOUND;
    return errno == ENOENT ? LK_NOTFOUND : LK_TEMP;
}

static int dir_member(void *ctx, const char *list, const char *value)
{
    struct str t = STR_INIT;
    struct dir_find f = {value};
    int rc = dir_open(ctx, list, &t);

    if (rc == LK_FOUND)
        rc = dir_each(&t, dir_is, &f) ? LK_FOUND : LK_NOTFOUND;
    str_free(&t);
    return rc;
}

static int dir_valid(void *ctx, const char *list)
{
    struct str t = STR_INIT;
    int rc = dir_open(ctx, list, &t);

    str_free(&t);
    return rc;
}

struct dir_out {
    struct str *out;
    size_t n, max;
};

static int dir_add(void *ctx, const char *s, size_t len)
{
    struct dir_out *o = ctx;

    if (++o->n > o->max || memchr(s, '@', len) == NULL)
        return 1;
    str_append(o->out, s, len);
    str_append_char(o->out, '\n');
    return 0;
}

static int dir_members(void *ctx, const char *list, struct str *out,
                       size_t max)
{
    struct str t = STR_INIT;
    struct dir_out o = {out, 0, max};
    int rc = dir_open(ctx, list, &t);

    if (rc == LK_FOUND && dir_each(&t, dir_add, &o))
        rc = LK_LIMIT;
    str_free(&t);
    return rc;
}

void sieve_lists_dir(struct sieve_host *h, const char *dir)
{
    h->list_member = dir_member;
    h->list_valid = dir_valid;
    h->list_members = dir_members;
    h->list_ctx = (void *)dir;
}

static const struct sv_cmddef cmds[] = {
    {"valid_ext_list", 1, "L", 0, 0, 0, NULL, valid_exec},
};

static const struct sv_tagdef tags[] = {
    {"list", SV_G_MATCH, SV_MT_LIST, 0, "*match"},
    {"list", SV_G_NONE, 0, 0, " redirect "},
};

const struct sv_ext sv_ext_extlists = {
    "extlists", cmds, sizeof(cmds) / sizeof(cmds[0]), tags,
    sizeof(tags) / sizeof(tags[0]), 0, 0};
