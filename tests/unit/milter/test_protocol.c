/*
 * test_protocol - the milter protocol steps postern-milter negotiates
 * (milter/callbacks.c milter_protocol): header values with their leading
 * space, and nothing else.  Every event is sent and every step answered:
 * SMFIP_NODATA/NOUNKNOWN and SMFIP_NR_* for connect, HELO, headers and
 * body made one of Postfix's small writes wait for a delayed ACK, 40 ms per
 * message (tests/integration/e2e-latency.sh); and nothing the MTA did not
 * offer.
 */
#include <libmilter/mfapi.h>

#include "milter.h"
#include "unit.h"

struct mctx *milter_ctx; /* main.c's, for callbacks.c */

int main(void)
{
    const unsigned long all = 0x001FFFFFUL; /* what Postfix 3 offers */
    unsigned long p = milter_protocol(all);

    CHECK(p & SMFIP_HDR_LEADSPC, "header values keep their leading space");
    CHECK(p == SMFIP_HDR_LEADSPC, "nothing else is asked for");
    CHECK(!(p & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR |
                 SMFIP_NR_BODY | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
                 SMFIP_NR_EOH)),
          "every step is answered (keeps the ACKs flowing)");
    CHECK(!(p & (SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NOCONNECT |
                 SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOHDRS |
                 SMFIP_NOEOH | SMFIP_NOBODY)),
          "every event is sent");

    /* an MTA that offers less gets asked for less */
    CHECK(milter_protocol(0) == 0, "nothing offered, nothing asked");
    CHECK(milter_protocol(SMFIP_NR_HDR | SMFIP_NODATA) == 0,
          "an older MTA: none of the skipped steps");
    return UNIT_END();
}
