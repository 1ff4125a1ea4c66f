/*
 * dmarc_summary.c - postern dmarc summary: what the aggregate reports
 * other receivers sent about our domains say (RFC 7489 7.2): which
 * sources send mail as us, how much, and whether it passes DMARC: what an
 * admin reads before publishing p=reject (docs/dmarc.md).
 *
 *   postern dmarc summary [--maildir DIR | FILE...] [--domain D]
 *                         [--since YYYY-MM-DD] [--json]
 *
 * Input: the messages of a Maildir (DIR/new and DIR/cur, the mailbox of
 * our rua address), or files.  A file is a MIME message (RFC 2045/2046:
 * multipart nested up to SUM_MIME_DEPTH, base64 or identity encodings)
 * whose report parts are found by type or file name (.xml, .xml.gz / .gz,
 * .zip), or a bare report file (XML, gzip or zip, told by its first
 * bytes).  A gzip member is inflated with zlib, a zip archive read with
 * libzip (each member whose name ends in .xml), the XML parsed with
 * libxml2 without network access, entity substitution or DTD loading; a
 * document with a DTD is refused.  Reports are counted once per (reporter,
 * report_id, domain).
 *
 * Output: one row per (policy domain, source IP, reporter): messages,
 * DMARC pass/fail (pass = DKIM or SPF aligned pass, as the reporter
 * evaluated it), aligned DKIM and SPF pass/fail, and dispositions; sorted
 * by domain, then by messages (most first).  --domain keeps reports about
 * that domain, --since reports whose date range ends on or after that day
 * (UTC).
 *
 * Limits (named): SUM_FILE_MAX bytes per input file, SUM_XML_MAX bytes per
 * report after decompression (a zip or gzip bomb stops there),
 * SUM_RECORDS_MAX records per report, SUM_PARTS_MAX MIME parts per
 * message, SUM_ZIP_MEMBERS_MAX members per zip, SUM_FILES_MAX files per
 * Maildir, SUM_SOURCES_MAX output rows.
 * Diagnostics: one line per bad file or report on stderr ("postern: dmarc
 * summary: FILE: reason"); the other files are still summarized.  Exit 0,
 * 65 when at least one input could not be read (the summary is printed
 * anyway), 64 bad options, 66 no such Maildir.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <zip.h>
#include <zlib.h>

#include "dmarc.h"
#include "file.h"
#include "mem.h"
#include "msghdr.h"
#include "strmap.h"
#include "util.h"

#define SUM_FILE_MAX (32u * 1024 * 1024)
#define SUM_XML_MAX (16u * 1024 * 1024)
#define SUM_RECORDS_MAX 100000
#define SUM_PARTS_MAX 64
#define SUM_MIME_DEPTH 4
#define SUM_ZIP_MEMBERS_MAX 16
#define SUM_FILES_MAX 100000
#define SUM_SOURCES_MAX 200000
#define SUM_FIELD_MAX 255

enum { N_MSGS, N_DMARC_PASS, N_DMARC_FAIL, N_DKIM_PASS, N_DKIM_FAIL,
       N_SPF_PASS, N_SPF_FAIL, N_NONE, N_QUAR, N_REJECT, N_COUNTERS };

struct source {
    char *key;               /* domain \t ip \t reporter (the map's key) */
    char *domain, *ip, *reporter;
    unsigned long long n[N_COUNTERS];
};

struct summary {
    struct admin *a;
    const char *what;
    const char *domain;      /* --domain */
    long long since;         /* --since, epoch seconds; -1 none */
    struct strmap index;     /* key -> struct source */
    struct source **src;
    size_t nsrc;
    struct strmap seen;      /* reporter \n report_id \n domain */
    char **seen_keys;
    size_t nseen;
    unsigned reports, duplicates, bad;
    const char *file;        /* the input being read, for messages */
    int file_reports;        /* reports found in it */
    int file_failed;         /* an error was printed for it */
};

static void bad(struct summary *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bad(struct summary *s, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "postern: %s: %s: ", s->what, s->file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (!s->file_failed)
        s->bad++;
    s->file_failed = 1;
}

/* --- XML ---------------------------------------------------------------- */

/* printable - a name from the input (a MIME or zip file name), made safe
   for a terminal and a log: control characters become '?' */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_elem(c, name))
            return c;
    return NULL;
}

