# postern - top-level build.
#
#   make            build the four daemons and the tools
#   make check      install missing Debian packages, build, run every test
#   make asan       the same with AddressSanitizer + UBSan (build-asan/)
#   make demo       bring up the private stack with the sample data
#   make install    install under $(DESTDIR)$(PREFIX)
#   make bench      run the benchmarks in bench/ (not part of check)
#   make galera     postern on a real 3-node Galera cluster (tests/galera/;
#                   not part of check, CI runs it after check)
#   make fuzz       fuzz every parser for FUZZ_SECONDS each (fuzz/fuzz.mk);
#                   make check runs each briefly (tests/integration/fuzz.sh)

PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc/postern
# systemd units of the daemons (conf/systemd/, docs/operations.md)
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
# man pages (man/*.1, *.5, *.8: the source, man(7) format)
MANDIR ?= $(PREFIX)/share/man
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config

WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CSTD    = -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g
SAN     ?=
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
# postern-milter's DMARC evaluation (milter/dmarc.c): record parsing
OPENDMARC_LIBS = -lopendmarc
# postern dmarc (admin/dmarc*.c): libxml2, libzip, zlib
XML_CFLAGS  = $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null)
DMARC_LIBS  = $(shell $(PKG_CONFIG) --libs libxml-2.0 libzip zlib 2>/dev/null)

# --- layers -----------------------------------------------------------------
# lib/        libpostern.a        knows no program
# lib-sieve/  libpostern-sieve.a  the Sieve engine; depends on lib/ only
# PROG/       PROG.a              a program's logic without its main.c
# tools/                          postern-sieve, postern-sieve-test
# Each layer is compiled with the include paths it may use and no other, so
# a header of a higher layer cannot be included by accident; `make layering`
# also rejects relative includes that climb out of a directory.
LIB_SRC  = $(filter-out $(LDAPMOD_MAIN),$(wildcard lib/*.c))
LIB_A    = $(BUILD)/libpostern.a
SIEVE_SRC = $(wildcard lib-sieve/*.c)
SIEVE_A  = $(BUILD)/libpostern-sieve.a

PROG_DIRS = maps policyd milter lda managesieve dirsync forward
PROGS = postern-maps postern-policyd postern-milter postern-lda \
        postern-sieve postern-sieve-test postern-managesieve postern-dirsync \
        postern-forward postern
BINS  = $(PROGS:%=$(BUILD)/%)
# modules loaded at run time (lib/ldapload.h), installed in MODULE_DIR
MODULES = $(BUILD)/postern-ldap.so
MODULE_DIR ?= $(PREFIX)/lib/postern

# PROG_A(dir): the program archive; PROG_OBJ(dir): its objects without main
PROG_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(1)/main.c,$(wildcard $(1)/*.c)))
PROG_A   = $(BUILD)/$(1).a

# Unit tests mirror the layout: tests/unit/DIR/test_NAME.c tests DIR and
# links DIR's archive and the layers below it (UNIT_LINK_DIR).
UNIT_SRC  = $(wildcard tests/unit/*/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

EXT_CFLAGS = $(DB_CFLAGS) $(LDAP_CFLAGS) $(SSL_CFLAGS) $(DKIM_CFLAGS)
ALL_LIBS = $(MILTER_LIBS) $(DKIM_LIBS) $(OPENDMARC_LIBS) $(SPF_LIBS) $(LDAP_LIBS) $(DB_LIBS) \
           $(SSL_LIBS) -lpsl -lcrypt -lpthread $(SIEVE_LIBS)
# the Sieve engine's own: libunistring for i;unicode-casemap (RFC 5051)
SIEVE_LIBS = -lunistring

# include paths per layer
INC_lib       = -Ilib
INC_lib-sieve = -Ilib-sieve -Ilib
INC_tools     = -Itools -Ilib-sieve -Ilib
INC_prog      = -I$(1) -Ilib-sieve -Ilib
# admin/ (the `postern` command) is the top layer: it may use the programs'
# public headers, so that `postern explain` decides with their own code
INC_admin     = -Iadmin $(PROG_DIRS:%=-I%) -Ilib-sieve -Ilib $(XML_CFLAGS)
layer_inc = $(if $(INC_$(1)),$(INC_$(1)),$(call INC_prog,$(1)))

.PHONY: all check asan test deps install demo demo-stop bench clean layering galera
all: $(BINS) $(MODULES) $(UNIT_BINS)
# progs: the programs only (debian/rules, make install)
.PHONY: progs
progs: $(BINS) $(MODULES)

# -MMD -MP: every object depends on the headers it really includes
# (build/**/*.d, read below), so a changed header rebuilds what uses it.
$(BUILD)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SAN) $(CFLAGS) $(DEFS) \
	    $(call layer_inc,$(firstword $(subst /, ,$<))) $(EXT_CFLAGS) \
	    -MMD -MP -c -o $@ $<

# where ldapload looks for its module when it is not beside the program
$(BUILD)/lib/ldapload.o $(BUILD)/pic/lib/ldapload.o: DEFS = -DPOSTERN_MODULE_DIR='"$(MODULE_DIR)"'

# postern-ldap.so (lib/ldapload.h): the LDAP client with libldap, for
# postern-lda, which loads it only when a Sieve script asks the directory.
# Its own -fPIC copies of the lib/ modules it uses; it exports only the
# table (lib/ldapmodule.map), and --no-undefined proves the list complete.
LDAPMOD_MAIN = lib/ldapmodule.c
LDAPMOD_SRC = $(LDAPMOD_MAIN) lib/ldapc.c lib/ldapgroup_ldapc.c lib/ldapfilter.c \
              lib/mem.c lib/str.c lib/log.c lib/file.c lib/config.c \
              lib/metrics.c lib/metrics_http.c
$(BUILD)/pic/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SAN) $(CFLAGS) $(DEFS) -fPIC $(INC_lib) $(EXT_CFLAGS) \
	    -MMD -MP -c -o $@ $<
