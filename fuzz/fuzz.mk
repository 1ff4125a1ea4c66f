# fuzz/fuzz.mk - libFuzzer targets (included by the top-level Makefile).
#
#   make fuzz-build     build every fuzz/fuzz_NAME.c into $(FUZZ_BUILD)/fuzz/
#   make fuzz           fuzz each target for FUZZ_SECONDS (default 60), one
#                       at a time (FUZZ_TARGETS="netstring addr" for some)
#   make fuzz-check     every target over its corpus plus a short run; the
#                       same as `tests/run fuzz`, which `make check` runs
#
# The fuzz tree is a separate object tree, $(BUILD)/clang (every build
# directory has its own; `make clean` removes it), compiled by Debian's
# clang 14 with -fsanitize=fuzzer-no-link,address,undefined; each target links
# -fsanitize=fuzzer.  UBSan reports abort (-fno-sanitize-recover), so
# libFuzzer counts them as crashes.  Clang's warnings are not errors there:
# the gcc build is the one that keeps the tree warning-free.
# docs/dev/fuzzing.md lists the targets, what each feeds and its findings.

FUZZ_BUILD ?= $(BUILD)/clang
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_SRC = $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SAN = -fsanitize=fuzzer-no-link,address,undefined \
           -fno-sanitize-recover=undefined
FUZZ_OPT = -O1 -g -fno-omit-frame-pointer
# the archives every target may link (only the members it uses are taken)
FUZZ_LINK = $(foreach d,$(PROG_DIRS),$(call PROG_A,$(d))) $(SIEVE_A) $(LIB_A)
FUZZ_INC = $(foreach d,$(PROG_DIRS),-I$(d)) -Ilib-sieve -Ilib -Ifuzz

.PHONY: fuzz fuzz-build fuzz-check fuzz-bins
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
	    OPT="$(FUZZ_OPT)" SAN="$(FUZZ_SAN)" CFLAGS="-Wno-error -Wno-format-nonliteral" LDFLAGS= \
	    fuzz-bins

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/%: fuzz/%.c fuzz/fuzz.h $(FUZZ_LINK)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(OPT) $(subst fuzzer-no-link,fuzzer,$(SAN)) \
	    $(CFLAGS) $(FUZZ_INC) $(EXT_CFLAGS) -o $@ $< $(FUZZ_LINK) \
	    $(ALL_LIBS)

fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) fuzz/run --fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-check: fuzz-build
	BUILD=$(BUILD) tests/run fuzz