/* text - the element's own text (its text and CDATA children, never an
   entity's replacement), trimmed, cut at SUM_FIELD_MAX bytes, control
   characters dropped; "" when missing */
static void text(const xmlNode *n, char *out)
{
    size_t k = 0;
    out[0] = '\0';
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) ||
            !c->content)
            continue;
        for (const unsigned char *p = c->content; *p && k < SUM_FIELD_MAX; p++)
            if (*p >= 0x20 && *p != 0x7f)
                out[k++] = (char)*p;
            else if (k > 0 && isspace(*p))
                out[k++] = ' '; /* line breaks in the text: a blank */
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    {
        size_t lead = strspn(out, " ");
        memmove(out, out + lead, k - lead + 1);
    }
}

static void text_of(const xmlNode *n, const char *path, char *out)
{
    char seg[64];
    const char *p = path;
    while (n && *p) {
        size_t l = strcspn(p, "/");
        snprintf(seg, sizeof(seg), "%.*s", (int)l, p);
        n = child(n, seg);
        p += l + (p[l] == '/');
    }
    text(n, out);
}

static struct source *source_get(struct summary *s, const char *dom,
                                 const char *ip, const char *rep)
{
    struct str k = {0};
    struct source *src;
    str_appendf(&k, "%s\t%s\t%s", dom, ip, rep);
    src = strmap_get(&s->index, str_cstr(&k));
    if (!src && s->nsrc < SUM_SOURCES_MAX) {
        src = xcalloc(1, sizeof(*src));
        src->key = xstrdup(str_cstr(&k));
        src->domain = xstrdup(dom);
        src->ip = xstrdup(ip);
        src->reporter = xstrdup(rep);
        strmap_put(&s->index, src->key, src);
        s->src = xreallocarray(s->src, s->nsrc + 1, sizeof(*s->src));
        s->src[s->nsrc++] = src;
    }
    str_free(&k);
    return src;
}

/* report_seen - 1 if this report was counted already (else remember it) */
static int report_seen(struct summary *s, const char *org, const char *id,
                       const char *dom)
{
    struct str k = {0};
    int seen;
    str_appendf(&k, "%s\n%s\n%s", org, id, dom);
    seen = strmap_get(&s->seen, str_cstr(&k)) != NULL;
    if (!seen) {
        char *key = xstrdup(str_cstr(&k));
        s->seen_keys = xreallocarray(s->seen_keys, s->nseen + 1,
                                     sizeof(*s->seen_keys));
        s->seen_keys[s->nseen++] = key;
        strmap_put(&s->seen, key, key);
    }
    str_free(&k);
    return seen;
}

static long long parse_count(const char *v)
{
    char *end;
    long long n;
    if (!isdigit((unsigned char)v[0]))
        return -1;
    n = strtoll(v, &end, 10);
    return *end || n < 0 || n > 1000000000000LL ? -1 : n;
}

/* add_records - the records of one report; 0, or -1 (message printed) */
static int add_records(struct summary *s, const xmlNode *root,
                       const char *dom, const char *org, const char *name)
{
    char ip[SUM_FIELD_MAX + 1], cnt[SUM_FIELD_MAX + 1];
    char disp[SUM_FIELD_MAX + 1], dkim[SUM_FIELD_MAX + 1];
    char spf[SUM_FIELD_MAX + 1];
    unsigned nrec = 0;
    for (const xmlNode *r = root->children; r; r = r->next)
        if (is_elem(r, "record") && ++nrec > SUM_RECORDS_MAX) {
            bad(s, "%s: more than %d records: report ignored", name,
                SUM_RECORDS_MAX);
            return -1;
        }
    for (const xmlNode *r = root->children; r; r = r->next) {
        struct source *src;
        long long n;
        if (!is_elem(r, "record"))
            continue;
        text_of(r, "row/source_ip", ip);
        text_of(r, "row/count", cnt);
        text_of(r, "row/policy_evaluated/disposition", disp);
        text_of(r, "row/policy_evaluated/dkim", dkim);
        text_of(r, "row/policy_evaluated/spf", spf);
        if (!ip[0] || (n = parse_count(cnt)) < 0) {
            bad(s, "%s: a record without source_ip or count: skipped", name);
            continue;
        }
        if (!(src = source_get(s, dom, ip, org)))
            continue;
        src->n[N_MSGS] += (unsigned long long)n;
        src->n[!strcmp(dkim, "pass") || !strcmp(spf, "pass") ? N_DMARC_PASS
                                                              : N_DMARC_FAIL] += (unsigned long long)n;
        src->n[!strcmp(dkim, "pass") ? N_DKIM_PASS : N_DKIM_FAIL] += (unsigned long long)n;
        src->n[!strcmp(spf, "pass") ? N_SPF_PASS : N_SPF_FAIL] += (unsigned long long)n;
        if (!strcmp(disp, "reject"))
            src->n[N_REJECT] += (unsigned long long)n;
        else if (!strcmp(disp, "quarantine"))
            src->n[N_QUAR] += (unsigned long long)n;
        else
            src->n[N_NONE] += (unsigned long long)n;
    }
    return 0;
}

