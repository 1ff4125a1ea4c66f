/*
 * policy-load - load generator for bench/policyd: a deterministic stream of
 * Postfix policy delegation requests (greylisting, protocol_state=RCPT)
 * sent over several reused connections, one request outstanding per
 * connection, as several smtpd processes send them.
 *
 * SYNOPSIS
 *   policy-load -p PORT [-H 127.0.0.1] [-c CONNS] [-n REQUESTS] [-w WARMUP]
 *               [-l LAG] [-r RETRY_PERCENT] [-s SEED] [-S SLEEP_MS]
 *               [-P PID[,PID...]] [-L LOGINS]
 *   policy-load --serve PORT
 *
 * DESCRIPTION
 *   Triplet number t maps to a fixed (client address, client name, sender,
 *   recipient): clients spread over 10.0.0.0/8 (65,536 /24 networks, so
 *   auto-whitelisting of client networks hardly ever applies), a sender
 *   unique to t in one of 5,000 domains, a recipient among 20,000 users of
 *   50 domains.  First WARMUP new triplets are sent (not timed), then the
 *   generator sleeps SLEEP_MS (longer than the greylisting delay), then the
 *   timed stream of REQUESTS requests: RETRY_PERCENT of them retry an older
 *   triplet, the rest are new triplets.  A retry picks a triplet uniformly
 *   among the warm-up triplets and those introduced at least LAG new
 *   triplets earlier, so with a short delay a retry normally passes.  The
 *   same SEED gives the same stream, request for request.  Every request
 *   carries the attributes Postfix 3.7 sends at RCPT (about 700 bytes).
 *
 *   One thread, epoll over CONNS blocking TCP connections (TCP_NODELAY);
 *   latency is measured per request from the write to the end of the reply.
 *
 *   --serve PORT answers every request with "action=DUNNO" at once: a null
 *   policy server to measure the generator's own ceiling.
 *
 * OUTPUT
 *   One line of key=value pairs on stdout: requests seconds rps p50_us
 *   p99_us max_us defer pass other gen_cpu (the generator's own CPU seconds
 *   in the timed phase), and with -P cpu_PID=S for each process named (its
 *   CPU seconds, all threads, in the timed phase).  "defer" counts DEFER_IF_PERMIT/DEFER replies,
 *   "pass" DUNNO/OK/PREPEND, "other" anything else (the first few are
 *   printed on stderr).
 *
 *   -L LOGINS (bench/ratelimit) makes every request an authenticated one:
 *   sasl_method=PLAIN and sasl_username=userU@isp.example, U drawn from
 *   LOGINS distinct logins by a hash of the request's triplet number (so
 *   with -r 0 every request is a new message of a login chosen uniformly
 *   at random, the same for the same SEED); without -L sasl_username is
 *   empty.
 *
 * DIAGNOSTICS
 *   Exit 1 when a connection fails or closes, or a reply is malformed or
 *   longer than REPLY_MAX; exit 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 2048
#define REPLY_MAX 4096
#define CONNS_MAX 256

struct conn {
    int fd;
    long req;             /* index in the current phase, -1 = idle */
    double sent;          /* monotonic seconds at write */
    char in[REPLY_MAX];
    size_t inlen;
};

struct phase {
    const uint32_t *trip; /* triplet number of each request */
    long n, next, done;
    double *lat;          /* per-request latency in microseconds, or NULL */
    long defer, pass, other;
};

static uint64_t seed = 20240501;
static long logins;       /* -L: distinct SASL logins, 0 = none */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    return mix64(rng_state++);
}

