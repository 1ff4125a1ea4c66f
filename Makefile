# postern - top-level build.
#
#   make            build the four daemons and the tools
#   make check      install missing Debian packages, build, run every test
#   make asan       the same with AddressSanitizer + UBSan (build-asan/)
#   make demo       bring up the private stack with the sample data
#   make install    install under $(DESTDIR)$(PREFIX)
#   make bench      run the benchmarks in bench/ (not part of check)

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc/postern
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config

WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CSTD    = -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
SAN     ?=
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SAN) -Ilib $(CFLAGS)
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

# pkg-config finds what ships a .pc file; libmilter, libspf2 and libopendkim
# ship none on Debian and are linked by name (docs/dependencies.md).
PC_DB    = $(shell $(PKG_CONFIG) --cflags --libs libmariadb 2>/dev/null)
DB_CFLAGS = $(shell $(PKG_CONFIG) --cflags libmariadb 2>/dev/null)
DB_LIBS   = $(shell $(PKG_CONFIG) --libs libmariadb 2>/dev/null)
LDAP_CFLAGS = $(shell $(PKG_CONFIG) --cflags ldap 2>/dev/null)
LDAP_LIBS   = $(shell $(PKG_CONFIG) --libs ldap lber 2>/dev/null)
SSL_CFLAGS  = $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
SSL_LIBS    = $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null)
MILTER_LIBS = -lmilter -lpthread
SPF_LIBS    = -lspf2
DKIM_CFLAGS = -I/usr/include/opendkim
DKIM_LIBS   = -lopendkim

LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_A    = $(BUILD)/libpostern.a

PROGS = postern-maps postern-policyd postern-milter postern-lda \
        postern-sieve postern-sieve-test postern-managesieve
BINS  = $(PROGS:%=$(BUILD)/%)

MAPS_SRC    = $(wildcard maps/*.c)
POLICYD_SRC = $(wildcard policyd/*.c)
MILTER_SRC  = $(wildcard milter/*.c)
LDA_SRC     = $(wildcard lda/*.c)
MANAGESIEVE_SRC = $(wildcard managesieve/*.c)
SIEVE_SRC   = $(wildcard lda/sieve/*.c)
SIEVE_OBJ   = $(SIEVE_SRC:%.c=$(BUILD)/%.o)
# the Sieve tools link the engine and postern-lda's modules (not its main)
SIEVE_TOOL_OBJ = $(filter-out $(BUILD)/lda/main.o,$(LDA_SRC:%.c=$(BUILD)/%.o)) $(SIEVE_OBJ)

UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

EXTRA_CFLAGS = $(DB_CFLAGS) $(LDAP_CFLAGS) $(SSL_CFLAGS) $(DKIM_CFLAGS)

.PHONY: all check asan test deps install demo demo-stop bench clean
all: $(BINS) $(UNIT_BINS)

# -MMD -MP: every object depends on the headers it really includes
# (build/**/*.d, read below), so a changed header rebuilds what uses it.
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/postern-maps: $(MAPS_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SSL_LIBS) -lpthread

$(BUILD)/postern-policyd: $(POLICYD_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SPF_LIBS) $(LDAP_LIBS) -lpthread

$(BUILD)/postern-milter: $(MILTER_SRC:%.c=$(BUILD)/%.o) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(MILTER_LIBS) $(DKIM_LIBS) $(SPF_LIBS) $(LDAP_LIBS) $(DB_LIBS) $(SSL_LIBS)

# postern-lda starts once per delivery in pipe mode.  `make LDA_STATIC=yes`
# links libmariadb, OpenSSL and zlib statically (when their archives are
# installed), which saves ~2 ms of loading per process, at the price that
# security updates of those libraries need a rebuild (docs/lda.md).  The
# default is dynamic linking.
LDA_STATIC ?= no
LDA_STATIC_OK = $(and $(filter yes,$(LDA_STATIC)),$(filter /%,$(shell $(CC) -print-file-name=libmariadb.a)),$(filter /%,$(shell $(CC) -print-file-name=libcrypto.a)))
LDA_LIBS_STATIC = $(filter -L%,$(DB_LIBS)) -Wl,-Bstatic -lmariadb -lssl -lcrypto -lz -Wl,-Bdynamic -ldl -lm -lpthread
LDA_LIBS = $(if $(LDA_STATIC_OK),$(LDA_LIBS_STATIC),$(DB_LIBS) $(SSL_LIBS))
$(BUILD)/postern-lda: $(LDA_SRC:%.c=$(BUILD)/%.o) $(SIEVE_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDA_LIBS)

$(BUILD)/postern-sieve: $(BUILD)/lda/tools/sieve.o $(SIEVE_TOOL_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SSL_LIBS)

$(BUILD)/postern-sieve-test: $(BUILD)/lda/tools/sieve-test.o $(SIEVE_TOOL_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SSL_LIBS)

# postern-managesieve compiles scripts with the engine (like the tools)
$(BUILD)/postern-managesieve: $(MANAGESIEVE_SRC:%.c=$(BUILD)/%.o) $(SIEVE_TOOL_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(LDAP_LIBS) $(SSL_LIBS) -lcrypt

# Unit tests link the whole library; a test of a daemon module names it in
# its first line as "// links: maps/cache.c ..." (see tests/unit/README.md).
$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB_A) $(BINS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(EXTRA_CFLAGS) -MMD -MP -Itests/unit -o $@ $< \
	    $(shell sed -n '1s|^// links: ||p' $<) $(LIB_A) \
	    $(LDFLAGS_ALL) $(DB_LIBS) $(SSL_LIBS) $(LDAP_LIBS) -lpthread

deps:
	@scripts/deps

test: all
	BUILD=$(BUILD) tests/run

check: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/run

asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    BUILD=build-asan tests/run

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) scripts/demo $(DEMO_ARGS)

demo-stop:
	scripts/demo --stop

bench: all
	@for b in bench/*; do [ -x "$$b" ] && echo "== $$b" && "$$b"; done

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(PREFIX)/share/postern/sql/migrations \
	    $(DESTDIR)$(PREFIX)/share/doc/postern
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 755 scripts/postern-postconf $(DESTDIR)$(PREFIX)/sbin/
	install -m 640 conf/postern.conf $(DESTDIR)$(SYSCONFDIR)/postern.conf.example
	install -d $(DESTDIR)$(PREFIX)/share/postern/postfix $(DESTDIR)$(PREFIX)/share/postern/mysql
	install -m 644 conf/postfix/main.cf conf/postfix/master.cf $(DESTDIR)$(PREFIX)/share/postern/postfix/
	install -m 644 conf/mysql/*.cf $(DESTDIR)$(PREFIX)/share/postern/mysql/
	install -m 644 sql/*.sql $(DESTDIR)$(PREFIX)/share/postern/sql/
	install -m 755 sql/migrate $(DESTDIR)$(PREFIX)/share/postern/sql/
	install -m 644 sql/migrations/*.sql $(DESTDIR)$(PREFIX)/share/postern/sql/migrations/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/postern/

clean:
	rm -rf build build-asan
