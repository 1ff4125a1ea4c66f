/*
 * fuzz_policyd - postern-policyd's policy requests (SMTPD_POLICY_README):
 * the byte stream a client sends, cut into lines as policyd/proto.c does
 * (LF, an optional CR before it, [policyd] max_line and max_attrs at
 * their defaults, an empty line ends a request), each line through
 * preq_add (policyd/request.c); at the end of a request the attributes
 * the checks read go through what decide.c does with them: pd_stage_of,
 * addr_parse and addr_canonical of sender and recipient, cidr_mask of the
 * client address.  proto.c's connection code is not linked (it needs a
 * server and the worker pool); the line splitting is repeated here.
 * Checks: preq_get always gives a NUL-terminated value of at most
 * PD_VALUE_MAX bytes.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "policyd.h"

#define MAX_LINE 2048  /* [policyd] max_line default */
#define MAX_ATTRS 100  /* [policyd] max_attrs default */

static void request(const struct preq *r)
{
    static const int want[] = {A_SENDER, A_RECIPIENT, A_SASL_USERNAME,
                               A_SASL_SENDER};
    struct addr a;
    const char *err;
    char net[CIDR_TEXT_MAX];

    for (int i = 0; i < A_COUNT; i++)
        if (strnlen(preq_get(r, (enum pd_attr)i), PD_VALUE_MAX + 1) >
            PD_VALUE_MAX)
            abort();
    (void)pd_stage_of(preq_get(r, A_PROTOCOL_STATE));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *v = preq_get(r, (enum pd_attr)want[i]);
        (void)addr_parse(v, strlen(v), "+", ADDR_LOWER_LOCAL | ADDR_ALLOW_EMPTY,
                         &a, &err);
        (void)addr_canonical(v, strlen(v), "+", ADDR_ALLOW_EMPTY, NULL, NULL,
                             &a, &err);
    }
    (void)cidr_mask(preq_get(r, A_CLIENT_ADDRESS), 24, 64, net, sizeof(net));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data, *err;
    struct preq r;
    size_t off = 0;

    memset(&r, 0, sizeof(r));
    while (off < size) {
        const char *p = buf + off, *nl = memchr(p, '\n', size - off);
        size_t len;
        if (nl == NULL)
            break;
        len = (size_t)(nl - p);
        off += len + 1;
        if (len > MAX_LINE)
            break;
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len == 0) {
            if (r.nattrs == 0)
                break;
            request(&r);
            preq_reset(&r);
            continue;
        }
        if (preq_add(&r, p, len, &err) < 0 || r.nattrs > MAX_ATTRS)
            break;
    }
    preq_free(&r);
    return 0;
}
