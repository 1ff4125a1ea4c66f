/*
 * ext_envelope - the "envelope" test (RFC 5228 section 5.4):
 *
 *   envelope [COMPARATOR] [ADDRESS-PART] [MATCH-TYPE]
 *            <envelope-part: string-list> <key-list>
 *
 * Envelope parts: "from" (the SMTP MAIL FROM; the null sender is "" and
 * every address part of it is ""), "to" (RCPT TO as Postfix gave it, with
 * its +detail), "orig_to" (the original recipient when known, else "to")
 * and "auth" (the SASL login, when known).  An unknown literal part is a
 * compile error.  "from", "to" and "orig_to" are SMTP paths ("a@b" or
 * "<a@b>", a source route "<@r1,@r2:a@b>" ignored): one that is not
 * syntactically valid ("a@", "<<a@b>", "a@@b") matches nothing, not even
 * with :all (as Pigeonhole).
 */
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static const char *part_value(struct sv_run *r, const char *p, size_t len)
{
    const struct sieve_message *m = r->msg;

    if (len == 4 && strncasecmp(p, "from", 4) == 0)
        return m->env_from;
    if (len == 2 && strncasecmp(p, "to", 2) == 0)
        return m->env_to;
    if (len == 7 && strncasecmp(p, "orig_to", 7) == 0)
        return m->env_orig_to ? m->env_orig_to : m->env_to;
    if (len == 4 && strncasecmp(p, "auth", 4) == 0)
        return m->env_auth;
    return NULL;
}

static int known(const char *p, size_t len)
{
    static const char *const parts[] = {"from", "to", "orig_to", "auth"};

    for (int i = 0; i < 4; i++)
        if (strlen(parts[i]) == len && strncasecmp(p, parts[i], len) == 0)
            return 1;
    return 0;
}

static int envelope_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);

    for (size_t i = 0; i < a->list.n; i++) {
        const struct sv_str *s = &a->list.v[i];
        if (sv_literal(s) && !known(s->s, s->len)) {
            sv_verror(v, a->line, "unknown envelope part \"%.60s\"", s->s);
            return -1;
        }
    }
    return 0;
}

static int envelope_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist parts, keys;
    struct sv_str *vals;
    size_t nv = 0;

    sv_eval_list(r, &sv_pos(n, 0)->list, &parts);
    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    vals = arena_alloc(r->a, (parts.n + 1) * sizeof(*vals));
    for (size_t i = 0; i < parts.n; i++) {
        const char *v = part_value(r, parts.v[i].s, parts.v[i].len);
        struct sv_address ad;
        if (v == NULL)
            continue;
        sv_envelope_address(r->a, v, &ad);
        if (!ad.valid) {
            /* auth is a login, not always an address: :all sees it */
            if (parts.v[i].len == 4 &&
                strncasecmp(parts.v[i].s, "auth", 4) == 0 &&
                (n->addrpart == 0 || n->addrpart == SV_AP_ALL))
                vals[nv++] = (struct sv_str){v, strlen(v), 0};
            continue;
        }
        if (sv_address_part(r, n->addrpart, &ad, &vals[nv]))
            nv++;
    }
    return sv_match(r, n, vals, nv, &keys);
}

static const struct sv_cmddef cmds[] = {
    {"envelope", 1, "LL", 0, 0, SV_F_MATCH | SV_F_ADDR, envelope_validate,
     envelope_exec},
};

const struct sv_ext sv_ext_envelope = {"envelope", cmds, 1, NULL, 0, 0, 0};
