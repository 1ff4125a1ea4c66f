/*
 * dmarc.c - postern dmarc report: RFC 7489 aggregate reports of one UTC
 * day, built from dmarc_results (written by postern-milter) and mailed to
 * each rua destination of each policy domain (docs/dmarc.md).
 *
 *   postern dmarc report [--day YYYY-MM-DD] [--domain D] [--out DIR]
 *                        [--dry-run]
 *   postern dmarc summary ...          (admin/dmarc_summary.c)
 *
 * For each policy_domain with rows on the day (default: yesterday, UTC)
 * whose last seen record has a rua tag: one XML document of the schema of
 * RFC 7489 Appendix C (feedback, report_metadata, policy_published as last
 * seen, one record per row with its DKIM results), gzip-compressed, named
 * RECEIVER!POLICY-DOMAIN!BEGIN!END.xml.gz (7.2.1.1; RECEIVER is the domain
 * of [dmarc] report_from), attached to a MIME message with the Subject
 * "Report Domain: D Submitter: S Report-ID: <ID>" and handed to sendmail
 * once per mailto: URI of rua:
 *   - a URI other than mailto: is skipped;
 *   - a "!SIZE" limit smaller than the message is a skip;
 *   - an external destination (its organizational domain, libpsl, differs
 *     from the policy domain's) is used only when
 *     POLICY-DOMAIN._report._dmarc.HOST has a TXT record beginning with
 *     "v=DMARC1" (7.1); no such record is a skip, a DNS failure a
 *     temporary one;
 *   - a destination already in dmarc_reports_sent for that day and domain
 *     is not sent to again; a successful sendmail run adds it.
 * Every skip is printed and logged on stderr.  --out DIR also writes each
 * report file there; --dry-run builds, checks and writes, but sends,
 * records and prunes nothing.  Afterwards rows of dmarc_results and
 * dmarc_reports_sent older than [dmarc] keep days are deleted in batches
 * of DMARC_PRUNE_BATCH.
 *
 * Output: one row per destination: domain, destination, report_id,
 * bytes, result (sent, already-sent, dry-run, skipped-size,
 * skipped-unverified, skipped-scheme, dns-tempfail, failed).
 *
 * Limits: DMARC_ROWS_MAX records per report (more are left out and named
 * in report_metadata/error), DMARC_RUA_MAX destinations per rua,
 * DMARC_SENDMAIL_TIMEOUT_MS per sendmail run.
 * Diagnostics: exit 0 when every destination was sent to or skipped by
 * rule; 75 when the database, DNS or sendmail failed for one (a later run
 * retries it); 64 bad options; 78 bad [dmarc] settings.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libpsl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "dmarc.h"
#include "dnstxt.h"
#include "file.h"
#include "lookup.h"
#include "mem.h"
#include "sendmail.h"
#include "util.h"

#define DMARC_ROWS_MAX 50000
#define DMARC_RUA_MAX 8
#define DMARC_URI_MAX 1024
#define DMARC_SENDMAIL_TIMEOUT_MS 120000
#define DMARC_PRUNE_BATCH 5000
#define DMARC_DOMAINS_MAX 100000
#define DAY_SECS 86400LL
#define DMARC_STR(x) #x
#define DMARC_XSTR(x) DMARC_STR(x)

struct dmarc_config {
    char *org_name;
    char *report_from;
    char *sendmail;
    long long keep; /* ms */
};

