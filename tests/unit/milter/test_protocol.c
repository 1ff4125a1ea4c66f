/*
 * test_protocol - the milter protocol steps postern-milter negotiates
 * (milter/callbacks.c milter_protocol): header values with their leading
 * space; no DATA and no unknown-command events (it has no callback for
 * them); no reply awaited after connect, HELO, a header or a body chunk,
 * the steps that always continue; the replies to MAIL, RCPT, end of
 * headers and end of message (which can refuse or defer) always awaited;
 * and nothing the MTA did not offer.
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
    CHECK(p & SMFIP_NODATA, "no DATA event (no callback)");
    CHECK(p & SMFIP_NOUNKNOWN, "no unknown-command event (no callback)");
    CHECK(p & SMFIP_NR_CONN, "no reply to connect");
    CHECK(p & SMFIP_NR_HELO, "no reply to HELO");
    CHECK(p & SMFIP_NR_HDR, "no reply to each header");
    CHECK(p & SMFIP_NR_BODY, "no reply to each body chunk");
    CHECK(!(p & SMFIP_NR_MAIL), "MAIL is answered (may defer)");
    CHECK(!(p & SMFIP_NR_RCPT), "RCPT is answered (may refuse)");
    CHECK(!(p & SMFIP_NR_EOH), "end of headers is answered (may refuse)");
    CHECK(!(p & (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
                 SMFIP_NORCPT | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY)),
          "every step with a callback is still sent");
    CHECK(!(p & (SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_NR_DATA |
                 SMFIP_NR_UNKN)),
          "nothing else is asked for");

    /* an MTA that offers less gets asked for less */
    CHECK(milter_protocol(0) == 0, "nothing offered, nothing asked");
    CHECK(milter_protocol(SMFIP_HDR_LEADSPC | SMFIP_NR_MAIL) ==
              SMFIP_HDR_LEADSPC,
          "only offered flags, and never NR_MAIL");
    CHECK(milter_protocol(SMFIP_NR_HDR | SMFIP_NODATA) ==
              (SMFIP_NR_HDR | SMFIP_NODATA),
          "an older MTA: what it has");
    return UNIT_END();
}
