/*
 * tst_core - the tests of RFC 5228 section 5 and the core tags:
 *
 *   address [COMPARATOR] [ADDRESS-PART] [MATCH-TYPE] <header-list> <key-list>
 *   header  [COMPARATOR] [MATCH-TYPE] <header-names> <key-list>
 *   exists  <header-names>
 *   size    <":over" / ":under"> <limit: number>
 *   allof <tests>, anyof <tests>, not <test>, true, false
 *
 * Tags: :is :contains :matches, :comparator, :all :localpart :domain,
 * :over :under.  header compares RFC 2047-decoded values; address
 * compares the addresses of address-list fields (address.c).  :index and
 * :last (index extension) pick one field occurrence.  allof/anyof stop at
 * the first test that decides.  size is the message's size as the host
 * gives it (sieve_message.size), changed by what editheader did to the
 * header, each line counted with a CRLF end as the message is
 * transmitted.
 *
 * address on a field known to hold no address (Subject, Date,
 * Message-ID, Received, Content-*, List-*, ...: not_address[]) is a
 * compile error; unknown fields are allowed (Pigeonhole allows only a
 * fixed list of address fields).
 *
 * Diagnostics: "invalid header name "..." (never matches)" (a warning),
 * "size needs :over or
 * :under", "header "..." holds no address: ...".
 */
#include <string.h>
#include <strings.h>

#include "sieve-int.h"

static int names_validate(struct sv_valctx *v, struct sv_node *n)
{
    if (sv_mime_validate(v, n) < 0)   /* :mime :anychild (ext_mime.c) */
        return -1;
    return sv_check_header_names(v, sv_pos(n, 0));
}

/* fields known to hold no addresses: address on them is a compile error
   (RFC 5228 5.1: "MUST restrict the address test to headers that
   contain addresses"); other and unknown fields are allowed */
static const char *const not_address[] = {
    "subject", "comments", "keywords", "date", "resent-date", "message-id",
    "resent-message-id", "in-reply-to", "references", "received",
    "mime-version", "content-type", "content-transfer-encoding",
    "content-disposition", "content-id", "content-description",
    "content-language", "precedence", "auto-submitted", "importance",
    "priority", "x-priority", "user-agent", "x-mailer", "list-id",
    "list-unsubscribe", "list-subscribe", "list-post", "list-help",
    "list-archive", "list-owner", NULL};

static int address_validate(struct sv_valctx *v, struct sv_node *n)
{
    const struct sv_arg *a = sv_pos(n, 0);

    if (names_validate(v, n) < 0)
        return -1;
    for (size_t i = 0; i < a->list.n; i++)
        for (size_t k = 0; sv_literal(&a->list.v[i]) && not_address[k]; k++)
            if (strcasecmp(a->list.v[i].s, not_address[k]) == 0) {
                sv_verror(v, a->line, "header \"%s\" holds no address: "
                          "the address test cannot use it", not_address[k]);
                return -1;
            }
    return 0;
}

/* append vals */
static void push(struct sv_run *r, struct sv_str **v, size_t *n, size_t *cap,
                 struct sv_str s)
{
    if (*n == *cap) {
        struct sv_str *nv;
        *cap = *cap ? *cap * 2 : 16;
        nv = arena_alloc(r->a, *cap * sizeof(*nv));
        if (*n)
            memcpy(nv, *v, *n * sizeof(*nv));
        *v = nv;
    }
    (*v)[(*n)++] = s;
}

static int address_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist names, keys;
    struct sv_str *vals = NULL;
    size_t nv = 0, cap = 0;

    sv_eval_list(r, &sv_pos(n, 0)->list, &names);
    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    for (size_t i = 0; i < names.n; i++) {
        struct sv_str *hv;
        size_t nh = sv_header_values(r, n, names.v[i].s, names.v[i].len, 0,
                                     &hv);
        for (size_t h = 0; h < nh; h++) {
            struct sv_address *ad;
            size_t na = sv_address_list(r->a, hv[h].s, hv[h].len, &ad);
            for (size_t k = 0; k < na; k++) {
                struct sv_str part;
                if (sv_address_part(r, n->addrpart, &ad[k], &part))
                    push(r, &vals, &nv, &cap, part);
            }
        }
    }
    return sv_match(r, n, vals, nv, &keys);
}

