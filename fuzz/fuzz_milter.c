/*
 * fuzz_milter - postern-milter's header and body handling, as
 * milter/callbacks.c's mlfi_header/mlfi_eoh/mlfi_body drive it: every
 * header field goes to the Authentication-Results reader (ar_authserv_id,
 * ar_is_ours: which A-R headers claim our authserv-id and are removed),
 * to DKIM signing's header buffer (sign_header: the From domain, the
 * max_headers/max_header_bytes bounds) and to DKIM verification
 * (verify_header, libopendkim's header parser); then verify_eoh and the
 * body in chunks to verify_body.  verify_eom (key lookups in DNS) and the
 * signing itself (keys from the database) are not run.
 * Input: byte 0 = flags (leading space kept, limits), then a message:
 * header fields "Name: value" with folded lines, an empty line, the body.
 * Checks: ar_authserv_id gives a NUL-terminated id that fits; a value
 * whose id it reads as ours (ASCII case and one trailing root dot aside)
 * is what ar_is_ours says, and the other way.
 */
#include <stdlib.h>
#include <strings.h>

#include "fuzz.h"
#include "milter.h"
#include "mem.h"

static struct milter_config cfg;
static struct mctx mctx = {&cfg, NULL, NULL, NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct str err = STR_INIT;

    (void)argc;
    (void)argv;
    if (verify_global_init(4, &err) < 0 || sign_global_init(&err) < 0)
        abort();
    return 0;
}

static void header(struct msign *s, struct mverify *v, int leadspc,
                   const char *name, const char *value)
{
    const char *bare = leadspc && value[0] == ' ' ? value + 1 : value;
    char id[256];

    if (!strcasecmp(name, "Authentication-Results")) {
        int ours = ar_is_ours(value, "mx.example.org");
        if (ar_authserv_id(value, id, sizeof(id)) == 0) {
            if (strnlen(id, sizeof(id)) >= sizeof(id))
                abort();
            size_t n = strlen(id);
            if (n > 0 && id[n - 1] == '.')
                id[n - 1] = '\0'; /* one trailing root dot is ignored */
            if (ours != !strcasecmp(id, "mx.example.org"))
                abort(); /* the two readings disagree */
        }
    }
    verify_header(&mctx, v, name, value, leadspc);
    if (s)
        (void)sign_header(&mctx, s, name, bare);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {(const char *)data, size};
    unsigned flags = fuzz_byte(&in);
    int leadspc = flags & 1;
    const char *p = in.p, *e = in.p + in.left;
    struct msign *s = sign_begin();
    struct mverify *v = verify_begin();

    cfg.max_headers = flags & 2 ? 3 : 1000;
    cfg.max_header_bytes = flags & 4 ? 200 : 1 << 20;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p)), *end, *colon;
        char *name, *value;
        if (nl == p || (nl == p + 1 && *p == '\r')) {
            p = nl + 1; /* end of the header */
            break;
        }
        end = nl ? nl : e;
        /* folded lines belong to the field */
        while (end < e && end + 1 < e && (end[1] == ' ' || end[1] == '\t')) {
            const char *n2 = memchr(end + 1, '\n', (size_t)(e - end - 1));
            end = n2 ? n2 : e;
        }
        colon = memchr(p, ':', (size_t)(end - p));
        if (colon == NULL || colon == p) {
            p = end < e ? end + 1 : e;
            continue; /* Postfix passes no such line as a header */
        }
        name = xstrndup(p, (size_t)(colon - p));
        colon++;
        if (!leadspc && colon < end && *colon == ' ')
            colon++;
        value = xstrndup(colon, (size_t)(end - colon));
        header(s, v, leadspc, name, value);
        free(name);
        free(value);
        p = end < e ? end + 1 : e;
    }
    verify_eoh(v);
    while (p < e) {
        size_t n = (size_t)(e - p) < 100 ? (size_t)(e - p) : 100;
        verify_body(v, (const unsigned char *)p, n);
        p += n;
    }
    verify_free(v);
    sign_free(s);
    return 0;
}