/* [dmarc] of the configuration: read by postern only */
static const struct cfg_def dmarc_defs[] = {
    {"org_name", CFG_STR, "", 0, 255, offsetof(struct dmarc_config, org_name),
     NULL},
    {"report_from", CFG_STR, "", 0, 320,
     offsetof(struct dmarc_config, report_from), NULL},
    {"sendmail", CFG_STR, "/usr/sbin/sendmail", 1, 1024,
     offsetof(struct dmarc_config, sendmail), NULL},
    {"keep", CFG_TIME, "14d", 2LL * DAY_SECS * 1000,
     366LL * DAY_SECS * 1000, offsetof(struct dmarc_config, keep), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static int dmarc_load_config(struct admin *a, struct dmarc_config *dc,
                             struct cfg_section *sec)
{
    const char *ignored[32];
    struct str err = {0};
    size_t n = 0;
    int rc;
    *sec = (struct cfg_section){"dmarc", dmarc_defs, dc};
    for (size_t i = 0; daemon_all_sections[i] && n < 31; i++)
        if (strcmp(daemon_all_sections[i], "dmarc") != 0)
            ignored[n++] = daemon_all_sections[i];
    ignored[n] = NULL;
    rc = cfg_load(a->config_path, sec, 1, ignored, &err);
    if (rc < 0)
        admin_error(ADMIN_EX_CONFIG, "dmarc", "%s", str_cstr(&err));
    str_free(&err);
    return rc < 0 ? ADMIN_EX_CONFIG : ADMIN_EX_OK;
}

/* --- one run ------------------------------------------------------------ */

struct report_run {
    struct admin *a;
    struct dmarc_config cfg;
    const char *what;
    char day[11];           /* YYYY-MM-DD */
    long long begin, end;   /* date_range, seconds since the epoch */
    const char *domain;     /* --domain, or NULL */
    const char *out_dir;    /* --out, or NULL */
    char receiver[ADDR_DOMAIN_MAX + 1]; /* domain of report_from */
    const char *org_name;
    psl_ctx_t *psl;
    struct admin_out out;
    int status;             /* worst outcome so far */
};

/* xml_text - s escaped for XML character data and attribute values;
   control characters XML 1.0 does not allow are dropped */
static void xml_text(struct str *x, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': str_append_cstr(x, "&amp;"); break;
        case '<': str_append_cstr(x, "&lt;"); break;
        case '>': str_append_cstr(x, "&gt;"); break;
        case '"': str_append_cstr(x, "&quot;"); break;
        case '\'': str_append_cstr(x, "&apos;"); break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
                str_append_char(x, (char)c);
        }
    }
}

static void xml_elem(struct str *x, const char *indent, const char *name,
                     const char *val)
{
    str_appendf(x, "%s<%s>", indent, name);
    xml_text(x, val);
    str_appendf(x, "</%s>\n", name);
}

static const char *one_of(const char *v, const char *const *set,
                          const char *dflt)
{
    return v && admin_index(v, set) >= 0 ? v : dflt;
}

/* the records: one db row per (result row, DKIM signature) */
struct rec_ctx {
    struct str *x;
    long long last_id;
    const char *spf[3]; /* of the open record: domain, scope, result */
    char *spf_copy[3];
    unsigned long long nrecords, messages;
    int truncated;
};

static void rec_close(struct rec_ctx *r)
{
    static const char *const scopes[] = {"helo", "mfrom", NULL};
    static const char *const results[] = {"none", "neutral", "pass", "fail",
        "softfail", "temperror", "permerror", NULL};
    if (r->last_id == 0)
        return;
    str_append_cstr(r->x, "      <spf>\n");
    xml_elem(r->x, "        ", "domain", r->spf[0] ? r->spf[0] : "");
    xml_elem(r->x, "        ", "scope", one_of(r->spf[1], scopes, "mfrom"));
    xml_elem(r->x, "        ", "result", one_of(r->spf[2], results, "none"));
    str_append_cstr(r->x, "      </spf>\n    </auth_results>\n  </record>\n");
    for (int i = 0; i < 3; i++) {
        free(r->spf_copy[i]);
        r->spf_copy[i] = NULL;
    }
}

enum { C_ID, C_IP, C_MSGS, C_DISP, C_DKIM, C_SPF, C_REASON, C_COMMENT,
       C_HFROM, C_EFROM, C_ETO, C_SPFDOM, C_SPFSCOPE, C_SPFRES, C_JDOM,
       C_JSEL, C_JRES, C_NCOLS };