/* read_xml - one report document */
static void read_xml(struct summary *s, const char *data, size_t len,
                     const char *name)
{
    char org[SUM_FIELD_MAX + 1], id[SUM_FIELD_MAX + 1];
    char dom[SUM_FIELD_MAX + 1], end[SUM_FIELD_MAX + 1];
    const xmlNode *root;
    xmlDoc *doc;

    s->file_reports++;
    if (len > SUM_XML_MAX || len > (size_t)0x7fffffff) {
        bad(s, "%s: report larger than %u bytes", name, SUM_XML_MAX);
        return;
    }
    /* refused before libxml2 sees it: no entity declarations at all */
    if (memmem(data, len, "<!DOCTYPE", 9) != NULL) {
        bad(s, "%s: a document type declaration is not allowed in a report",
            name);
        return;
    }
    /* no XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR,
       no network */
    doc = xmlReadMemory(data, (int)len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    if (!doc) {
        const xmlError *e = xmlGetLastError();
        const char *m = e && e->message ? e->message : "";
        int ml = (int)strcspn(m, "\n");
        bad(s, "%s: not well-formed XML%s%.*s", name, ml ? ": " : "", ml, m);
        return;
    }
    root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset) {
        bad(s, "%s: a document type declaration is not allowed in a report",
            name);
    } else if (!root || !is_elem(root, "feedback")) {
        bad(s, "%s: not a DMARC aggregate report (no <feedback>)", name);
    } else {
        text_of(root, "report_metadata/org_name", org);
        text_of(root, "report_metadata/report_id", id);
        text_of(root, "report_metadata/date_range/end", end);
        text_of(root, "policy_published/domain", dom);
        str_lower(dom, strlen(dom));
        if (!dom[0] || !org[0] || !id[0])
            bad(s, "%s: report_metadata or policy_published incomplete",
                name);
        else if (s->domain && strcasecmp(s->domain, dom) != 0)
            ; /* another domain */
        else if (s->since >= 0 && parse_count(end) >= 0 &&
                 parse_count(end) < s->since)
            ; /* too old */
        else if (report_seen(s, org, id, dom))
            s->duplicates++;
        else if (add_records(s, root, dom, org, name) == 0)
            s->reports++;
    }
    xmlFreeDoc(doc);
}

/* --- decompression ------------------------------------------------------ */

static int gunzip(struct summary *s, const char *data, size_t len,
                  const char *name, struct str *out)
{
    z_stream z;
    unsigned char buf[65536];
    int rc;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        return bad(s, "%s: zlib init failed", name), -1;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)(len > 0xffffffffu ? 0xffffffffu : len);
    do {
        z.next_out = buf;
        z.avail_out = sizeof(buf);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            bad(s, "%s: broken gzip data (%s)", name,
                z.msg ? z.msg : "truncated");
            inflateEnd(&z);
            return -1;
        }
        if (out->len + (sizeof(buf) - z.avail_out) > SUM_XML_MAX) {
            bad(s, "%s: more than %u bytes after decompression: ignored",
                name, SUM_XML_MAX);
            inflateEnd(&z);
            return -1;
        }
        str_append(out, buf, sizeof(buf) - z.avail_out);
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            bad(s, "%s: truncated gzip data", name);
            inflateEnd(&z);
            return -1;
        }
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    return 0;
}