$(BUILD)/postern-ldap.so: $(LDAPMOD_SRC:%.c=$(BUILD)/pic/%.o) lib/ldapmodule.map
	$(CC) $(LDFLAGS_ALL) -shared -Wl,--no-undefined \
	    -Wl,--version-script=lib/ldapmodule.map -o $@ $(filter %.o,$^) $(LDAP_LIBS) -lpthread

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

$(LIB_A): $(LIB_SRC:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

$(SIEVE_A): $(SIEVE_SRC:%.c=$(BUILD)/%.o)
	@rm -f $@
	ar rcs $@ $^

define prog_archive
$(call PROG_A,$(1)): $(call PROG_OBJ,$(1))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach d,$(PROG_DIRS),$(eval $(call prog_archive,$(d))))

$(BUILD)/postern-maps: $(BUILD)/maps/main.o $(BUILD)/maps.a $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SSL_LIBS) -lpthread

$(BUILD)/postern-policyd: $(BUILD)/policyd/main.o $(BUILD)/policyd.a $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SPF_LIBS) $(LDAP_LIBS) -lpthread

$(BUILD)/postern-milter: $(BUILD)/milter/main.o $(BUILD)/milter.a $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(MILTER_LIBS) $(DKIM_LIBS) $(OPENDMARC_LIBS) $(SPF_LIBS) $(LDAP_LIBS) $(DB_LIBS) $(SSL_LIBS) -lpsl

# postern-lda starts once per delivery in pipe mode.  `make LDA_STATIC=yes`
# links libmariadb, OpenSSL and zlib statically (when their archives are
# installed), which saves ~2 ms of loading per process, at the price that
# security updates of those libraries need a rebuild (docs/lda.md).  The
# default is dynamic linking.
LDA_STATIC ?= no
LDA_STATIC_OK = $(and $(filter yes,$(LDA_STATIC)),$(filter /%,$(shell $(CC) -print-file-name=libmariadb.a)),$(filter /%,$(shell $(CC) -print-file-name=libcrypto.a)))
LDA_LIBS_STATIC = $(filter -L%,$(DB_LIBS)) -Wl,-Bstatic -lmariadb -lssl -lcrypto -lz -Wl,-Bdynamic -ldl -lm -lpthread
LDA_LIBS = $(if $(LDA_STATIC_OK),$(LDA_LIBS_STATIC),$(DB_LIBS) $(SSL_LIBS))
$(BUILD)/postern-lda: $(BUILD)/lda/main.o $(BUILD)/lda.a $(SIEVE_A) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDA_LIBS) $(SIEVE_LIBS)

$(BUILD)/postern-sieve: $(BUILD)/tools/sieve.o $(BUILD)/tools/sieve-check.o \
                       $(BUILD)/tools/sieve-convert.o $(SIEVE_A) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SSL_LIBS) $(SIEVE_LIBS)

$(BUILD)/postern-sieve-test: $(BUILD)/tools/sieve-test.o $(SIEVE_A) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SSL_LIBS) $(SIEVE_LIBS)

$(BUILD)/postern-managesieve: $(BUILD)/managesieve/main.o $(BUILD)/managesieve.a $(SIEVE_A) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(LDAP_LIBS) $(SSL_LIBS) -lcrypt $(SIEVE_LIBS)

$(BUILD)/postern-dirsync: $(BUILD)/dirsync/main.o $(BUILD)/dirsync.a $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDAP_LIBS) $(DB_LIBS) $(SSL_LIBS) -lpthread

