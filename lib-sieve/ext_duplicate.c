/*
 * ext_duplicate - the "duplicate" test (RFC 7352):
 *
 *   duplicate [:handle <string>] [:header <string> | :uniqueid <string>]
 *             [:seconds <number>] [:last]
 *
 * True when the id was seen before within the period.  The id is the
 * Message-ID (default), the first field named by :header, or :uniqueid;
 * with :handle the same id is tracked separately per handle.  A message
 * without the field is never a duplicate and is not tracked.
 *
 * The lookup is the host's (postern-lda: table sieve_duplicates); the test
 * only notes the id in the result (struct sieve_dupmark), and the caller
 * stores it after the message was delivered (RFC 7352 3: "when the script
 * completes successfully").  Without :last the period runs from the first
 * time; with :last it restarts whenever the id is seen.  :seconds is
 * bounded by the host's maximum; the default is the host's default.
 *
 * Limits: SIEVE_DUPLICATES_MAX tests per run (more: run-time error).
 */
#include <string.h>

#include "sieve-int.h"

static int duplicate_validate(struct sv_valctx *v, struct sv_node *n)
{
    if (sv_tag(n, "header") && sv_tag(n, "uniqueid")) {
        sv_verror(v, n->line, "duplicate: :header and :uniqueid are "
                  "mutually exclusive");
        return -1;
    }
    return 0;
}

static int duplicate_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sieve_host *h = r->host;
    const struct sv_tagval *t;
    struct sieve_result *res = r->res;
    struct sieve_dupmark *d;
    struct str id = STR_INIT;
    long long def = h && h->duplicate_default ? h->duplicate_default
                                              : 7 * 86400;
    long long max = h && h->duplicate_max ? h->duplicate_max : 30 * 86400;
    long long secs = def;
    int last = sv_tag(n, "last") != NULL, seen = 0;

    if ((t = sv_tag(n, "seconds")) != NULL)
        secs = t->param->num > (unsigned long long)max
                   ? max : (long long)t->param->num;
    if ((t = sv_tag(n, "handle")) != NULL) {
        struct sv_str s = sv_eval(r, &t->param->list.v[0]);
        str_append_cstr(&id, "handle:");
        str_append(&id, s.s, s.len);
    }
    str_append_char(&id, '\n');
    if ((t = sv_tag(n, "uniqueid")) != NULL) {
        struct sv_str s = sv_eval(r, &t->param->list.v[0]);
        str_append(&id, s.s, s.len);
    } else {
        const char *name = "message-id";
        struct sv_str *vals;
        if ((t = sv_tag(n, "header")) != NULL)
            name = sv_cstr(r, &t->param->list.v[0]);
        if (sv_header_values(r, NULL, name, strlen(name), 0, &vals) == 0 ||
            vals[0].len == 0) {
            str_free(&id);
            return 0;
        }
        str_append(&id, vals[0].s, vals[0].len);
    }
    if (res->ndups >= SIEVE_DUPLICATES_MAX) {
        str_free(&id);
        return sv_rerror(r, n, "too many duplicate tests (%d)",
                         SIEVE_DUPLICATES_MAX);
    }
    if (h && h->duplicate &&
        (seen = h->duplicate(h->dup_ctx, id.data, id.len, secs, last)) < 0) {
        str_free(&id);
        return sv_rerror(r, n, "duplicate: the state database failed");
    }
    /* the same id twice in one run: the second test sees the first */
    for (size_t i = 0; i < res->ndups; i++)
        if (res->dups[i].len == id.len &&
            memcmp(res->dups[i].id, id.data, id.len) == 0)
            seen = 1;
    d = &res->dups[res->ndups++];
    d->id = arena_strndup(&res->arena, id.data, id.len);
    d->len = id.len;
    d->seconds = secs;
    d->last = last;
    d->seen = seen;
    str_free(&id);
    return seen;
}

static const struct sv_cmddef cmds[] = {
    {"duplicate", 1, "", 0, 0, 0, duplicate_validate, duplicate_exec},
};

static const struct sv_tagdef tags[] = {
    {"handle", SV_G_NONE, 0, 'S', " duplicate "},
    {"header", SV_G_NONE, 0, 'S', " duplicate "},
    {"uniqueid", SV_G_NONE, 0, 'S', " duplicate "},
    {"seconds", SV_G_NONE, 0, 'N', " duplicate "},
    {"last", SV_G_NONE, 0, 0, " duplicate "},
};

const struct sv_ext sv_ext_duplicate = {
    "duplicate", cmds, 1, tags, sizeof(tags) / sizeof(tags[0]), 0, 0};
