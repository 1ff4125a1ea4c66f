/*
 * test_moderate - the pure parts of milter/moderate.c: recognizing a
 * moderation reply address, the token's hash, and the bounded, sanitized
 * Subject and excerpt kept of a held message.
 */
#include <string.h>

#include "milter.h"
#include "unit.h"

int main(void)
{
    struct milter_config cfg;
    char tok[MODERATE_TOKEN_LEN + 1], hash[65];
    const char *t32 = "0123456789abcdef0123456789ABCDEF";
    char addr[128];
    struct str s = STR_INIT;
    unsigned char body[3000];

    memset(&cfg, 0, sizeof(cfg));
    cfg.moderation_address = "moderate@bns.school.example";

    snprintf(addr, sizeof(addr), "moderate+%s@bns.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 1, "a reply address");
    CHECK_STR(tok, "0123456789abcdef0123456789abcdef", "... its token, lower case");
    snprintf(addr, sizeof(addr), "Moderate+%s@BNS.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 1, "case-insensitive");
    CHECK(moderate_token_of(&cfg, "moderate@bns.school.example", tok) == 0,
          "the bare address is not a reply address");
    snprintf(addr, sizeof(addr), "moderate+%.31s@bns.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 0, "31 digits: no");
    snprintf(addr, sizeof(addr), "moderate+%sa@bns.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 0, "33 digits: no");
    snprintf(addr, sizeof(addr), "moderate+%.31sg@bns.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 0, "not hex: no");
    snprintf(addr, sizeof(addr), "moderate+%s@other.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 0, "another domain: no");
    snprintf(addr, sizeof(addr), "moderator+%s@bns.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 0, "another local part: no");
    cfg.moderation_address = "";
    snprintf(addr, sizeof(addr), "moderate+%s@bns.school.example", t32);
    CHECK(moderate_token_of(&cfg, addr, tok) == 0, "moderation off: no");

    CHECK(moderate_token_hash("abc", hash) == 0, "hash");
    CHECK_STR(hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              "... SHA-256 in hex");

    moderate_note_subject(&s, " Hello\r\n\tworld\x01");
    CHECK_STR(str_cstr(&s), "Hello   world ", "Subject: control characters become spaces");
    memset(body, 'x', sizeof(body));
    str_free(&s);
    moderate_note_body(&s, body, sizeof(body));
    moderate_note_body(&s, body, sizeof(body));
    CHECK(s.len == MODERATE_EXCERPT_MAX, "excerpt bounded (%zu)", s.len);
    str_free(&s);
    moderate_note_body(&s, (const unsigned char *)"line 1\r\nline\0332\n", 15);
    CHECK_STR(str_cstr(&s), "line 1\nline 2\n", "excerpt: line breaks kept, CR and ESC not");
    str_free(&s);
    return UNIT_END();
}
