/* test_aliasdom - the alias domain map feeds addr_canonical. */
#include "addr.h"
#include "aliasdom.h"
#include "unit.h"

int main(void)
{
    struct aliasdom m;
    struct addr a;
    const char *err;

    aliasdom_init(&m);
    aliasdom_add(&m, "BNS-Schule.example", "bns.school.example");
    aliasdom_add(&m, "old.example", "bns-schule.example");
    aliasdom_add(&m, "bns-schule.example", "elsewhere.example");
    CHECK(m.n == 2, "a second row for one alias domain is ignored");
    CHECK_STR(aliasdom_target(&m, "bns-schule.example"), "bns.school.example",
              "lower-cased on the way in");
    CHECK(aliasdom_target(&m, "bns.school.example") == NULL,
          "a target is no alias");
    CHECK(addr_canonical("Pupil+x@OLD.example.", 20, "+", 0, aliasdom_target,
                         &m, &a, &err) == 0 &&
              !strcmp(a.full, "pupil@bns.school.example"),
          "an alias of an alias is followed to the end");
    aliasdom_free(&m);
    return UNIT_END();
}