static void read_report(struct summary *s, const char *data, size_t len,
                        const char *name);

static void read_zip(struct summary *s, const char *data, size_t len,
                     const char *name)
{
    zip_error_t ze;
    zip_source_t *src;
    zip_t *z;
    zip_int64_t n;
    int found = 0;

    zip_error_init(&ze);
    if (!(src = zip_source_buffer_create(data, len, 0, &ze)) ||
        !(z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze))) {
        bad(s, "%s: broken zip archive (%s)", name, zip_error_strerror(&ze));
        if (src)
            zip_source_free(src);
        zip_error_fini(&ze);
        return;
    }
    n = zip_get_num_entries(z, 0);
    if (n > SUM_ZIP_MEMBERS_MAX) {
        bad(s, "%s: more than %d members in the zip archive", name,
            SUM_ZIP_MEMBERS_MAX);
        n = 0;
    }
    for (zip_int64_t i = 0; i < n; i++) {
        const char *m = zip_get_name(z, (zip_uint64_t)i, 0);
        struct str x = {0};
        char buf[65536], mname[512];
        zip_file_t *f;
        zip_int64_t r = 0;
        size_t ml = m ? strlen(m) : 0;
        if (!m || ml < 4 || strcasecmp(m + ml - 4, ".xml") != 0)
            continue;
        found = 1;
        snprintf(mname, sizeof(mname), "%s:%s", name, m);
        printable(mname);
        if (!(f = zip_fopen_index(z, (zip_uint64_t)i, 0))) {
            bad(s, "%s: cannot read (%s)", mname, zip_strerror(z));
            continue;
        }
        while ((r = zip_fread(f, buf, sizeof(buf))) > 0) {
            if (x.len + (size_t)r > SUM_XML_MAX)
                break;
            str_append(&x, buf, (size_t)r);
        }
        if (r > 0) {
            bad(s, "%s: more than %u bytes after decompression: ignored",
                mname, SUM_XML_MAX);
            s->file_reports++;
        } else if (r < 0) {
            bad(s, "%s: broken zip member (%s)", mname,
                zip_error_strerror(zip_file_get_error(f)));
            s->file_reports++;
        } else {
            read_xml(s, x.data ? x.data : "", x.len, mname);
        }
        zip_fclose(f);
        str_free(&x);
    }
    if (!found && n <= SUM_ZIP_MEMBERS_MAX)
        bad(s, "%s: no .xml member in the zip archive", name);
    zip_discard(z);
    zip_error_fini(&ze);
}

/* read_report - a report file: gzip, zip or XML by its first bytes */
static void read_report(struct summary *s, const char *data, size_t len,
                        const char *name)
{
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 2 && u[0] == 0x1f && u[1] == 0x8b) {
        struct str x = {0};
        if (gunzip(s, data, len, name, &x) == 0)
            read_xml(s, x.data ? x.data : "", x.len, name);
        else
            s->file_reports++;
        str_free(&x);
    } else if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0) {
        read_zip(s, data, len, name);
    } else {
        read_xml(s, data, len, name);
    }
}

/* --- MIME --------------------------------------------------------------- */

struct part_hdr {
    char type[128];     /* lower-case type/subtype */
    char boundary[128];
    char filename[256];
    int base64;
};

/* param - the value of parameter name in a header value v */
static void param(const char *v, const char *name, char *out, size_t outsize)
{
    size_t nl = strlen(name), k = 0;
    out[0] = '\0';
    for (const char *p = v; (p = strchr(p, ';')) != NULL;) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nl) != 0 || p[nl] != '=')
            continue;
        p += nl + 1;
        if (*p == '"') {
            for (p++; *p && *p != '"' && k + 1 < outsize; p++) {
                if (*p == '\\' && p[1])
                    p++;
                out[k++] = *p;
            }
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t' &&
                   k + 1 < outsize)
                out[k++] = *p++;
        }
        out[k] = '\0';
        return;
    }
}