static int rec_row(void *ctx, unsigned ncols, char **v,
                   const unsigned long *lens)
{
    static const char *const dkim_results[] = {"none", "pass", "fail",
        "policy", "neutral", "temperror", "permerror", NULL};
    struct rec_ctx *r = ctx;
    struct str *x = r->x;
    long long id = strtoll(v[C_ID], NULL, 10);
    (void)lens;
    if (ncols != C_NCOLS)
        return 1;
    if (id != r->last_id) {
        rec_close(r);
        if (r->nrecords >= DMARC_ROWS_MAX) {
            r->truncated = 1;
            r->last_id = 0;
            return 1;
        }
        r->last_id = id;
        r->nrecords++;
        r->messages += strtoull(v[C_MSGS], NULL, 10);
        str_append_cstr(x, "  <record>\n    <row>\n");
        xml_elem(x, "      ", "source_ip", v[C_IP]);
        xml_elem(x, "      ", "count", v[C_MSGS]);
        str_append_cstr(x, "      <policy_evaluated>\n");
        xml_elem(x, "        ", "disposition", v[C_DISP]);
        xml_elem(x, "        ", "dkim", v[C_DKIM]);
        xml_elem(x, "        ", "spf", v[C_SPF]);
        if (v[C_REASON]) {
            str_append_cstr(x, "        <reason>\n");
            xml_elem(x, "          ", "type", v[C_REASON]);
            if (v[C_COMMENT])
                xml_elem(x, "          ", "comment", v[C_COMMENT]);
            str_append_cstr(x, "        </reason>\n");
        }
        str_append_cstr(x, "      </policy_evaluated>\n    </row>\n"
                           "    <identifiers>\n");
        if (v[C_ETO])
            xml_elem(x, "      ", "envelope_to", v[C_ETO]);
        /* required by the schema; empty for the null sender */
        xml_elem(x, "      ", "envelope_from", v[C_EFROM] ? v[C_EFROM] : "");
        xml_elem(x, "      ", "header_from", v[C_HFROM]);
        str_append_cstr(x, "    </identifiers>\n    <auth_results>\n");
        r->spf_copy[0] = xstrdup(v[C_SPFDOM] ? v[C_SPFDOM]
                                 : v[C_EFROM] ? v[C_EFROM] : v[C_HFROM]);
        r->spf_copy[1] = v[C_SPFSCOPE] ? xstrdup(v[C_SPFSCOPE]) : NULL;
        r->spf_copy[2] = v[C_SPFRES] ? xstrdup(v[C_SPFRES]) : NULL;
        for (int i = 0; i < 3; i++)
            r->spf[i] = r->spf_copy[i];
    }
    if (v[C_JDOM]) {
        str_append_cstr(x, "      <dkim>\n");
        xml_elem(x, "        ", "domain", v[C_JDOM]);
        if (v[C_JSEL])
            xml_elem(x, "        ", "selector", v[C_JSEL]);
        xml_elem(x, "        ", "result",
                 one_of(v[C_JRES], dkim_results, "permerror"));
        str_append_cstr(x, "      </dkim>\n");
    }
    return 0;
}

struct policy {
    char p[16], sp[16], pct[8], adkim[4], aspf[4], fo[20];
    char rua[DMARC_URI_MAX + 1];
};

static int policy_row(void *ctx, unsigned ncols, char **v,
                      const unsigned long *lens)
{
    struct policy *p = ctx;
    (void)lens;
    if (ncols != 7)
        return 1;
    snprintf(p->p, sizeof(p->p), "%s", v[0]);
    snprintf(p->sp, sizeof(p->sp), "%s", v[1] ? v[1] : "");
    snprintf(p->pct, sizeof(p->pct), "%s", v[2]);
    snprintf(p->adkim, sizeof(p->adkim), "%s", v[3]);
    snprintf(p->aspf, sizeof(p->aspf), "%s", v[4]);
    snprintf(p->fo, sizeof(p->fo), "%s", v[5] ? v[5] : "");
    snprintf(p->rua, sizeof(p->rua), "%s", v[6] ? v[6] : "");
    return 1;
}

static const char rec_sql[] =
    "SELECT r.id, r.source_ip, r.messages, r.disposition, r.dkim_aligned,"
    " r.spf_aligned, r.reason, r.reason_comment, r.header_from,"
    " r.envelope_from, r.envelope_to, r.spf_domain, r.spf_scope,"
    " r.spf_result, j.domain, j.selector, j.result"
    " FROM dmarc_results r LEFT JOIN JSON_TABLE(r.dkim_results, '$[*]'"
    " COLUMNS (ord FOR ORDINALITY, domain VARCHAR(253) PATH '$.domain',"
    " selector VARCHAR(253) PATH '$.selector',"
    " result VARCHAR(32) PATH '$.result')) j ON 1"
    " WHERE r.day = ? AND r.policy_domain = ? AND r.messages > 0"
    " ORDER BY r.id, j.ord";

/*
 * build_report - the XML of one policy domain into x; report_id into id.
 * LK_FOUND, LK_NOTFOUND (no rua or no rows: nothing to send) or LK_TEMP.
 */
