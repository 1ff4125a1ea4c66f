/*
 * test_hash - lib/hash.c: insert/get/replace/delete, keys that share long
 * prefixes and suffixes (the hsearch_r collision case), case-insensitive
 * tables, owned keys, iteration, and deletion keeping every other key
 * reachable (backward shift).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "unit.h"

#define N 200000

int main(void)
{
    struct hmap m;
    char key[64];
    size_t bad = 0, it = 0, seen = 0;
    const char *k;
    void *v;

    hmap_init(&m, 0, HMAP_COPYKEYS);
    for (long i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "postmaster@domain%ld.example", i);
        if (hmap_put(&m, key, (void *)(i + 1)) != (void *)(i + 1))
            bad++;
    }
    CHECK(bad == 0 && hmap_count(&m) == N, "%d keys with a shared prefix "
          "and suffix inserted", N);
    CHECK(hmap_put(&m, "postmaster@domain7.example", (void *)99) ==
          (void *)8, "put keeps the existing value and returns it");
    bad = 0;
    for (long i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "postmaster@domain%ld.example", i);
        if (hmap_get(&m, key) != (void *)(i + 1))
            bad++;
    }
    CHECK(bad == 0, "every key found with its value");
    CHECK(hmap_get(&m, "postmaster@domain.example") == NULL,
          "an absent key is not found");
    CHECK(hmap_getn(&m, "postmaster@domain3.exampleXYZ", 26) == (void *)4,
          "getn looks up a counted prefix");
    CHECK(hmap_get(&m, "POSTMASTER@domain3.example") == NULL,
          "case matters without HMAP_NOCASE");

    /* delete every odd key: the even ones stay reachable */
    bad = 0;
    for (long i = 1; i < N; i += 2) {
        snprintf(key, sizeof(key), "postmaster@domain%ld.example", i);
        if (hmap_del(&m, key) != (void *)(i + 1))
            bad++;
    }
    CHECK(bad == 0 && hmap_count(&m) == N / 2, "half the keys deleted");
    bad = 0;
    for (long i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "postmaster@domain%ld.example", i);
        if (hmap_get(&m, key) != (i % 2 ? NULL : (void *)(i + 1)))
            bad++;
    }
    CHECK(bad == 0, "after deletion: deleted keys absent, others found");
    while (hmap_next(&m, &it, &k, &v))
        seen++;
    CHECK(seen == N / 2, "iteration visits every key once (%zu)", seen);
    CHECK(hmap_replace(&m, "postmaster@domain0.example", (void *)7) ==
          (void *)1 && hmap_get(&m, "postmaster@domain0.example") ==
          (void *)7, "replace returns the old value and stores the new");
    CHECK(hmap_del(&m, "nothing") == NULL, "deleting an absent key: NULL");
    hmap_free(&m, NULL);

    struct hmap *c = hmap_new(4, HMAP_NOCASE | HMAP_COPYKEYS);
    hmap_put(c, "Alice@Example.ORG", (void *)1);
    CHECK(hmap_get(c, "alice@example.org") == (void *)1,
          "HMAP_NOCASE: found in another case");
    CHECK(hmap_hash("ABC", 3, HMAP_NOCASE) == hmap_hash("abc", 3, HMAP_NOCASE),
          "HMAP_NOCASE: one hash for both cases");
    CHECK(hmap_del(c, "ALICE@EXAMPLE.ORG") == (void *)1 && hmap_count(c) == 0,
          "HMAP_NOCASE: deleted in another case");
    hmap_destroy(c, NULL);

    /* SipHash-2-4 reference (the paper's appendix A: key 00..0f, message
       00..0e) proves the implementation; the table uses 1-3 keyed per
       process */
    {
        uint64_t sk[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
        char msg[15];
        for (int i = 0; i < 15; i++)
            msg[i] = (char)i;
        CHECK(hash_siphash(sk, 2, 4, msg, 15, 0) == 0xa129ca6149be45e5ULL,
              "SipHash-2-4 gives the reference value");
        CHECK(hash_siphash(sk, 2, 4, "", 0, 0) == 0x726fdb47dd0e0e31ULL,
              "SipHash-2-4 of the empty message");
    }
    CHECK(hash_stable64("abc", 3, 0) == hash_stable64("abc", 3, 0) &&
              hash_stable64("ABC", 3, HMAP_NOCASE) == hash_stable64("abc", 3, 0),
          "hash_stable64 is a function of the text (and folds case on request)");

    struct hmap e;
    hmap_init(&e, 0, 0);
    CHECK(hmap_get(&e, "x") == NULL && hmap_del(&e, "x") == NULL,
          "an empty table answers not found");
    hmap_free(&e, NULL);
    return UNIT_END();
}