static void part_headers(const char *h, size_t hlen, struct part_hdr *ph)
{
    struct msghdr_field f;
    size_t pos = 0;
    memset(ph, 0, sizeof(*ph));
    snprintf(ph->type, sizeof(ph->type), "text/plain");
    while (msghdr_next(h, hlen, &pos, &f)) {
        char *v;
        if (!msghdr_name_is(&f, "content-type") &&
            !msghdr_name_is(&f, "content-transfer-encoding") &&
            !msghdr_name_is(&f, "content-disposition"))
            continue;
        v = xmalloc(f.vlen + 1);
        msghdr_unfold(f.value, f.vlen, v);
        if (msghdr_name_is(&f, "content-type")) {
            size_t l = strcspn(v, "; \t");
            snprintf(ph->type, sizeof(ph->type), "%.*s", (int)l, v);
            str_lower(ph->type, strlen(ph->type));
            param(v, "boundary", ph->boundary, sizeof(ph->boundary));
            if (!ph->filename[0])
                param(v, "name", ph->filename, sizeof(ph->filename));
        } else if (msghdr_name_is(&f, "content-transfer-encoding")) {
            ph->base64 = strncasecmp(v, "base64", 6) == 0;
        } else {
            param(v, "filename", ph->filename, sizeof(ph->filename));
        }
        free(v);
    }
    printable(ph->filename);
}

/* split - header section and body of an entity */
static void split(const char *d, size_t len, size_t *hlen, const char **body,
                  size_t *blen)
{
    for (size_t i = 0; i < len; i++) {
        if (d[i] != '\n')
            continue;
        if (i + 1 < len && d[i + 1] == '\n') {
            *hlen = i + 1, *body = d + i + 2, *blen = len - i - 2;
            return;
        }
        if (i + 2 < len && d[i + 1] == '\r' && d[i + 2] == '\n') {
            *hlen = i + 1, *body = d + i + 3, *blen = len - i - 3;
            return;
        }
    }
    *hlen = len, *body = d + len, *blen = 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static int is_report_part(const struct part_hdr *ph)
{
    static const char *const types[] = {"application/gzip",
        "application/x-gzip", "application/zip", "application/x-zip",
        "application/x-zip-compressed", "text/xml", "application/xml",
        NULL};
    return admin_index(ph->type, types) >= 0 || ends_with(ph->filename, ".xml")
           || ends_with(ph->filename, ".gz") || ends_with(ph->filename, ".zip");
}

static int base64_decode(const char *in, size_t len, struct str *out)
{
    struct str clean = {0};
    unsigned char *buf;
    int n;
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (isalnum(c) || c == '+' || c == '/' || c == '=')
            str_append_char(&clean, (char)c);
        else if (!isspace(c))
            return str_free(&clean), -1;
    }
    if (clean.len % 4 != 0 || clean.len > 0x7ffffff0u)
        return str_free(&clean), -1;
    while (pad < 2 && pad < clean.len && clean.data[clean.len - 1 - pad] == '=')
        pad++;
    buf = xmalloc(clean.len / 4 * 3 + 1);
    n = clean.len ? EVP_DecodeBlock(buf, (unsigned char *)clean.data,
                                    (int)clean.len) : 0;
    if (n >= 0)
        str_append(out, buf, (size_t)n - (n >= (int)pad ? pad : 0));
    free(buf);
    str_free(&clean);
    return n < 0 ? -1 : 0;
}

static void read_entity(struct summary *s, const char *d, size_t len,
                        int depth, unsigned *parts);

static void read_multipart(struct summary *s, const char *body, size_t blen,
                           const char *boundary, int depth, unsigned *parts)
{
    char delim[140];
    size_t dl = (size_t)snprintf(delim, sizeof(delim), "--%s", boundary);
    const char *p = body, *end = body + blen, *start = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        if (ll >= dl && memcmp(p, delim, dl) == 0) {
            int last = ll >= dl + 2 && p[dl] == '-' && p[dl + 1] == '-';
            if (start) {
                const char *pe = p;
                if (pe > start && pe[-1] == '\n')
                    pe--;
                if (pe > start && pe[-1] == '\r')
                    pe--;
                if (++*parts > SUM_PARTS_MAX) {
                    bad(s, "more than %d MIME parts: the rest is ignored",
                        SUM_PARTS_MAX);
                    return;
                }
                read_entity(s, start, (size_t)(pe - start), depth + 1, parts);
            }
            if (last)
                return;
            start = nl ? nl + 1 : end;
        }
        p = nl ? nl + 1 : end;
    }
    if (start)
        bad(s, "MIME multipart without its closing boundary");
}