static int build_report(struct report_run *run, struct db *db,
                        const char *dom, struct str *x, struct policy *pol,
                        char *id, size_t idsize)
{
    struct db_param p[2] = {DBP_S(run->day), DBP_S(dom)};
    struct str recs = {0}, err = {0};
    struct rec_ctx rc = {.x = &recs};
    int r;

    r = db_query(db, "SELECT p, sp, pct, adkim, aspf, fo, rua"
                 " FROM dmarc_results WHERE day = ? AND policy_domain = ?"
                 " ORDER BY updated_at DESC, id DESC LIMIT 1",
                 p, 2, policy_row, pol, &err);
    if (r == LK_FOUND && pol->rua[0])
        r = db_query(db, rec_sql, p, 2, rec_row, &rc, &err);
    else if (r == LK_FOUND)
        r = LK_NOTFOUND;
    rec_close(&rc);
    if (r < 0)
        admin_error(ADMIN_EX_TEMPFAIL, run->what, "%s: %s", dom,
                    str_cstr(&err));
    str_free(&err);
    if (r != LK_FOUND || rc.nrecords == 0) {
        str_free(&recs);
        return r < 0 ? LK_TEMP : LK_NOTFOUND;
    }
    snprintf(id, idsize, "%s.%s.%.4s%.2s%.2s", run->receiver, dom, run->day,
             run->day + 5, run->day + 8);
    str_append_cstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<feedback>\n  <version>1.0</version>\n"
                       "  <report_metadata>\n");
    xml_elem(x, "    ", "org_name", run->org_name);
    xml_elem(x, "    ", "email", run->cfg.report_from);
    xml_elem(x, "    ", "report_id", id);
    str_appendf(x, "    <date_range>\n      <begin>%lld</begin>\n"
                   "      <end>%lld</end>\n    </date_range>\n",
                run->begin, run->end);
    if (rc.truncated)
        str_appendf(x, "    <error>only the first %d records of this day "
                       "are reported</error>\n", DMARC_ROWS_MAX);
    str_append_cstr(x, "  </report_metadata>\n  <policy_published>\n");
    xml_elem(x, "    ", "domain", dom);
    xml_elem(x, "    ", "adkim", pol->adkim);
    xml_elem(x, "    ", "aspf", pol->aspf);
    xml_elem(x, "    ", "p", pol->p);
    if (pol->sp[0])
        xml_elem(x, "    ", "sp", pol->sp);
    xml_elem(x, "    ", "pct", pol->pct);
    if (pol->fo[0])
        xml_elem(x, "    ", "fo", pol->fo);
    str_append_cstr(x, "  </policy_published>\n");
    str_append(x, recs.data, recs.len);
    str_append_cstr(x, "</feedback>\n");
    str_free(&recs);
    return LK_FOUND;
}

/* gzip_buf - in compressed as a gzip file (RFC 1952) into out; 0 or -1 */
static int gzip_buf(const struct str *in, struct str *out)
{
    z_stream z;
    uLong bound;
    int rc;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    bound = deflateBound(&z, (uLong)in->len) + 32;
    if (str_reserve(out, bound) < 0) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END) {
        out->len += z.total_out;
        out->data[out->len] = '\0';
    }
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* base64 of data in lines of 76 characters, CRLF-less (sendmail -i
   takes LF) */
static void base64_lines(struct str *m, const unsigned char *data, size_t len)
{
    unsigned char line[80];
    for (size_t off = 0; off < len; off += 57) {
        size_t n = len - off < 57 ? len - off : 57;
        int w = EVP_EncodeBlock(line, data + off, (int)n);
        str_append(m, line, (size_t)w);
        str_append_char(m, '\n');
    }
}

static void build_message(const struct report_run *run, const char *dom,
                          const char *to, const char *id, const char *fname,
                          const struct str *gz, struct str *m)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    str_appendf(m, "From: %s\nTo: %s\nDate: %s\n"
                   "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
                   "Message-ID: <%s.%lld.%ld@%s>\n"
                   "MIME-Version: 1.0\nAuto-Submitted: auto-generated\n"
                   "Content-Type: multipart/mixed; "
                   "boundary=\"=_postern-dmarc-%lld\"\n\n"
                   "This is a MIME message.\n\n--=_postern-dmarc-%lld\n"
                   "Content-Type: text/plain; charset=us-ascii\n\n"
                   "DMARC aggregate report (RFC 7489) for %s, %s (UTC),\n"
                   "from %s.  The report is attached.\n\n"
                   "--=_postern-dmarc-%lld\n"
                   "Content-Type: application/gzip; name=\"%s\"\n"
                   "Content-Transfer-Encoding: base64\n"
                   "Content-Disposition: attachment; filename=\"%s\"\n\n",
                run->cfg.report_from, to, date, dom, run->receiver, id, id,
                (long long)now, (long)getpid(), run->receiver,
                (long long)now, (long long)now, dom, run->day, run->org_name,
                (long long)now, fname, fname);
    base64_lines(m, (const unsigned char *)gz->data, gz->len);
    str_appendf(m, "\n--=_postern-dmarc-%lld--\n", (long long)now);
}

/* --- destinations ------------------------------------------------------- */

