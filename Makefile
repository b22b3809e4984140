# tidegate - one Makefile for the library, the programs and the tests.
#
#   make                     build everything into $(O)/
#   make DEVELOPER=1         ... with -Werror
#   make SANITIZE=address,undefined   instrumented build (in build-san/)
#   make check               install missing packages, build, run every test with prove
#   make demo                the whole push -> gate -> webhook -> cluster flow
#   make install PREFIX=/usr/local DESTDIR=
#   make bench               benchmarks against the tools tidegate replaces

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/tidegate
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR ?=
PKG_CONFIG ?= pkg-config
CC ?= cc
PROVE ?= prove
PROVE_JOBS ?= 2

ifdef SANITIZE
O ?= build-san
else
O ?= build
endif

PKGS = yaml-0.1 libevent libevent_openssl libcjson libcurl openssl
# Expanded only when a compile or link needs them, so `make deps` works
# on a machine that does not have them yet.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))
# The lint and gate programs name only what they use, so they never load
# libcurl or OpenSSL (whatever the linker's --as-needed default). So does
# tidegate-post-receive: it signs with lib/sha256.c and opens libcurl
# with dlopen() only for https, hence only -ldl on top.
LEAN_PKGS = yaml-0.1 libcjson
LEAN_LIBS = $(shell $(PKG_CONFIG) --libs $(LEAN_PKGS)) -lm

WARNINGS = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-Wpointer-arith -Wformat-security -Wvla -Wwrite-strings
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -MMD -MP \
	-include lib/banned.h -Ilib $(PKG_CFLAGS) \
	-DTIDEGATE_VERSION='"$(VERSION)"' -DTIDEGATE_DATADIR='"$(DATADIR)"'
ALL_LDFLAGS = $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread -lm

ifdef DEVELOPER
ALL_CFLAGS += -Werror
endif
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRCS = $(sort $(wildcard lib/*.c))
KUBE_SRCS = cli/kube-main.c cli/cmd-apply.c cli/cmd-schema.c
CLI_SRCS = $(filter-out $(KUBE_SRCS),$(sort $(wildcard cli/*.c)))
DAEMON_SRCS = $(sort $(wildcard webhookd/*.c))
HOOK_MAINS = hooks/pre-receive.c hooks/post-receive.c
HOOK_SRCS = $(filter-out $(HOOK_MAINS),$(sort $(wildcard hooks/*.c)))
UNIT_SRCS = $(sort $(wildcard tests/unit/t-*.c))

LIB = $(O)/libtidegate.a
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=$(O)/%.o)
KUBE_OBJS = $(KUBE_SRCS:%.c=$(O)/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(O)/%.o)
HOOK_OBJS = $(HOOK_SRCS:%.c=$(O)/%.o)
UNIT_TESTS = $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%.t)

PROGRAMS = $(O)/bin/tidegate $(O)/bin/tidegate-kube $(O)/bin/tidegated \
	$(O)/bin/tidegate-pre-receive $(O)/bin/tidegate-post-receive

.PHONY: all deps check test unit-tests sandbox-build demo bench install install-files uninstall clean schemas
.DEFAULT_GOAL := all
# Keep objects made through chained rules (unit tests, hook mains).
.SECONDARY:

all: $(PROGRAMS) $(UNIT_TESTS)

deps:
	@install/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

$(O)/bin/tidegate: $(CLI_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LEAN_LIBS)

$(O)/bin/tidegate-kube: $(KUBE_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(KUBE_OBJS) $(LIB) $(LIBS)

$(O)/bin/tidegated: $(DAEMON_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) $(LIBS)

$(O)/bin/tidegate-pre-receive: $(O)/hooks/pre-receive.o $(HOOK_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(HOOK_OBJS) $(LIB) $(LEAN_LIBS)

$(O)/bin/tidegate-post-receive: $(O)/hooks/post-receive.o $(HOOK_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(HOOK_OBJS) $(LIB) $(LEAN_LIBS) -ldl

$(O)/tests/%.t: $(O)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# Cluster tests need the sandbox binaries; building them is slow the first
# time (see tests/cluster/README.md) and cached outside the tree after.
sandbox-build:
	@if [ -z "$$TIDEGATE_SKIP_CLUSTER" ] && [ -x tests/cluster/build ]; then tests/cluster/build; fi

TEST_ENV = TIDEGATE_SRC=$(CURDIR) TIDEGATE_BUILD=$(abspath $(O)) \
	PATH=$(abspath $(O))/bin:$$PATH \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The README's test command: set-up included.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory sandbox-build
	@$(MAKE) --no-print-directory test

test: all
	$(TEST_ENV) $(PROVE) -j$(PROVE_JOBS) --timer --failures --comments --exec '' $(UNIT_TESTS) $(sort $(wildcard tests/t[0-9]*.sh))

demo: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory sandbox-build
	@$(TEST_ENV) install/demo.sh

# Maintainers: regenerate the bundled schemas (data/schemas) from a sandbox
# cluster's /openapi/v3 and the pinned release's checked-in OpenAPI files.
KUBE_PIN = $(shell sed -n 's|^\s*k8s.io/kubernetes \(v[0-9.]*\).*|\1|p' tests/cluster/go.mod | head -1)
schemas: all
	rm -rf $(O)/openapi-raw
	tests/cluster/dump-schemas $(O)/openapi-raw
	$(O)/bin/tidegate schema compact --out data/schemas $(O)/openapi-raw \
		"$$(go env GOMODCACHE)/k8s.io/kubernetes@$(KUBE_PIN)/api/openapi-spec/v3"

bench: all
	@$(TEST_ENV) bench/run

# `install` builds first; `install-files` only copies what is built (the
# tests use it, so a test never rebuilds objects under a running suite).
install: all
	@$(MAKE) --no-print-directory install-files

install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	@if [ -d docs/man ]; then \
		for f in docs/man/*.[0-9]; do \
			s=$${f##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
			install -m 644 $$f $(DESTDIR)$(MANDIR)/man$$s/; \
		done; fi
	@if [ -d data/schemas ]; then cp -R data/schemas $(DESTDIR)$(DATADIR)/; fi
	@if [ -f install/tidegated.service ]; then \
		install -d $(DESTDIR)$(PREFIX)/lib/systemd/system; \
		install -m 644 install/tidegated.service $(DESTDIR)$(PREFIX)/lib/systemd/system/; fi
	@if [ -f install/tidegated.example.yaml ]; then \
		install -m 644 install/tidegated.example.yaml $(DESTDIR)$(DATADIR)/; fi
	@if [ -d install/kubernetes ]; then \
		install -d $(DESTDIR)$(DATADIR)/kubernetes; \
		install -m 644 install/kubernetes/*.yaml install/kubernetes/README.md \
			$(DESTDIR)$(DATADIR)/kubernetes/; fi

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGRAMS)))
	rm -f $(DESTDIR)$(MANDIR)/man1/tidegate.1 $(DESTDIR)$(MANDIR)/man8/tidegated.8 \
		$(DESTDIR)$(MANDIR)/man5/tidegate.yaml.5 \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/tidegated.service
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-san

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(KUBE_OBJS:.o=.d) $(DAEMON_OBJS:.o=.d) $(HOOK_OBJS:.o=.d) \
	$(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%.d) $(HOOK_MAINS:%.c=$(O)/%.d)