static void read_entity(struct summary *s, const char *d, size_t len,
                        int depth, unsigned *parts)
{
    struct part_hdr ph;
    const char *body;
    size_t hlen, blen;

    split(d, len, &hlen, &body, &blen);
    part_headers(d, hlen, &ph);
    if (strncmp(ph.type, "multipart/", 10) == 0) {
        if (depth >= SUM_MIME_DEPTH)
            bad(s, "MIME nested deeper than %d levels", SUM_MIME_DEPTH);
        else if (!ph.boundary[0])
            bad(s, "multipart without a boundary");
        else
            read_multipart(s, body, blen, ph.boundary, depth, parts);
    } else if (is_report_part(&ph)) {
        const char *name = ph.filename[0] ? ph.filename : ph.type;
        if (ph.base64) {
            struct str raw = {0};
            if (base64_decode(body, blen, &raw) < 0) {
                bad(s, "%s: broken base64", name);
                s->file_reports++;
            } else {
                read_report(s, raw.data ? raw.data : "", raw.len, name);
            }
            str_free(&raw);
        } else {
            read_report(s, body, blen, name);
        }
    }
}

/* read_file - one input file: a message or a bare report */
static void read_file(struct summary *s, const char *path)
{
    struct str buf = {0}, err = {0};
    const unsigned char *u;
    size_t lead;

    s->file = path;
    s->file_reports = 0;
    s->file_failed = 0;
    if (file_read("report", path, SUM_FILE_MAX, 0, &buf, &err) < 0) {
        bad(s, "%s", str_cstr(&err));
        str_free(&err);
        return;
    }
    u = (const unsigned char *)(buf.data ? buf.data : "");
    lead = strspn((const char *)u, " \t\r\n");
    if ((buf.len >= 2 && u[0] == 0x1f && u[1] == 0x8b) ||
        (buf.len >= 4 && memcmp(u, "PK\3\4", 4) == 0) ||
        (lead < buf.len && u[lead] == '<')) {
        read_report(s, buf.data, buf.len, "report");
    } else {
        unsigned parts = 0;
        read_entity(s, buf.data ? buf.data : "", buf.len, 0, &parts);
        if (s->file_reports == 0 && !s->file_failed)
            bad(s, "no DMARC report (.xml, .xml.gz, .zip) in the message");
    }
    str_free(&buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_maildir(struct summary *s, const char *dir)
{
    static const char *const subs[] = {"new", "cur"};
    char **names = NULL;
    size_t n = 0;
    int any = 0;
    for (size_t i = 0; i < 2; i++) {
        struct str d = {0};
        DIR *dp;
        struct dirent *e;
        str_appendf(&d, "%s/%s", dir, subs[i]);
        if (!(dp = opendir(str_cstr(&d)))) {
            str_free(&d);
            continue;
        }
        any = 1;
        while ((e = readdir(dp)) != NULL && n < SUM_FILES_MAX) {
            struct str p = {0};
            if (e->d_name[0] == '.')
                continue;
            str_appendf(&p, "%s/%s", str_cstr(&d), e->d_name);
            names = xreallocarray(names, n + 1, sizeof(*names));
            names[n++] = xstrdup(str_cstr(&p));
            str_free(&p);
        }
        closedir(dp);
        str_free(&d);
    }
    if (!any)
        return admin_error(ADMIN_EX_NOINPUT, s->what,
                           "%s is not a Maildir (no new/ or cur/)", dir);
    if (n >= SUM_FILES_MAX)
        admin_error(0, s->what, "%s: only the first %d messages are read",
                    dir, SUM_FILES_MAX);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        read_file(s, names[i]);
        free(names[i]);
    }
    free(names);
    return 0;
}

static int cmp_source(const void *a, const void *b)
{
    const struct source *x = *(struct source *const *)a;
    const struct source *y = *(struct source *const *)b;
    int c = strcmp(x->domain, y->domain);
    if (c)
        return c;
    if (x->n[N_MSGS] != y->n[N_MSGS])
        return x->n[N_MSGS] > y->n[N_MSGS] ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void print_summary(struct summary *s)
{
    static const char *const cols[] = {"domain", "source_ip", "reporter",
        "messages", "dmarc_pass", "dmarc_fail", "dkim_pass", "dkim_fail",
        "spf_pass", "spf_fail", "none", "quarantine", "reject", NULL};
    struct admin_out o;
    char num[N_COUNTERS][24];
    char *vals[3 + N_COUNTERS];
    if (s->nsrc > 0) /* no rows: s->src may be NULL */
        qsort(s->src, s->nsrc, sizeof(*s->src), cmp_source);
    admin_out_begin(&o, s->a, cols);
    for (size_t i = 0; i < s->nsrc; i++) {
        struct source *src = s->src[i];
        vals[0] = src->domain;
        vals[1] = src->ip;
        vals[2] = src->reporter;
        for (int k = 0; k < N_COUNTERS; k++) {
            snprintf(num[k], sizeof(num[k]), "%llu", src->n[k]);
            vals[3 + k] = num[k];
        }
        admin_out_row(&o, vals);
    }
    admin_out_end(&o);
}

static int summary_args(struct summary *s, int argc, char **argv,
                        const char **maildir, int *first_file)
{
    *first_file = argc;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--json")) {
            s->a->json = 1;
        } else if (!strcmp(o, "--maildir") && i + 1 < argc) {
            *maildir = argv[++i];
        } else if (!strcmp(o, "--domain") && i + 1 < argc) {
            s->domain = argv[++i];
        } else if (!strcmp(o, "--since") && i + 1 < argc) {
            struct tm tm;
            int y, m, d;
            char c;
            const char *v = argv[++i];
            memset(&tm, 0, sizeof(tm));
            if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &c) != 3)
                return admin_error(ADMIN_EX_USAGE, s->what,
                                   "--since '%s' is not YYYY-MM-DD", v);
            tm.tm_year = y - 1900;
            tm.tm_mon = m - 1;
            tm.tm_mday = d;
            s->since = (long long)timegm(&tm);
        } else if (!strcmp(o, "--")) {
            *first_file = i + 1;
            break;
        } else if (o[0] == '-' && o[1]) {
            return admin_error(ADMIN_EX_USAGE, s->what,
                               "usage: dmarc summary [--maildir DIR | "
                               "FILE...] [--domain D] [--since YYYY-MM-DD] "
                               "[--json]");
        } else {
            *first_file = i;
            for (int j = i; j < argc; j++)
                if (argv[j][0] == '-' && argv[j][1])
                    return admin_error(ADMIN_EX_USAGE, s->what,
                                       "options go before the files");
            break;
        }
    }
    if ((*maildir != NULL) == (*first_file < argc))
        return admin_error(ADMIN_EX_USAGE, s->what,
                           "give either --maildir DIR or report files");
    return 0;
}

