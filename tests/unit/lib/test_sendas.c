/*
 * test_sendas - lib/sendas.c: the one definition of "the login owns the
 * address" (the address itself, a grant of the address or its domain, an
 * alias whose only target is the login's mailbox) over a hand-built
 * backend; a backend that cannot answer is LK_TEMP, never "not owned".
 */
#include <string.h>

#include "lookup.h"
#include "sendas.h"
#include "unit.h"

struct fake {
    int down;
};

static int fake_grant(void *ctx, const char *login, const char *type,
                      const char *pattern, struct str *err)
{
    struct fake *f = ctx;

    if (f->down) {
        str_appendf(err, "down");
        return LK_TEMP;
    }
    if (!strcmp(login, "sekretariat@school.example") &&
        !strcmp(type, "address") && !strcmp(pattern, "head@school.example"))
        return LK_FOUND;
    if (!strcmp(login, "admin@isp.example") && !strcmp(type, "domain") &&
        !strcmp(pattern, "kunde1.example"))
        return LK_FOUND;
    return LK_NOTFOUND;
}

static int fake_owner(void *ctx, const char *address, const char *login,
                      struct str *err)
{
    (void)ctx;
    (void)err;
    return !strcmp(address, "info@kunde1.example") &&
                   !strcmp(login, "anna@kunde1.example")
               ? LK_FOUND
               : LK_NOTFOUND;
}

static int owns(struct fake *f, const char *login, const char *addr)
{
    struct sendas_backend be = {fake_grant, fake_owner, f};
    struct str err = STR_INIT;
    struct addr a;
    const char *why;
    int rc;

    if (addr_canonical(addr, strlen(addr), "+", ADDR_NEED_DOMAIN, NULL, NULL,
                       &a, &why) < 0)
        return -9;
    rc = sendas_owns(&be, login, &a, &err);
    str_free(&err);
    return rc;
}

int main(void)
{
    struct fake f = {0};

    CHECK(owns(&f, "pupil@school.example", "pupil@school.example") ==
              LK_FOUND, "the login's own address");
    CHECK(owns(&f, "Pupil@School.Example", "PUPIL+x@school.example.") ==
              LK_FOUND, "any spelling of it");
    CHECK(owns(&f, "pupil@school.example", "\"pupil\"@school.example") ==
              LK_FOUND, "quoted local part");
    CHECK(owns(&f, "pupil@school.example", "head@school.example") ==
              LK_NOTFOUND, "a pupil does not own the head's address");
    CHECK(owns(&f, "sekretariat@school.example", "Head@school.example") ==
              LK_FOUND, "an address grant");
    CHECK(owns(&f, "admin@isp.example", "anything@kunde1.example") ==
              LK_FOUND, "a domain grant");
    CHECK(owns(&f, "admin@isp.example", "admin@kunde2.example") ==
              LK_NOTFOUND, "not another tenant's domain");
    CHECK(owns(&f, "anna@kunde1.example", "info@kunde1.example") == LK_FOUND,
          "an alias that leads only to the login's mailbox");
    CHECK(owns(&f, "bob@kunde1.example", "info@kunde1.example") ==
              LK_NOTFOUND, "... not for someone else");
    CHECK(owns(&f, "", "pupil@school.example") == LK_NOTFOUND,
          "no login owns nothing");
    f.down = 1;
    CHECK(owns(&f, "pupil@school.example", "pupil@school.example") ==
              LK_FOUND, "the own address needs no backend");
    CHECK(owns(&f, "pupil@school.example", "head@school.example") == LK_TEMP,
          "backend down: temporary failure, never 'not owned'");
    return UNIT_END();
}
