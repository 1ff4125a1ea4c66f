/*
 * srsmap - the SRS socketmap names of postern-maps, on top of lib/srs.c:
 * srsdecode for Postfix's recipient_canonical_maps, and the forward
 * routing that gives SRS only to copies that leave because of a forward
 * (docs/maps.md "SRS"):
 *
 *   forwardtransport  key: envelope sender (sender_dependent_default_
 *              transport_maps: Postfix asks it only for recipients of the
 *              default address class, i.e. not one of our domains, and
 *              only when transport_maps gave no transport).  OK
 *              "postern-forward:" when the sender's domain is foreign (the
 *              srsencode test below): the copy was produced by an alias,
 *              a catch-all or a re-submitted Sieve redirect and leaves
 *              through postern-forward(8), which rewrites the sender.
 *              Otherwise OK the default delivery route (transports row
 *              'default'/'delivery'), or NOTFOUND without one (Postfix's
 *              default_transport and relayhost).
 *   srstransport  key: recipient (transport_maps instead of transport):
 *              the answer of `transport`, except that the default delivery
 *              route of a foreign domain is NOTFOUND, so that Postfix
 *              consults sender_dependent_default_transport_maps
 *              (transport_maps wins over it).  Explicit routes of foreign
 *              domains (a partner's MX) that differ from the default stay
 *              and win: forwarded copies to them keep their sender.
 *   srsencode  key: envelope sender.  OK SRS address when the sender's
 *              domain is foreign: not one of our domains (any kind in the
 *              snapshot: local, alias, relay, legacy) and not the SRS
 *              domain.  NOTFOUND for our own senders, "<>", "@domain"
 *              keys, keys without a domain, local parts that need quoting
 *              and results over SRS_ADDR_MAX.  (For tests and for a
 *              sender_canonical_maps wiring; postern-postconf no longer
 *              uses it: that rewrote every copy.)
 *   srsdecode  key: recipient.  OK original address for a valid SRS0/SRS1
 *              address in the SRS domain (hash under any secret, SRS0 not
 *              older than srs_max_age).  NOTFOUND for everything else,
 *              including forged and expired SRS addresses: Postfix then
 *              looks the SRS address up as it is, finds no such mailbox
 *              and refuses it with 550 "User unknown".  TEMP or PERM would
 *              make the cleanup server defer the message until it expires,
 *              for an address that will never become valid.
 *
 * Without [maps] srs_domain every name answers PERM (logged): Postfix then
 * defers the mail, so a half-configured SRS never sends mail out unsigned.
 *
 * Diagnostics: every refused SRS address in the SRS domain is logged
 * (info) with the reason: bad hash (forged or signed by a secret no longer
 * in the file), expired, malformed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "maps.h"
#include "mem.h"
#include "srs.h"

int maps_srs_load(const struct maps_config *cfg, struct srs **out,
                  struct str *err)
{
    return srs_load_config(&cfg->srs, "maps", out, err);
}

void maps_srs_free(struct srs *srs)
{
    srs_free(srs);
}

static int domain_is_ours(const struct srs *srs, const struct snapshot *s,
                          const char *d, size_t n)
{
    char dom[ADDR_DOMAIN_MAX + 1];

    if (n && d[n - 1] == '.')
        n--;
    if (n == 0 || n > ADDR_DOMAIN_MAX)
        return 1; /* not a domain we could rewrite for: leave it alone */
    memcpy(dom, d, n);
    dom[n] = '\0';
    str_lower(dom, n);
    return strcmp(dom, srs->domain) == 0 || strmap_get(&s->domains, dom) != NULL;
}

/* sender_foreign - 1 if key (an envelope sender) has a domain that is not
   ours: the srsencode test, shared by forwardtransport */
static int sender_foreign(const struct srs *srs, const struct snapshot *s,
                          const char *key, size_t len, int allow_at_domain)
{
    const char *at = len ? memrchr(key, '@', len) : NULL;

    if (at == NULL || (at == key && !allow_at_domain))
        return 0;
    return !domain_is_ours(srs, s, at + 1, len - (size_t)(at + 1 - key));
}

static int encode(const struct srs *srs, const struct snapshot *s,
                                 const char *key, size_t len, struct str *out)
{
    const char *why;

    if (!sender_foreign(srs, s, key, len, 0))
        return LK_NOTFOUND;
    if (srs_forward(srs, key, len, time(NULL), out, &why) == 1)
        return LK_FOUND;
    log_debug("srsencode %s: not rewritten: %s", log_safe(key, len), why);
    str_reset(out);
    return LK_NOTFOUND;
}

static int decode(const struct srs *srs, const char *key,
                                 size_t len, struct str *out)
{
    const char *why;
    int r = srs_reverse(srs, key, len, time(NULL), out, &why);

    if (r == 1)
        return LK_FOUND;
    if (r < 0)
        log_info("srsdecode %s: refused: %s", log_safe(key, len), why);
    str_reset(out);
    return LK_NOTFOUND;
}

/* forwardtransport: "@domain" keys count too (Postfix asks the address,
   then @domain, when the address gave no answer) */
static int fwd_transport(const struct srs *srs, const struct snapshot *s,
                         const char *key, size_t len, struct str *out)
{
    if (sender_foreign(srs, s, key, len, 1)) {
        str_append_cstr(out, MAPS_FORWARD_TRANSPORT);
        return LK_FOUND;
    }
    if (s->tr_default == NULL)
        return LK_NOTFOUND;
    str_append_cstr(out, s->tr_default);
    return LK_FOUND;
}

/* srstransport: transport without the default route of foreign domains */
static int srs_transport(const struct snapshot *s, const char *delims,
                         const char *key, size_t len, struct str *out)
{
    const char *at = len ? memrchr(key, '@', len) : NULL;
    const char *d = at ? at + 1 : key;
    size_t n = len - (size_t)(d - key);
    char dom[ADDR_DOMAIN_MAX + 1];
    int r = maps_lookup(s, delims, "transport", key, len, out);

    if (r != LK_FOUND || s->tr_default == NULL ||
        strcmp(str_cstr(out), s->tr_default) != 0)
        return r;
    if (n && d[0] == '.') /* ".parent" keys of transport_maps */
        d++, n--;
    if (n && d[n - 1] == '.')
        n--;
    if (n == 0 || n > ADDR_DOMAIN_MAX || d[0] == '[')
        return r;
    memcpy(dom, d, n);
    dom[n] = '\0';
    str_lower(dom, n);
    if (strmap_get(&s->domains, dom) != NULL)
        return r; /* one of ours routed like the default: keep it */
    str_reset(out);
    return LK_NOTFOUND;
}

int maps_srs_lookup(const struct srs *srs, const struct snapshot *s,
                    const char *delims, const char *name, const char *key,
                    size_t len, struct str *out)
{
    str_reset(out);
    if (!strcmp(name, "srsencode"))
        return encode(srs, s, key, len, out);
    if (!strcmp(name, "forwardtransport"))
        return fwd_transport(srs, s, key, len, out);
    if (!strcmp(name, "srstransport"))
        return srs_transport(s, delims, key, len, out);
    return decode(srs, key, len, out);
}

int maps_srs_name(const char *name)
{
    return !strcmp(name, "srsdecode") || !strcmp(name, "srsencode") ||
           !strcmp(name, "forwardtransport") || !strcmp(name, "srstransport");
}