struct dest {
    char addr[DMARC_URI_MAX + 1]; /* the mailbox, percent-decoded */
    char host[ADDR_DOMAIN_MAX + 1];
    unsigned long long limit;     /* bytes; 0 = none */
    int mailto;                   /* 0: another scheme (skipped) */
    char uri[DMARC_URI_MAX + 1];  /* as published, for messages */
};

/* parse_uri - one dmarc-uri (RFC 7489 6.4): URI [ "!" size [kmgt] ];
   0 or -1 (malformed) */
static int parse_uri(const char *s, size_t len, struct dest *d)
{
    const char *bang = memchr(s, '!', len), *at;
    size_t ulen = bang ? (size_t)(bang - s) : len, k = 0;
    memset(d, 0, sizeof(*d));
    if (len > DMARC_URI_MAX)
        return -1;
    memcpy(d->uri, s, len);
    if (bang) {
        const char *q = bang + 1, *e = s + len;
        unsigned long long n = 0;
        if (q == e || !isdigit((unsigned char)*q))
            return -1;
        for (; q < e && isdigit((unsigned char)*q); q++) {
            if (n > (~0ULL - 9) / 10)
                return -1;
            n = n * 10 + (unsigned)(*q - '0');
        }
        if (q < e) {
            const char *units = "kmgt", *u = strchr(units, tolower(*q));
            if (!u || q + 1 != e)
                return -1;
            for (long i = 0; i <= u - units; i++)
                n = n > (~0ULL >> 10) ? ~0ULL : n << 10;
        }
        d->limit = n ? n : 1;
    }
    if (ulen < 7 || strncasecmp(s, "mailto:", 7) != 0)
        return 0; /* another scheme: skipped by the caller */
    d->mailto = 1;
    for (size_t i = 7; i < ulen; i++) {
        int c = (unsigned char)s[i];
        if (c == '?')
            break; /* hfields are ignored */
        if (c == '%' && i + 2 < ulen && str_hexval(s[i + 1]) >= 0 &&
            str_hexval(s[i + 2]) >= 0) {
            c = str_hexval(s[i + 1]) * 16 + str_hexval(s[i + 2]);
            i += 2;
        }
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
            return -1;
        d->addr[k++] = (char)c;
    }
    d->addr[k] = '\0';
    if (!(at = strrchr(d->addr, '@')) || at == d->addr || !at[1] ||
        strlen(at + 1) > ADDR_DOMAIN_MAX)
        return -1;
    snprintf(d->host, sizeof(d->host), "%s", at + 1);
    str_lower(d->host, strlen(d->host));
    while (*d->host && d->host[strlen(d->host) - 1] == '.')
        d->host[strlen(d->host) - 1] = '\0';
    return 0;
}

static const char *org_domain(psl_ctx_t *psl, const char *dom)
{
    const char *r = psl ? psl_registrable_domain(psl, dom) : NULL;
    return r ? r : dom;
}

/*
 * verify_external - RFC 7489 7.1: LK_FOUND when host may receive reports
 * about dom (same organizational domain, or the _report._dmarc record
 * says so), LK_NOTFOUND when it may not, LK_TEMP when DNS did not answer.
 */
static int verify_external(struct report_run *run, const char *dom,
                           const char *host, const char **why)
{
    char name[DNSTXT_NAME_MAX * 2 + 32];
    struct dnstxt txt;
    int rc, ok = 0;
    *why = "";
    if (strcmp(org_domain(run->psl, dom), org_domain(run->psl, host)) == 0)
        return LK_FOUND;
    if ((size_t)snprintf(name, sizeof(name), "%s._report._dmarc.%s", dom,
                         host) > DNSTXT_NAME_MAX) {
        *why = "verification name longer than 253 characters";
        return LK_NOTFOUND;
    }
    rc = dnstxt_lookup(name, &txt, why);
    if (rc < 0)
        return LK_TEMP;
    for (size_t i = 0; rc == LK_FOUND && i < txt.n; i++) {
        const char *r = txt.rec[i];
        if (strncasecmp(r, "v=DMARC1", 8) == 0 &&
            (r[8] == '\0' || r[8] == ';' || r[8] == ' ' || r[8] == '\t'))
            ok = 1;
    }
    dnstxt_free(&txt);
    if (!ok)
        *why = rc == LK_FOUND ? "no record beginning with v=DMARC1"
                              : "no TXT record";
    return ok ? LK_FOUND : LK_NOTFOUND;
}

