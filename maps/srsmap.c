/*
 * srsmap - the socketmap names `srsencode` and `srsdecode` of postern-maps,
 * for Postfix's sender_canonical_maps and recipient_canonical_maps (the
 * model of postsrsd), on top of srs.c.
 *
 *   srsencode  key: envelope sender.  OK SRS address when the sender's
 *              domain is foreign: not one of our domains (any kind in the
 *              snapshot: local, alias, relay, legacy) and not the SRS
 *              domain.  NOTFOUND for our own senders, "<>", "@domain"
 *              keys, keys without a domain, local parts that need quoting
 *              and results over SRS_ADDR_MAX.
 *   srsdecode  key: recipient.  OK original address for a valid SRS0/SRS1
 *              address in the SRS domain (hash under any secret, SRS0 not
 *              older than srs_max_age).  NOTFOUND for everything else,
 *              including forged and expired SRS addresses: Postfix then
 *              looks the SRS address up as it is, finds no such mailbox
 *              and refuses it with 550 "User unknown".  TEMP or PERM would
 *              make the cleanup server defer the message until it expires,
 *              for an address that will never become valid.
 *
 * Without [maps] srs_domain both names answer PERM (logged): Postfix then
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
    static const char seps[] = "=+-";
    struct srs *srs;

    *out = NULL;
    if (cfg->srs_domain[0] == '\0')
        return 0;
    if (!addr_domain_valid(cfg->srs_domain, strlen(cfg->srs_domain)))
        return str_appendf(err, "[maps] srs_domain '%s' is not a domain name",
                           cfg->srs_domain), -1;
    srs = xcalloc(1, sizeof(*srs));
    if (srs_setup(srs, cfg->srs_domain, seps[cfg->srs_separator],
                  (int)(cfg->srs_max_age / 86400000), (int)cfg->srs_hash_length,
                  cfg->srs_hash ? SRS_SHA256 : SRS_SHA1, err) < 0 ||
        srs_read_secrets(srs, cfg->srs_secret_file, err) < 0) {
        maps_srs_free(srs);
        return -1;
    }
    *out = srs;
    return 0;
}

void maps_srs_free(struct srs *srs)
{
    if (srs) {
        srs_wipe(srs);
        free(srs);
    }
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

static int encode(const struct srs *srs, const struct snapshot *s,
                                 const char *key, size_t len, struct str *out)
{
    const char *at = len ? memrchr(key, '@', len) : NULL, *why;

    if (at == NULL || at == key || s == NULL ||
        domain_is_ours(srs, s, at + 1, len - (size_t)(at + 1 - key)))
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

int maps_srs_lookup(const struct srs *srs,
                                   const struct snapshot *s, const char *name,
                                   const char *key, size_t len, struct str *out)
{
    str_reset(out);
    if (!strcmp(name, "srsencode"))
        return encode(srs, s, key, len, out);
    return decode(srs, key, len, out);
}