# postern-forward runs once per forwarded copy (pipe(8)): SRS (OpenSSL),
# the forwarding rate limit (MariaDB)
$(BUILD)/postern-forward: $(BUILD)/forward/main.o $(BUILD)/forward.a $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(DB_LIBS) $(SSL_LIBS)

# postern, the admin command: its own objects over every program's archive
ADMIN_SRC = $(wildcard admin/*.c)
PROG_ARCHIVES = $(foreach d,$(PROG_DIRS),$(call PROG_A,$(d)))
$(BUILD)/postern: $(ADMIN_SRC:%.c=$(BUILD)/%.o) $(PROG_ARCHIVES) $(SIEVE_A) $(LIB_A)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(ALL_LIBS) -lcrypt -lpsl $(DMARC_LIBS)

# the archives a unit test of DIR links, highest layer first
UNIT_LINK_lib       = $(LIB_A)
UNIT_LINK_lib-sieve = $(SIEVE_A) $(LIB_A)
UNIT_LINK_lda       = $(BUILD)/lda.a $(SIEVE_A) $(LIB_A)
UNIT_LINK_managesieve = $(BUILD)/managesieve.a $(SIEVE_A) $(LIB_A)
UNIT_LINK_admin = $(PROG_ARCHIVES) $(SIEVE_A) $(LIB_A)
UNIT_LINK_DIR = $(if $(UNIT_LINK_$(1)),$(UNIT_LINK_$(1)),$(BUILD)/$(1).a $(LIB_A))

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $$(call UNIT_LINK_DIR,$$(firstword $$(subst /, ,$$*)))
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(SAN) $(CFLAGS) -Itests/unit \
	    $(call layer_inc,$(firstword $(subst /, ,$*))) $(EXT_CFLAGS) \
	    -MMD -MP -o $@ $< $(call UNIT_LINK_DIR,$(firstword $(subst /, ,$*))) \
	    $(LDFLAGS_ALL) $(ALL_LIBS)

# layering: lib/ includes only lib/, lib-sieve/ only itself and lib/, a
# program only itself and the layers below (never another program).
layering:
	@scripts/check-layering

deps:
	@scripts/deps

test: all
	BUILD=$(BUILD) tests/run

check: deps
	$(MAKE) all
	$(MAKE) layering
	$(MAKE) fuzz-build
	BUILD=$(BUILD) tests/run

asan: deps
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 TEST_SKIP_ALONE=1 \
	    BUILD=build-asan tests/run

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) scripts/demo $(DEMO_ARGS)

demo-stop:
	scripts/demo --stop

galera: deps
	$(MAKE) all
	BUILD=$(BUILD) tests/galera/galera.sh

bench: all
	@for b in bench/*; do [ -x "$$b" ] && echo "== $$b" && "$$b"; done

install: progs
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR) \
	    $(DESTDIR)$(PREFIX)/share/postern/sql/migrations \
	    $(DESTDIR)$(PREFIX)/share/doc/postern
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	install -d $(DESTDIR)$(MODULE_DIR)
	install -m 644 $(MODULES) $(DESTDIR)$(MODULE_DIR)/
	install -m 755 scripts/postern-postconf $(DESTDIR)$(PREFIX)/sbin/
	@# 0640, group postern when it exists: the daemons (user = postern) reread it on SIGHUP (docs/configuration.md)
	install -m 640 $$(getent group postern >/dev/null && echo -g postern) conf/postern.conf $(DESTDIR)$(SYSCONFDIR)/postern.conf.example
	install -d $(DESTDIR)$(PREFIX)/share/postern/postfix $(DESTDIR)$(PREFIX)/share/postern/mysql
	install -m 644 conf/postfix/main.cf conf/postfix/master.cf $(DESTDIR)$(PREFIX)/share/postern/postfix/
	install -m 644 conf/greylist-pools.conf $(DESTDIR)$(PREFIX)/share/postern/
	install -m 644 conf/mysql/*.cf $(DESTDIR)$(PREFIX)/share/postern/mysql/
	install -m 644 sql/*.sql $(DESTDIR)$(PREFIX)/share/postern/sql/
	install -m 755 sql/migrate $(DESTDIR)$(PREFIX)/share/postern/sql/
	install -m 644 sql/migrations/*.sql $(DESTDIR)$(PREFIX)/share/postern/sql/migrations/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/postern/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	for u in conf/systemd/*.service conf/systemd/*.timer; do \
	    sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|' -e 's|/usr/local/share/|$(PREFIX)/share/|' \
	        -e 's|/etc/postern/|$(SYSCONFDIR)/|' "$$u" > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u##*/} && \
	    chmod 644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u##*/} || exit 1; \
	done

clean:
	rm -rf build build-asan

include fuzz/fuzz.mk