static void row_out(struct report_run *run, const char *dom,
                    const char *dest, const char *id, size_t bytes,
                    const char *result)
{
    char nb[32];
    char *vals[5];
    snprintf(nb, sizeof(nb), "%zu", bytes);
    vals[0] = (char *)dom;
    vals[1] = (char *)dest;
    vals[2] = (char *)id;
    vals[3] = nb;
    vals[4] = (char *)result;
    admin_out_row(&run->out, vals);
}

static void worse(struct report_run *run, int status)
{
    if (run->status == ADMIN_EX_OK)
        run->status = status;
}

/* already_sent - LK_FOUND when dest got the report of dom for the day */
static int already_sent(struct report_run *run, struct db *db,
                        const char *dom, const char *dest)
{
    struct db_param p[3] = {DBP_S(run->day), DBP_S(dom), DBP_S(dest)};
    struct str err = {0};
    int rc = db_query(db, "SELECT 1 FROM dmarc_reports_sent WHERE day = ?"
                      " AND policy_domain = ? AND destination = ?",
                      p, 3, db_row_exists, NULL, &err);
    if (rc < 0)
        admin_error(ADMIN_EX_TEMPFAIL, run->what, "%s: %s", dom,
                    str_cstr(&err));
    str_free(&err);
    return rc;
}

static int mark_sent(struct report_run *run, struct db *db, const char *dom,
                     const char *dest, const char *id, size_t bytes)
{
    struct db_param p[5] = {DBP_S(run->day), DBP_S(dom), DBP_S(dest),
                            DBP_S(id), DBP_I(bytes)};
    struct str err = {0};
    int rc = db_exec(db, "INSERT INTO dmarc_reports_sent (day, policy_domain,"
                     " destination, report_id, bytes) VALUES (?, ?, ?, ?, ?)"
                     " ON DUPLICATE KEY UPDATE sent_at = CURRENT_TIMESTAMP",
                     p, 5, NULL, &err);
    if (rc < 0)
        admin_error(ADMIN_EX_TEMPFAIL, run->what,
                    "%s: sent to %s but not recorded (a re-run sends it "
                    "again): %s", dom, dest, str_cstr(&err));
    str_free(&err);
    return rc;
}

static void send_one(struct report_run *run, struct db *db, const char *dom,
                     const struct dest *d, const char *id, const char *fname,
                     const struct str *gz)
{
    struct str m = {0}, err = {0};
    char dest[DMARC_URI_MAX + 1];
    const char *why;
    int rc;

    snprintf(dest, sizeof(dest), "%s", d->addr);
    str_lower(dest, strlen(dest));
    if ((rc = already_sent(run, db, dom, dest)) != LK_NOTFOUND) {
        if (rc < 0)
            worse(run, ADMIN_EX_TEMPFAIL);
        row_out(run, dom, dest, id, 0, rc < 0 ? "failed" : "already-sent");
        return;
    }
    build_message(run, dom, d->addr, id, fname, gz, &m);
    if (d->limit && m.len > d->limit) {
        admin_error(0, run->what, "%s: report of %zu bytes is over the limit "
                    "of %llu bytes of %s: skipped", dom, m.len, d->limit,
                    d->uri);
        row_out(run, dom, dest, id, m.len, "skipped-size");
    } else if ((rc = verify_external(run, dom, d->host, &why)) != LK_FOUND) {
        admin_error(0, run->what, "%s: external destination %s not "
                    "verified (%s._report._dmarc.%s: %s): %s", dom, d->addr,
                    dom, d->host, why,
                    rc < 0 ? "skipped for now" : "skipped");
        if (rc < 0)
            worse(run, ADMIN_EX_TEMPFAIL);
        row_out(run, dom, dest, id, m.len,
                rc < 0 ? "dns-tempfail" : "skipped-unverified");
    } else if (run->a->dry_run) {
        row_out(run, dom, dest, id, m.len, "dry-run");
    } else if (sendmail_send(run->cfg.sendmail, run->cfg.report_from,
                             d->addr, m.data, m.len,
                             DMARC_SENDMAIL_TIMEOUT_MS, &err) < 0) {
        admin_error(0, run->what, "%s: sending to %s: %s", dom, d->addr,
                    str_cstr(&err));
        worse(run, ADMIN_EX_TEMPFAIL);
        row_out(run, dom, dest, id, m.len, "failed");
    } else {
        if (mark_sent(run, db, dom, dest, id, m.len) < 0)
            worse(run, ADMIN_EX_TEMPFAIL);
        row_out(run, dom, dest, id, m.len, "sent");
    }
    str_free(&m);
    str_free(&err);
}

