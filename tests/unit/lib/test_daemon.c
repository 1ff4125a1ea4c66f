/*
 * test_daemon - the life cycle of lib/daemon.c without a server: the
 * command line and its exit statuses (-t valid / invalid with file:line,
 * -h, a usage error), the shared check of unix_socket_mode, the octal mode
 * conversion, SIGHUP through the pipe (the process lives on), the user
 * checks of daemon_drop_user, and reloading the file.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "unit.h"

struct t_config {
    struct server_config srv;
    long long n;
};

static const struct cfg_def t_defs[] = {
    SERVER_LISTEN_CFG_DEFS(struct t_config, srv, "inet:127.0.0.1:1"),
    {"n", CFG_INT, "1", 0, 10, offsetof(struct t_config, n), NULL},
    {NULL, 0, NULL, 0, 0, 0, NULL}};

static size_t t_sections(void *cfg, struct cfg_section *secs)
{
    secs[0] = (struct cfg_section){"maps", t_defs, cfg};
    return 1;
}

static struct server_config *t_srvcfg(void *cfg)
{
    return &((struct t_config *)cfg)->srv;
}

static const struct daemon_app t_app = {
    .name = "test-daemon",
    .config_size = sizeof(struct t_config),
    .sections = t_sections,
    .server_config = t_srvcfg,
};

static char path[64];

static void write_conf(const char *text)
{
    FILE *fp = fopen(path, "w");

    fputs(text, fp);
    fclose(fp);
}

/* start - daemon_start with the words of line (at most 8) */
static int start(struct daemon *d, char *line)
{
    char *argv[10] = {"test-daemon"};
    int argc = 1;

    for (char *w = strtok(line, " "); w && argc < 9; w = strtok(NULL, " "))
        argv[argc++] = w;
    optind = 0; /* glibc: start getopt afresh */
    return daemon_start(d, &t_app, argc, argv);
}

static void test_command_line(void)
{
    struct daemon d;
    char line[128];

    write_conf("[maps]\nlisten = unix:/tmp/x.sock\nunix_socket_mode = 660\n"
               "n = 3\n[policyd]\nwhatever = 1\n");
    snprintf(line, sizeof(line), "-t -c %s", path);
    CHECK(start(&d, line) == 0, "-t: a valid file exits 0");
    snprintf(line, sizeof(line), "-f -c %s", path);
    CHECK(start(&d, line) == -1 && d.foreground == 1 &&
              ((struct t_config *)d.cfg)->n == 3 &&
              !strcmp(d.config_path, path),
          "-f: goes on with the configuration loaded");
    CHECK((mode_t)cfg_octal_mode(((struct t_config *)d.cfg)->srv.unix_mode) ==
              0660, "unix_socket_mode 660 is 0660");
    daemon_end(&d);
    CHECK(d.cfg == NULL, "daemon_end frees the configuration");

    write_conf("[maps]\nlisten = inet:127.0.0.1:1\nmax_connections = 5\n");
    snprintf(line, sizeof(line), "-t -c %s", path);
    CHECK(start(&d, line) == 1, "-t: a key the program lacks exits 1");
    write_conf("[maps]\nunix_socket_mode = 668\n");
    snprintf(line, sizeof(line), "-t -c %s", path);
    CHECK(start(&d, line) == 1, "-t: a mode that is not octal exits 1");
    snprintf(line, sizeof(line), "-h");
    CHECK(start(&d, line) == 0, "-h exits 0");
    snprintf(line, sizeof(line), "-x");
    CHECK(start(&d, line) == 64, "an unknown option exits 64");
    snprintf(line, sizeof(line), "-f extra");
    CHECK(start(&d, line) == 64, "an argument exits 64");
}

static void test_modes(void)
{
    CHECK((mode_t)cfg_octal_mode(666) == 0666, "666");
    CHECK((mode_t)cfg_octal_mode(600) == 0600, "600");
    CHECK((mode_t)cfg_octal_mode(0) == 0, "0");
    CHECK((mode_t)cfg_octal_mode(777) == 0777, "777");
}

static void test_hup(void)
{
    struct str err = STR_INIT;
    int fd = daemon_hup_pipe(&err);
    char c[4] = "";

    CHECK(fd >= 0, "daemon_hup_pipe");
    raise(SIGHUP);
    CHECK(read(fd, c, 1) == 1 && c[0] == 'H',
          "SIGHUP arrives as 'H' and the process lives on");
    daemon_hup_notify('E');
    CHECK(read(fd, c, 1) == 1 && c[0] == 'E', "daemon_hup_notify");
    str_free(&err);
}

static void test_users(void)
{
    struct str err = STR_INIT;

    CHECK(daemon_drop_user("", &err) == 0, "no user: nothing to do");
    CHECK(daemon_drop_user("no-such-user-postern", &err) < 0 &&
              strstr(str_cstr(&err), "unknown user"),
          "an unknown user is an error");
    str_free(&err);
}

static void test_reload(void)
{
    struct daemon d;
    char line[128];
    void *cfg;

    write_conf("[maps]\nn = 4\n");
    snprintf(line, sizeof(line), "-f -c %s", path);
    CHECK(start(&d, line) == -1, "started");
    write_conf("[maps]\nn = 5\n");
    cfg = daemon_reload_config(&d);
    CHECK(cfg && ((struct t_config *)cfg)->n == 5 &&
              ((struct t_config *)d.cfg)->n == 4,
          "reload: the new file, the running one untouched");
    daemon_free_config(&t_app, cfg);
    write_conf("[maps]\nn = 11\n");
    CHECK(daemon_reload_config(&d) == NULL, "reload: a bad file gives NULL");
    daemon_end(&d);
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/postern-test-daemon-%d.conf",
             (int)getpid());
    log_open("test_daemon", LOG_TO_STDERR, 0);
    test_command_line();
    test_modes();
    test_hup();
    test_users();
    test_reload();
    unlink(path);
    return UNIT_END();
}
