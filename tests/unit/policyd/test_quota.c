/*
 * test_quota - the decision of the RCPT quota check of postern-policyd
 * (pd_quota_limit, pd_quota_full in policyd/quota.c), table-driven: the
 * limit in force (the row's, the mailbox's now, unknown, unlimited, the
 * larger of two), the message size (given, absent), the boundary
 * bytes + size == limit, and sizes near the top of the range.
 */
#include <limits.h>

#include "policyd.h"
#include "unit.h"

#define N (-1) /* SQL NULL */

struct qcase {
    const char *name;
    long long bytes, row_limit, cur_limit, size;
    long long limit;   /* pd_quota_limit */
    int full;          /* pd_quota_full */
};

static const struct qcase cases[] = {
    {"under, no size", 500, 1000, 1000, 0, 1000, 0},
    {"one byte left, no size", 999, 1000, 1000, 0, 1000, 0},
    {"at the limit, no size", 1000, 1000, 1000, 0, 1000, 1},
    {"over the limit", 1500, 1000, 1000, 0, 1000, 1},
    {"size fits exactly", 600, 1000, 1000, 400, 1000, 0},
    {"size one byte too many", 600, 1000, 1000, 401, 1000, 1},
    {"row unlimited", 5000, 0, 1000, 0, 0, 0},
    {"mailbox now unlimited", 5000, 1000, 0, 0, 0, 0},
    {"row limit unknown, mailbox limit known", 5000, N, 1000, 0, 1000, 1},
    {"mailbox limit unknown (lda default)", 5000, 1000, N, 0, 1000, 1},
    {"no limit known", 5000, N, N, 0, 0, 0},
    {"quota raised since the row: the larger", 1500, 1000, 2000, 0, 2000, 0},
    {"quota lowered since the row: the larger", 1500, 2000, 1000, 0, 2000, 0},
    {"raised, but the message does not fit", 1500, 1000, 2000, 600, 2000, 1},
    {"bytes unknown", N, 1000, 1000, 0, 1000, 0},
    {"huge size, no overflow", 10, 1000, 1000, LLONG_MAX, 1000, 1},
    {"huge limit and bytes", LLONG_MAX - 1, LLONG_MAX, LLONG_MAX, 1,
     LLONG_MAX, 0},
    {"huge limit, full", LLONG_MAX, LLONG_MAX, LLONG_MAX, 0, LLONG_MAX, 1},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct qcase *c = &cases[i];
        struct pd_quota_row q = {c->bytes, c->row_limit, c->cur_limit};
        CHECK(pd_quota_limit(&q) == c->limit, "%s: limit %lld (got %lld)",
              c->name, c->limit, pd_quota_limit(&q));
        CHECK(pd_quota_full(&q, c->size) == c->full, "%s: %s", c->name,
              c->full ? "full" : "fits");
    }
    return UNIT_END();
}
