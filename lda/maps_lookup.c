/*
 * maps_lookup - the recipient's mailbox from postern-maps instead of
 * MariaDB ([lda] lookup = maps).
 *
 * One socketmap request (socketmap_table(5)) per lookup, on a fresh
 * connection to [lda] maps_server ("unix:/path", "inet:127.0.0.1:PORT" or
 * "inet:[::1]:PORT"): the netstring "ldamailbox local@domain" (a map name
 * Postfix never asks; its "maildir" map is unchanged), answered with one
 * netstring:
 *
 *   "OK quota=1048576 vol01/29/29d6/anna@example.org/"
 *                              -> LK_FOUND, the mailbox's quota (bytes,
 *                                 0 unlimited) and the maildir path
 *   "OK vol01/29/29d6/anna@example.org/"
 *                              -> LK_FOUND, no quota in SQL for it:
 *                                 [lda] default_quota
 *   "NOTFOUND "                -> LK_NOTFOUND
 *   "TEMP ...", "TIMEOUT ...", "PERM ..."  -> LK_TEMP
 *
 * A postern-maps older than the ldamailbox map answers "PERM unknown map
 * name": the lookup is asked again as "maildir local@domain" on a new
 * connection, with [lda] default_quota as the limit.
 *
 * Anything else is LK_TEMP too: no server, a refused or reset connection,
 * no complete answer within [lda] maps_timeout, a reply that is not one
 * netstring, over LDA_MAPS_REPLY_MAX bytes, or a path lda_maildir_valid()
 * refuses.  A temporary failure never becomes "unknown user".
 *
 * postern-maps resolves alias domains itself; the mailbox address kept for
 * Delivered-To is the recipient as given (extension stripped).  The quota
 * follows lookup.c: mailboxes.quota_bytes, else the domain's
 * default_quota_bytes (both resolved by postern-maps), else [lda]
 * default_quota.
 *
 * Limits: the reply (LDA_MAPS_REPLY_MAX), one connect + one round trip
 * bounded by maps_timeout as a whole (poll on a non-blocking socket).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lda.h"
#include "clock.h"
#include "netstring.h"

/* wait_fd - poll for ev until the deadline; 1 ready, 0 timeout, -1 error */
static int wait_fd(int fd, short ev, long long deadline)
{
    struct pollfd p = {fd, ev, 0};

    for (;;) {
        long long left = deadline - clock_ms();
        int n;

        if (left <= 0)
            return 0;
        n = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -1 : n > 0;
    }
}

/* parse_spec - "unix:/path" or "inet:HOST:PORT" into a socket address. */
static int parse_spec(const char *spec, struct sockaddr_storage *ss,
                      socklen_t *len, struct str *err)
{
    if (strncmp(spec, "unix:", 5) == 0) {
        struct sockaddr_un *u = (struct sockaddr_un *)ss;
        if (strlen(spec + 5) >= sizeof(u->sun_path) || spec[5] != '/')
            return str_appendf(err, "bad maps_server %s", spec), -1;
        u->sun_family = AF_UNIX;
        strcpy(u->sun_path, spec + 5);
        *len = sizeof(*u);
        return 0;
    }
    if (strncmp(spec, "inet:", 5) == 0) {
        const char *h = spec + 5, *colon = strrchr(h, ':');
        char host[64];
        size_t hl;
        long port;
        char *end;

        if (colon == NULL)
            return str_appendf(err, "bad maps_server %s", spec), -1;
        port = strtol(colon + 1, &end, 10);
        hl = (size_t)(colon - h);
        if (*h == '[' && hl >= 2 && h[hl - 1] == ']')
            h++, hl -= 2;
        if (*end || port < 1 || port > 65535 || hl >= sizeof(host))
            return str_appendf(err, "bad maps_server %s", spec), -1;
        memcpy(host, h, hl);
        host[hl] = '\0';
        struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET, v4->sin_port = htons((uint16_t)port);
            *len = sizeof(*v4);
            return 0;
        }
        if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6, v6->sin6_port = htons((uint16_t)port);
            *len = sizeof(*v6);
            return 0;
        }
    }
    return str_appendf(err, "bad maps_server %s (unix:/path or "
                            "inet:ADDRESS:PORT)", spec), -1;
}

/* maps_connect - a connected non-blocking socket, or -1 with *err. */
static int maps_connect(const char *spec, long long deadline,
                        struct str *err)
{
    struct sockaddr_storage ss;
    socklen_t len = 0, elen = sizeof(int);
    int fd, e = 0;

    memset(&ss, 0, sizeof(ss));
    if (parse_spec(spec, &ss, &len, err) < 0)
        return -1;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return str_appendf(err, "socket: %s", strerror(errno)), -1;
    if (connect(fd, (struct sockaddr *)&ss, len) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EAGAIN)
        e = errno;
    else if (wait_fd(fd, POLLOUT, deadline) <= 0)
        e = ETIMEDOUT;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
        e = errno;
    if (e == 0)
        return fd;
    str_appendf(err, "connect %s: %s", spec, strerror(e));
    close(fd);
    return -1;
}