int dmarc_summary(struct admin *a, int argc, char **argv)
{
    struct summary s = {.a = a, .what = "dmarc summary", .since = -1};
    const char *maildir = NULL;
    int first, rc;

    if ((rc = summary_args(&s, argc, argv, &maildir, &first)) != 0)
        return rc;
    xmlInitParser();
    strmap_init(&s.index, 64);
    strmap_init(&s.seen, 64);
    if (maildir)
        rc = read_maildir(&s, maildir);
    else
        for (int i = first; i < argc; i++)
            read_file(&s, argv[i]);
    if (rc == 0) {
        print_summary(&s);
        fprintf(stderr, "postern: %s: %u reports summarized, %u duplicates "
                        "ignored, %u inputs with errors\n",
                s.what, s.reports, s.duplicates, s.bad);
    }
    for (size_t i = 0; i < s.nsrc; i++) {
        free(s.src[i]->key);
        free(s.src[i]->domain);
        free(s.src[i]->ip);
        free(s.src[i]->reporter);
        free(s.src[i]);
    }
    free(s.src);
    for (size_t i = 0; i < s.nseen; i++)
        free(s.seen_keys[i]);
    free(s.seen_keys);
    strmap_free(&s.index);
    strmap_free(&s.seen);
    xmlCleanupParser();
    if (rc)
        return rc;
    return s.bad ? ADMIN_EX_DATAERR : ADMIN_EX_OK;
}