static void die(const char *what)
{
    fprintf(stderr, "policy-load: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* build_request - the text of request i (triplet t) into buf */
static int build_request(char *buf, size_t size, long i, uint32_t t)
{
    uint64_t h = mix64((uint64_t)t ^ seed);
    unsigned a = (unsigned)(h & 0xff), b = (unsigned)((h >> 8) & 0xff);
    unsigned c = 1 + (unsigned)((h >> 16) % 254);
    unsigned sdom = (unsigned)((h >> 24) % 5000);
    unsigned user = (unsigned)((h >> 36) % 20000);
    unsigned rdom = (unsigned)((h >> 52) % 50);
    char sasl[64] = "";
    int n;

    if (logins > 0)
        snprintf(sasl, sizeof(sasl), "user%u@isp.example",
                 (unsigned)(mix64(h ^ 0x5a5a5a5aULL) % (uint64_t)logins));

    n = snprintf(buf, size,
        "request=smtpd_access_policy\nprotocol_state=RCPT\n"
        "protocol_name=ESMTP\nclient_address=10.%u.%u.%u\n"
        "client_name=mail%u.sender%u.example\nclient_port=%u\n"
        "reverse_client_name=mail%u.sender%u.example\n"
        "server_address=127.0.0.1\nserver_port=25\n"
        "helo_name=mail%u.sender%u.example\n"
        "sender=news%u@sender%u.example\nrecipient=user%u@school%u.example\n"
        "recipient_count=0\nqueue_id=\ninstance=%lx.%x.0\nsize=0\n"
        "etrn_domain=\nstress=\nsasl_method=%s\nsasl_username=%s\n"
        "sasl_sender=\n"
        "ccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
        "ccert_pubkey_fingerprint=\nencryption_protocol=TLSv1.3\n"
        "encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
        "policy_context=\ncompatibility_level=3.6\n"
        "mail_version=3.7.11\n\n",
        a, b, c, c, sdom, 1024 + (unsigned)(i % 60000), c, sdom, c, sdom,
        (unsigned)t, sdom, user, rdom, i, (unsigned)(h >> 40),
        sasl[0] ? "PLAIN" : "", sasl);
    return n > 0 && (size_t)n < size ? n : -1;
}

static void send_next(struct conn *cn, struct phase *ph)
{
    char buf[REQ_MAX];
    int len;

    if (ph->next >= ph->n) {
        cn->req = -1;
        return;
    }
    cn->req = ph->next++;
    len = build_request(buf, sizeof(buf), cn->req, ph->trip[cn->req]);
    if (len < 0) {
        fprintf(stderr, "policy-load: request too long\n");
        exit(1);
    }
    cn->inlen = 0;
    cn->sent = now_s();
    for (int off = 0; off < len;) {
        ssize_t w = write(cn->fd, buf + off, (size_t)(len - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write");
        off += (int)w;
    }
}

static void classify(struct phase *ph, const char *reply, size_t len)
{
    static int shown;
    const char *a = reply + 7;

    if (len < 8 || strncmp(reply, "action=", 7) != 0) {
        fprintf(stderr, "policy-load: malformed reply '%.*s'\n", (int)len,
                reply);
        exit(1);
    }
    if (!strncasecmp(a, "DEFER_IF_PERMIT", 15) || !strncasecmp(a, "DEFER ", 6))
        ph->defer++;
    else if (!strncasecmp(a, "DUNNO", 5) || !strncasecmp(a, "PREPEND", 7) ||
             !strncasecmp(a, "OK", 2))
        ph->pass++;
    else {
        ph->other++;
        if (shown++ < 5)
            fprintf(stderr, "policy-load: other reply: %.*s\n", (int)len - 2,
                    reply);
    }
}

/* on_readable - read what is there; a complete reply ends the request */
static void on_readable(struct conn *cn, struct phase *ph)
{
    ssize_t r = read(cn->fd, cn->in + cn->inlen, sizeof(cn->in) - cn->inlen);
    char *end;

    if (r < 0 && errno == EINTR)
        return;
    if (r < 0)
        die("read");
    if (r == 0 || cn->req < 0) {
        fprintf(stderr, "policy-load: server closed the connection or sent "
                "an unexpected reply\n");
        exit(1);
    }
    cn->inlen += (size_t)r;
    end = memmem(cn->in, cn->inlen, "\n\n", 2);
    if (end == NULL) {
        if (cn->inlen == sizeof(cn->in)) {
            fprintf(stderr, "policy-load: reply longer than %d bytes\n",
                    REPLY_MAX);
            exit(1);
        }
        return;
    }
    if ((size_t)(end - cn->in) + 2 != cn->inlen) {
        fprintf(stderr, "policy-load: more than one reply to one request\n");
        exit(1);
    }
    if (ph->lat)
        ph->lat[cn->req] = (now_s() - cn->sent) * 1e6;
    classify(ph, cn->in, cn->inlen);
    ph->done++;
    send_next(cn, ph);
}

static void run_phase(int ep, struct conn *cs, int nconn, struct phase *ph)
{
    struct epoll_event ev[CONNS_MAX];

    for (int i = 0; i < nconn; i++)
        send_next(&cs[i], ph);
    while (ph->done < ph->n) {
        int k = epoll_wait(ep, ev, CONNS_MAX, 10000);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            die("epoll_wait");
        if (k == 0) {
            fprintf(stderr, "policy-load: no reply for 10 s\n");
            exit(1);
        }
        for (int i = 0; i < k; i++)
            on_readable(&cs[ev[i].data.u32], ph);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int connect_to(const char *host, int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0)
        die("socket");
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "policy-load: bad address %s\n", host);
        exit(2);
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* serve - the null policy server: "action=DUNNO" to every request */
static int serve(int port)
{
    struct sockaddr_in sa;
    struct epoll_event ev, evs[64];
    static struct conn cs[CONNS_MAX];
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ep;

    if (lfd < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 64) < 0)
        die("bind/listen");
    if ((ep = epoll_create1(0)) < 0)
        die("epoll_create1");
    ev.events = EPOLLIN;
    ev.data.u32 = CONNS_MAX;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (int i = 0; i < CONNS_MAX; i++)
        cs[i].fd = -1;
    for (;;) {
        int k = epoll_wait(ep, evs, 64, -1);
        if (k < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < k; i++) {
            uint32_t id = evs[i].data.u32;
            if (id == CONNS_MAX) {
                int fd = accept(lfd, NULL, NULL), slot = 0;
                while (slot < CONNS_MAX && cs[slot].fd >= 0)
                    slot++;
                if (fd < 0 || slot == CONNS_MAX) {
                    if (fd >= 0)
                        close(fd);
                    continue;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                cs[slot].fd = fd;
                cs[slot].inlen = 0;
                ev.events = EPOLLIN;
                ev.data.u32 = (uint32_t)slot;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }
            struct conn *cn = &cs[id];
            ssize_t r = read(cn->fd, cn->in + cn->inlen,
                             sizeof(cn->in) - cn->inlen);
            if (r <= 0) {
                close(cn->fd);
                cn->fd = -1;
                continue;
            }
            cn->inlen += (size_t)r;
            char *end;
            while ((end = memmem(cn->in, cn->inlen, "\n\n", 2)) != NULL) {
                size_t used = (size_t)(end - cn->in) + 2;
                if (write(cn->fd, "action=DUNNO\n\n", 14) != 14)
                    break;
                memmove(cn->in, cn->in + used, cn->inlen - used);
                cn->inlen -= used;
            }
            if (cn->inlen == sizeof(cn->in))
                cn->inlen = 0; /* a request over the limit: drop it */
        }
    }
    return 0;
}

/* proc_cpu - CPU seconds (all threads, user + system) of process pid */
static double proc_cpu(long pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    if ((p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long arg_long(const char *s, long min, long max)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == 0 || *end || v < min || v > max) {
        fprintf(stderr, "policy-load: bad number '%s' (%ld..%ld)\n", s, min,
                max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 0, nconn = 8, n = 100000, warm = 25000, lag = 25000;
    long retry = 50, sleep_ms = 1500;
    long pids[8];
    int npids = 0;
    double pcpu[8];
    static struct conn cs[CONNS_MAX];
    struct epoll_event ev;
    int ep;

    if (argc == 3 && !strcmp(argv[1], "--serve"))
        return serve((int)arg_long(argv[2], 1, 65535));
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL || o[0] != '-' || strlen(o) != 2) {
            fprintf(stderr, "usage: policy-load -p PORT [-H ADDR] [-c CONNS] "
                    "[-n REQUESTS] [-w WARMUP] [-l LAG] [-r RETRY%%] "
                    "[-s SEED] [-S SLEEP_MS] [-P PIDS] [-L LOGINS] | --serve PORT\n");
            return 2;
        }
        switch (o[1]) {
        case 'p': port = arg_long(v, 1, 65535); break;
        case 'H': host = v; break;
        case 'c': nconn = arg_long(v, 1, CONNS_MAX); break;
        case 'n': n = arg_long(v, 1, 100000000); break;
        case 'w': warm = arg_long(v, 0, 100000000); break;
        case 'l': lag = arg_long(v, 0, 100000000); break;
        case 'r': retry = arg_long(v, 0, 100); break;
        case 's': seed = (uint64_t)arg_long(v, 0, 1L << 62); break;
        case 'S': sleep_ms = arg_long(v, 0, 600000); break;
        case 'L': logins = arg_long(v, 0, 100000000); break;
        case 'P':
            for (const char *q = v; *q && npids < 8; q = strchr(q, ',') ?
                 strchr(q, ',') + 1 : q + strlen(q))
                pids[npids++] = strtol(q, NULL, 10);
            break;
        default: fprintf(stderr, "policy-load: unknown option %s\n", o); return 2;
        }
        i++;
    }
    if (port == 0) {
        fprintf(stderr, "policy-load: -p PORT is required\n");
        return 2;
    }

    /* the stream, fixed before anything is sent */
    uint32_t *wtrip = malloc(sizeof(uint32_t) * (size_t)(warm ? warm : 1));
    uint32_t *trip = malloc(sizeof(uint32_t) * (size_t)n);
    double *lat = malloc(sizeof(double) * (size_t)n);
    if (!wtrip || !trip || !lat)
        die("malloc");
    rng_state = seed;
    for (long i = 0; i < warm; i++)
        wtrip[i] = (uint32_t)i;
    uint32_t next_new = (uint32_t)warm;
    for (long i = 0; i < n; i++) {
        long pool = (long)next_new - lag > warm ? (long)next_new - lag : warm;
        if ((long)(rng() % 100) < retry && pool > 0)
            trip[i] = (uint32_t)(rng() % (uint64_t)pool);
        else
            trip[i] = next_new++;
    }

    if ((ep = epoll_create1(0)) < 0)
        die("epoll_create1");
    for (long i = 0; i < nconn; i++) {
        cs[i].fd = connect_to(host, (int)port);
        cs[i].req = -1;
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)i;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
            die("epoll_ctl");
    }
    if (warm > 0) {
        struct phase w = {wtrip, warm, 0, 0, NULL, 0, 0, 0};
        run_phase(ep, cs, (int)nconn, &w);
        fprintf(stderr, "policy-load: warm-up: %ld requests (defer %ld, pass "
                "%ld, other %ld)\n", warm, w.defer, w.pass, w.other);
        usleep((useconds_t)sleep_ms * 1000);
    }

    struct phase ph = {trip, n, 0, 0, lat, 0, 0, 0};
    for (int i = 0; i < npids; i++)
        pcpu[i] = proc_cpu(pids[i]);
    double c0 = cpu_s(), t0 = now_s();
    run_phase(ep, cs, (int)nconn, &ph);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    for (int i = 0; i < npids; i++)
        pcpu[i] = proc_cpu(pids[i]) - pcpu[i];

    qsort(lat, (size_t)n, sizeof(double), cmp_double);
    printf("requests=%ld seconds=%.3f rps=%.0f p50_us=%.0f p99_us=%.0f "
           "max_us=%.0f defer=%ld pass=%ld other=%ld gen_cpu=%.2f "
           "new=%ld retry=%ld%s",
           n, secs, (double)n / secs, lat[n / 2], lat[(n * 99) / 100],
           lat[n - 1], ph.defer, ph.pass, ph.other, cpu,
           (long)next_new - warm, n - ((long)next_new - warm),
           npids ? " " : "\n");
    for (int i = 0; i < npids; i++)
        printf("%scpu_%ld=%.2f", i ? " " : "", pids[i], pcpu[i]);
    if (npids)
        printf("\n");
    for (long i = 0; i < nconn; i++)
        close(cs[i].fd);
    free(wtrip);
    free(trip);
    free(lat);
    return 0;
}