/* maps_ask - send one request, read one netstring reply into *reply. */
static int maps_ask(int fd, const struct str *req, long long deadline,
                    struct str *reply, struct str *err)
{
    char buf[LDA_MAPS_REPLY_MAX + 16];
    size_t off = 0, have = 0, len, used;
    const char *data;

    while (off < req->len) {
        ssize_t n = send(fd, req->data + off, req->len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return str_appendf(err, "send: %s", strerror(errno)), -1;
        } else if (wait_fd(fd, POLLOUT, deadline) <= 0) {
            return str_appendf(err, "send: timed out"), -1;
        }
    }
    for (;;) {
        enum netstring_status st = netstring_decode(
            buf, have, LDA_MAPS_REPLY_MAX, &data, &len, &used);
        if (st == NETSTRING_OK)
            return str_set(reply, data, len);
        if (st != NETSTRING_INCOMPLETE)
            return str_appendf(err, "reply: %s", netstring_strerror(st)), -1;
        if (have == sizeof(buf))
            return str_appendf(err, "reply too long"), -1;
        ssize_t n = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (n > 0) {
            have += (size_t)n;
        } else if (n == 0) {
            return str_appendf(err, "connection closed by postern-maps"), -1;
        } else if (errno != EAGAIN && errno != EINTR) {
            return str_appendf(err, "recv: %s", strerror(errno)), -1;
        } else if (wait_fd(fd, POLLIN, deadline) <= 0) {
            return str_appendf(err, "no answer in time"), -1;
        }
    }
}

int lda_maps_reply(const struct str *reply, const struct addr *a,
                   unsigned long long quota, struct lda_mailbox *mb,
                   struct str *err)
{
    if (reply->len >= 3 && memcmp(reply->data, "OK ", 3) == 0) {
        const char *p = str_cstr(reply) + 3;
        if (strncmp(p, "quota=", 6) == 0) {
            char *end;
            errno = 0;
            quota = strtoull(p + 6, &end, 10);
            if (end == p + 6 || *end != ' ' || errno || p[6] == '-') {
                str_appendf(err, "%s: bad quota value from postern-maps",
                            a->full);
                return LK_TEMP;
            }
            p = end + 1;
        }
        if (!lda_maildir_valid(p) || strlen(a->full) > ADDR_MAX) {
            str_appendf(err, "%s: bad maildir value from postern-maps",
                        a->full);
            return LK_TEMP;
        }
        strcpy(mb->maildir, p);
        strcpy(mb->address, a->full);
        mb->quota = quota;
        return LK_FOUND;
    }
    if (reply->len >= 8 && memcmp(reply->data, "NOTFOUND", 8) == 0)
        return LK_NOTFOUND;
    str_append_cstr(err, "postern-maps: ");
    for (size_t i = 0; i < reply->len && i < 200; i++)
        str_append_char(err, (unsigned char)reply->data[i] < 0x20
                                 ? '?' : reply->data[i]);
    return LK_TEMP;
}

/* maps_request - one request "map key" on a fresh connection; 0 with the
   reply payload, or -1 + *err */
static int maps_request(const struct lda_config *cfg, const char *map,
                        const struct addr *a, long long deadline,
                        struct str *reply, struct str *err)
{
    struct str req = STR_INIT, q = STR_INIT;
    int fd, rc = -1;

    str_appendf(&q, "%s %s", map, a->full);
    netstring_encode(&req, q.data, q.len);
    if ((fd = maps_connect(cfg->maps_server, deadline, err)) >= 0) {
        if ((rc = maps_ask(fd, &req, deadline, reply, err)) < 0)
            str_appendf(err, " (%s, maps_timeout %lld ms)", cfg->maps_server,
                        cfg->maps_timeout);
        close(fd);
    }
    str_free(&req);
    str_free(&q);
    return rc;
}

int lda_maps_lookup(const struct lda_config *cfg, const struct addr *a,
                    struct lda_mailbox *mb, struct str *err)
{
    static const char old_maps[] = "PERM unknown map name";
    long long deadline = clock_ms() + cfg->maps_timeout;
    struct str reply = STR_INIT;
    int rc = LK_TEMP;

    memset(mb, 0, sizeof(*mb));
    if (maps_request(cfg, "ldamailbox", a, deadline, &reply, err) == 0 &&
        (reply.len != sizeof(old_maps) - 1 ||
         memcmp(reply.data, old_maps, reply.len) != 0 ||
         maps_request(cfg, "maildir", a, deadline, &reply, err) == 0))
        rc = lda_maps_reply(&reply, a,
                            (unsigned long long)cfg->default_quota, mb, err);
    str_free(&reply);
    return rc;
}