static int header_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist names, keys;
    struct sv_str *vals = NULL;
    size_t nv = 0, cap = 0;

    sv_eval_list(r, &sv_pos(n, 0)->list, &names);
    sv_eval_list(r, &sv_pos(n, 1)->list, &keys);
    for (size_t i = 0; i < names.n; i++) {
        struct sv_str *hv;
        size_t nh = sv_header_values(r, n, names.v[i].s, names.v[i].len, 1,
                                     &hv);
        for (size_t h = 0; h < nh; h++)
            push(r, &vals, &nv, &cap, hv[h]);
    }
    return sv_match(r, n, vals, nv, &keys);
}

static int exists_exec(struct sv_run *r, struct sv_node *n)
{
    struct sv_strlist names;

    sv_eval_list(r, &sv_pos(n, 0)->list, &names);
    for (size_t i = 0; i < names.n; i++) {
        struct sv_str *hv;
        if (sv_header_values(r, n, names.v[i].s, names.v[i].len, 0,
                             &hv) == 0)
            return 0;
    }
    return 1;
}

static int size_validate(struct sv_valctx *v, struct sv_node *n)
{
    if (sv_tag_group(n, SV_G_SIZE) == NULL) {
        sv_verror(v, n->line, "size needs :over or :under");
        return -1;
    }
    return 0;
}

/* bytes of s[0..len) with CRLF line ends */
static unsigned long long crlf_len(const char *s, size_t len)
{
    unsigned long long n = len;

    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            n++;
    return n;
}

static int size_exec(struct sv_run *r, struct sv_node *n)
{
    const struct sv_tagval *t = sv_tag_group(n, SV_G_SIZE);
    unsigned long long lim = t->param->num, size = r->msg->size;
    const struct str *nh = r->res ? r->res->new_header : NULL;

    if (nh) { /* editheader changed the header */
        unsigned long long was = crlf_len(r->msg->header,
                                          r->msg->header_len);
        unsigned long long now = crlf_len(nh->data ? nh->data : "", nh->len);
        size = size + now > was ? size + now - was : 0;
    }
    return t->def->id == 1 ? size > lim : size < lim;
}

static int allof_exec(struct sv_run *r, struct sv_node *n)
{
    for (size_t i = 0; i < n->ntests; i++) {
        int t = sv_test(r, n->tests[i]);
        if (t <= 0)
            return t;
    }
    return 1;
}

static int anyof_exec(struct sv_run *r, struct sv_node *n)
{
    for (size_t i = 0; i < n->ntests; i++) {
        int t = sv_test(r, n->tests[i]);
        if (t != 0)
            return t;
    }
    return 0;
}

static int not_exec(struct sv_run *r, struct sv_node *n)
{
    int t = sv_test(r, n->tests[0]);

    return t < 0 ? t : !t;
}

static int true_exec(struct sv_run *r, struct sv_node *n)
{
    (void)r;
    (void)n;
    return 1;
}

static int false_exec(struct sv_run *r, struct sv_node *n)
{
    (void)r;
    (void)n;
    return 0;
}

static const struct sv_cmddef cmds[] = {
    {"address", 1, "LL", 0, 0, SV_F_MATCH | SV_F_ADDR, address_validate,
     address_exec},
    {"header", 1, "LL", 0, 0, SV_F_MATCH, names_validate, header_exec},
    {"exists", 1, "L", 0, 0, 0, names_validate, exists_exec},
    {"size", 1, "", 0, 0, 0, size_validate, size_exec},
    {"allof", 1, "", -1, 0, 0, NULL, allof_exec},
    {"anyof", 1, "", -1, 0, 0, NULL, anyof_exec},
    {"not", 1, "", 1, 0, 0, NULL, not_exec},
    {"true", 1, "", 0, 0, 0, NULL, true_exec},
    {"false", 1, "", 0, 0, 0, NULL, false_exec},
};

static const struct sv_tagdef tags[] = {
    {"is", SV_G_MATCH, SV_MT_IS, 0, "*match"},
    {"contains", SV_G_MATCH, SV_MT_CONTAINS, 0, "*match"},
    {"matches", SV_G_MATCH, SV_MT_MATCHES, 0, "*match"},
    {"comparator", SV_G_CMP, 0, 'S', "*match"},
    {"all", SV_G_ADDR, SV_AP_ALL, 0, "*addr"},
    {"localpart", SV_G_ADDR, SV_AP_LOCAL, 0, "*addr"},
    {"domain", SV_G_ADDR, SV_AP_DOMAIN, 0, "*addr"},
    {"over", SV_G_SIZE, 1, 'N', " size "},
    {"under", SV_G_SIZE, 2, 'N', " size "},
};

const struct sv_ext sv_ext_core_tests = {
    "core-tests", cmds, sizeof(cmds) / sizeof(cmds[0]), tags,
    sizeof(tags) / sizeof(tags[0]), 0, 1};