static int write_out(struct report_run *run, const char *fname,
                     const struct str *gz)
{
    char path[4096];
    int fd, rc;
    snprintf(path, sizeof(path), "%s/%s", run->out_dir, fname);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return admin_error(-1, run->what, "%s: %s", path, strerror(errno));
    rc = file_write_all(fd, gz->data, gz->len);
    if (close(fd) < 0 || rc < 0)
        return admin_error(-1, run->what, "%s: %s", path, strerror(errno));
    return 0;
}

static void report_domain(struct report_run *run, struct db *db,
                          const char *dom)
{
    struct str x = {0}, gz = {0};
    struct policy pol;
    char id[512], fname[1024];
    const char *rua, *comma;
    unsigned ndest = 0;
    int rc;

    memset(&pol, 0, sizeof(pol));
    rc = build_report(run, db, dom, &x, &pol, id, sizeof(id));
    if (rc != LK_FOUND) {
        if (rc < 0)
            worse(run, ADMIN_EX_TEMPFAIL);
        str_free(&x);
        return;
    }
    snprintf(fname, sizeof(fname), "%s!%s!%lld!%lld.xml.gz", run->receiver,
             dom, run->begin, run->end);
    if (gzip_buf(&x, &gz) < 0) {
        admin_error(0, run->what, "%s: gzip failed", dom);
        worse(run, ADMIN_EX_SOFTWARE);
    } else if (run->out_dir && write_out(run, fname, &gz) < 0) {
        worse(run, ADMIN_EX_CANTCREAT);
    } else {
        for (rua = pol.rua; *rua; rua = comma ? comma + 1 : rua + strlen(rua)) {
            const char *s = rua, *e;
            struct dest d;
            comma = strchr(rua, ',');
            e = comma ? comma : rua + strlen(rua);
            while (s < e && isspace((unsigned char)*s))
                s++;
            while (e > s && isspace((unsigned char)e[-1]))
                e--;
            if (s == e)
                continue;
            if (++ndest > DMARC_RUA_MAX) {
                admin_error(0, run->what, "%s: more than %d rua "
                            "destinations: the rest are skipped", dom,
                            DMARC_RUA_MAX);
                break;
            }
            if (parse_uri(s, (size_t)(e - s), &d) < 0 || !d.mailto) {
                admin_error(0, run->what, "%s: rua URI '%.*s' %s: skipped",
                            dom, (int)(e - s), s, d.mailto
                            ? "is malformed" : "is not a mailto: URI");
                row_out(run, dom, d.uri, id, 0, "skipped-scheme");
                continue;
            }
            send_one(run, db, dom, &d, id, fname, &gz);
        }
    }
    str_free(&x);
    str_free(&gz);
}

struct domlist {
    char **v;
    size_t n;
};

static int dom_row(void *ctx, unsigned ncols, char **v,
                   const unsigned long *lens)
{
    struct domlist *l = ctx;
    (void)ncols;
    (void)lens;
    if (l->n >= DMARC_DOMAINS_MAX)
        return 1;
    l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = xstrdup(v[0]);
    return 0;
}

/* prune - delete rows older than keep days, in batches */
static int prune(struct report_run *run, struct db *db)
{
    static const char *const sqls[] = {
        "DELETE FROM dmarc_results WHERE day < UTC_DATE() - INTERVAL ? DAY"
        " LIMIT " DMARC_XSTR(DMARC_PRUNE_BATCH),
        "DELETE FROM dmarc_reports_sent WHERE day < UTC_DATE() - INTERVAL ?"
        " DAY LIMIT " DMARC_XSTR(DMARC_PRUNE_BATCH)};
    long long days = run->cfg.keep / (DAY_SECS * 1000);
    struct db_param p = DBP_I(days);
    struct str err = {0};
    for (size_t i = 0; i < 2; i++) {
        unsigned long long n;
        do {
            n = 0;
            if (db_exec(db, sqls[i], &p, 1, &n, &err) < 0) {
                admin_error(0, run->what, "pruning: %s", str_cstr(&err));
                str_free(&err);
                return -1;
            }
        } while (n >= DMARC_PRUNE_BATCH);
    }
    return 0;
}

