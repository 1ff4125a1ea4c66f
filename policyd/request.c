/*
 * request - one policy request: the "name=value" lines Postfix sends
 * (SMTPD_POLICY_README, every attribute of Postfix 3.x), kept by name.
 *
 * Unknown attributes are ignored, as the protocol asks; a repeated known
 * attribute keeps its last value.  Values longer than PD_VALUE_MAX are a
 * malformed request (no Postfix attribute comes near it).  The line-length
 * and attribute-count limits are enforced by the caller (proto.c).
 */
#include <string.h>

#include "policyd.h"

static const char *const attr_names[A_COUNT] = {
    "request", "protocol_state", "protocol_name", "helo_name", "queue_id",
    "sender", "recipient", "recipient_count", "client_address",
    "client_name", "reverse_client_name", "instance", "sasl_method",
    "sasl_username", "sasl_sender", "size", "ccert_subject", "ccert_issuer",
    "ccert_fingerprint", "ccert_pubkey_fingerprint", "encryption_protocol",
    "encryption_cipher", "encryption_keysize", "etrn_domain", "stress",
    "client_port", "policy_context", "server_address", "server_port",
    "compatibility_level", "mail_version"};

int preq_add(struct preq *r, const char *line, size_t len, const char **err)
{
    const char *eq = memchr(line, '=', len);
    size_t nlen, vlen;

    if (eq == NULL || eq == line) {
        *err = "line without name=value";
        return -1;
    }
    nlen = (size_t)(eq - line);
    vlen = len - nlen - 1;
    if (vlen > PD_VALUE_MAX) {
        *err = "attribute value too long";
        return -1;
    }
    if (memchr(eq + 1, '\0', vlen) != NULL) {
        *err = "NUL byte in a value";
        return -1;
    }
    r->nattrs++;
    for (int a = 0; a < A_COUNT; a++) {
        if (strlen(attr_names[a]) != nlen ||
            memcmp(attr_names[a], line, nlen) != 0)
            continue;
        /* bounded: max_attrs values of at most PD_VALUE_MAX bytes */
        r->off[a] = r->buf.len + 1;
        str_append(&r->buf, eq + 1, vlen);
        str_append_char(&r->buf, '\0');
        break;
    }
    return 0;
}

const char *preq_get(const struct preq *r, enum pd_attr a)
{
    return r->off[a] ? r->buf.data + r->off[a] - 1 : "";
}

void preq_reset(struct preq *r)
{
    str_reset(&r->buf);
    memset(r->off, 0, sizeof(r->off));
    r->nattrs = 0;
}

void preq_free(struct preq *r)
{
    str_free(&r->buf);
    memset(r->off, 0, sizeof(r->off));
    r->nattrs = 0;
}
