/* test_forward - the forwarding account postern-forward counts a copy
   against (fwd_ratelimit_key): the canonical original recipient, alias
   domains resolved, nothing for a re-submitted Sieve redirect. */
#include <string.h>

#include "aliasdom.h"
#include "forward.h"
#include "unit.h"

int main(void)
{
    struct aliasdom m;
    char key[1300];
    const char *why = NULL;

    aliasdom_init(&m);
    aliasdom_add(&m, "alias-a.example", "a.example");
    CHECK(fwd_ratelimit_key("Fwd+tag@Alias-A.example", "friend@ext.example",
                            "+", aliasdom_target, &m, key, sizeof(key),
                            &why) == 0 &&
              !strcmp(key, "fwd@a.example"),
          "alias forward: canonical original recipient (%s)", key);
    CHECK(fwd_ratelimit_key("friend@ext.example", "Friend@EXT.example", "+",
                            aliasdom_target, &m, key, sizeof(key),
                            &why) == 0 && key[0] == '\0',
          "original recipient = recipient (re-submitted redirect): no key");
    CHECK(fwd_ratelimit_key(NULL, "friend@ext.example", "+", aliasdom_target,
                            &m, key, sizeof(key), &why) == 0 &&
              key[0] == '\0',
          "no original recipient: no key");
    CHECK(fwd_ratelimit_key("", "friend@ext.example", "+", aliasdom_target,
                            &m, key, sizeof(key), &why) == 0 &&
              key[0] == '\0',
          "empty original recipient: no key");
    CHECK(fwd_ratelimit_key("no-domain", "friend@ext.example", "+",
                            aliasdom_target, &m, key, sizeof(key),
                            &why) < 0 && why != NULL,
          "a malformed original recipient is reported");
    aliasdom_free(&m);
    return UNIT_END();
}