static int parse_day(struct report_run *run, const char *s)
{
    struct tm tm;
    int y, m, d;
    char end;
    memset(&tm, 0, sizeof(tm));
    if (!s) {
        time_t t = time(NULL) - DAY_SECS;
        gmtime_r(&t, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    } else if (strlen(s) != 10 ||
               sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 ||
               s[4] != '-' || s[7] != '-') {
        return admin_error(ADMIN_EX_USAGE, run->what,
                           "--day '%s' is not YYYY-MM-DD", s);
    } else {
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
    }
    run->begin = (long long)timegm(&tm);
    gmtime_r(&(time_t){(time_t)run->begin}, &tm);
    strftime(run->day, sizeof(run->day), "%Y-%m-%d", &tm);
    if (s && strcmp(s, run->day) != 0)
        return admin_error(ADMIN_EX_USAGE, run->what,
                           "--day '%s' is not a date", s);
    run->end = run->begin + DAY_SECS - 1;
    return 0;
}

static int report_args(struct report_run *run, int argc, char **argv)
{
    const char *day = NULL;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--dry-run") == 0) {
            run->a->dry_run = 1;
            continue;
        }
        if (strcmp(o, "--json") == 0) {
            run->a->json = 1;
            continue;
        }
        if (i + 1 >= argc || (strcmp(o, "--day") && strcmp(o, "--domain") &&
                              strcmp(o, "--out")))
            return admin_error(ADMIN_EX_USAGE, run->what,
                               "usage: dmarc report [--day YYYY-MM-DD] "
                               "[--domain D] [--out DIR] [--dry-run]");
        if (!strcmp(o, "--day"))
            day = argv[++i];
        else if (!strcmp(o, "--domain"))
            run->domain = argv[++i];
        else
            run->out_dir = argv[++i];
    }
    return parse_day(run, day);
}

static int report_setup(struct report_run *run)
{
    const char *at = strrchr(run->cfg.report_from, '@');
    if (!run->cfg.report_from[0] || !at || !at[1] ||
        strlen(at + 1) > ADDR_DOMAIN_MAX ||
        strpbrk(run->cfg.report_from, " \t\r\n<>,\"") != NULL)
        return admin_error(ADMIN_EX_CONFIG, run->what,
                           "[dmarc] report_from must be set to the address "
                           "reports are sent from (e.g. "
                           "dmarc-reports@example.org)");
    snprintf(run->receiver, sizeof(run->receiver), "%s", at + 1);
    str_lower(run->receiver, strlen(run->receiver));
    run->org_name = run->cfg.org_name[0] ? run->cfg.org_name : run->receiver;
    return ADMIN_EX_OK;
}

int dmarc_report(struct admin *a, int argc, char **argv)
{
    static const char *const cols[] = {"domain", "destination", "report_id",
                                       "bytes", "result", NULL};
    struct report_run run = {.a = a, .what = "dmarc report"};
    struct cfg_section sec;
    struct domlist l = {0};
    struct str err = {0};
    struct db *db;
    int rc;

    if ((rc = report_args(&run, argc, argv)) != 0)
        return rc;
    if ((rc = dmarc_load_config(a, &run.cfg, &sec)) != ADMIN_EX_OK) {
        cfg_free(&sec, 1);
        return rc;
    }
    if ((rc = report_setup(&run)) != ADMIN_EX_OK || !(db = admin_db(a))) {
        cfg_free(&sec, 1);
        return rc ? rc : ADMIN_EX_TEMPFAIL;
    }
    {
        struct db_param p[2] = {DBP_S(run.day),
                                run.domain ? DBP_S(run.domain) : DBP_NUL};
        rc = db_query(db, "SELECT DISTINCT policy_domain FROM dmarc_results"
                      " WHERE day = ? AND (? IS NULL OR policy_domain = ?)"
                      " ORDER BY policy_domain",
                      (struct db_param[]){p[0], p[1], p[1]}, 3, dom_row, &l,
                      &err);
    }
    if (rc < 0) {
        admin_error(ADMIN_EX_TEMPFAIL, run.what, "%s", str_cstr(&err));
        str_free(&err);
        cfg_free(&sec, 1);
        return ADMIN_EX_TEMPFAIL;
    }
    run.psl = psl_latest(NULL);
    admin_out_begin(&run.out, a, cols);
    for (size_t i = 0; i < l.n; i++) {
        report_domain(&run, db, l.v[i]);
        free(l.v[i]);
    }
    admin_out_end(&run.out);
    free(l.v);
    if (!a->dry_run && prune(&run, db) < 0)
        worse(&run, ADMIN_EX_TEMPFAIL);
    psl_free(run.psl);
    cfg_free(&sec, 1);
    str_free(&err);
    return run.status;
}

static int dmarc_run_report(struct admin *a, int argc, char **argv)
{
    return dmarc_report(a, argc, argv);
}

static int dmarc_run_summary(struct admin *a, int argc, char **argv)
{
    return dmarc_summary(a, argc, argv);
}

const struct admin_verb dmarc_verbs[] = {
    {"report", dmarc_run_report},
    {"summary", dmarc_run_summary},
    {NULL, NULL}};
