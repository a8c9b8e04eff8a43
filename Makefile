# tern — one GNU Makefile, objects under build/.
#
#   make            build/tern (release flags)
#   make run        install missing packages, build, run on the embedded config
#   make test       install test packages, build plain and ASan+UBSan, run
#                   unit, integration and fuzz-smoke tests
#   make unit       unit tests only (sanitized build)
#   make integration, make fuzz, make bench, make lint, make format
#   make install    build/tern, the systemd unit and (if absent) the config
#                   under $(DESTDIR); make install-links adds sendmail and
#                   mailq symlinks; make uninstall removes all but the config
#   make soak       the crash test t34 with the long setting (SOAK_KILLS
#                   SIGKILLs over SOAK_SECONDS of load)
#
# Each module in src/ becomes its own archive, and a unit test links only
# the archives of its module and of the modules below it (MOD_DEPS), so a
# module can be built and tested alone.

CC      ?= cc
CLANG   ?= clang
PKGS    := libevent libevent_pthreads libevent_openssl libcares inih libcrypt openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
PKG_LIBS := -levent_openssl -levent_pthreads -levent -lcares -linih -lcrypt -lssl -lcrypto
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wformat=2 -Wvla -Wwrite-strings -Wundef -Wimplicit-fallthrough
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc -pthread $(WARN) $(PKG_CFLAGS)
REL_CFLAGS  := -O2 -g -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
REL_LDFLAGS := -pie -Wl,-z,relro,-z,now -pthread
SAN_CFLAGS  := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=address,undefined -pthread

# Modules, lowest first.  MOD_DEPS_x lists what module x may use.
MODULES := core mail ctl config policy smtp smtpc auth tls dns spool deliver queue server cli
MOD_DEPS_core    :=
MOD_DEPS_mail    := core
MOD_DEPS_ctl     := core
MOD_DEPS_config  := core
MOD_DEPS_policy  := config core
MOD_DEPS_smtp    := core
MOD_DEPS_auth    := core
MOD_DEPS_tls     := core
MOD_DEPS_smtpc   := core
MOD_DEPS_dns     := core
MOD_DEPS_spool   := core
MOD_DEPS_deliver := smtpc dns tls spool config core
MOD_DEPS_queue   := deliver smtpc dns tls spool policy config core
MOD_DEPS_server  := queue deliver smtpc dns spool smtp auth tls policy config ctl mail core
MOD_DEPS_cli     := auth config ctl mail core

mod_srcs = $(wildcard src/$(1)/*.c)

# $(call objs,variant,module)
objs = $(patsubst src/%.c,build/$(1)/obj/%.o,$(call mod_srcs,$(2)))
# $(call libs,variant,modules...) — archives in link order
libs = $(foreach m,$(2),build/$(1)/lib/$(m).a)

ALL_LIBS_ORDER := cli server queue deliver spool smtpc smtp auth tls dns policy config ctl mail core

.PHONY: all run test unit integration soak fuzz fuzz-smoke bench lint format \
	format-check check-headers check-deps deps test-deps clean san \
	install install-links uninstall
all: build/tern

# ---- objects and archives, for both variants ------------------------------
build/rel/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(REL_CFLAGS) -MMD -MP -c $< -o $@

build/san/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

define module_rules
build/rel/lib/$(1).a: $(call objs,rel,$(1))
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
build/san/lib/$(1).a: $(call objs,san,$(1))
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

build/tern: build/rel/obj/main.o $(call libs,rel,$(ALL_LIBS_ORDER))
	$(CC) $(REL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/san/tern: build/san/obj/main.o $(call libs,san,$(ALL_LIBS_ORDER))
	$(CC) $(SAN_LDFLAGS) -o $@ $^ $(PKG_LIBS)

san: build/san/tern

# ---- unit tests: tests/unit/<module>/test_*.c, sanitized ----------------
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,build/san/tests/%,$(UNIT_SRCS))
TEST_LIB_SRCS := $(wildcard tests/lib/*.c)

define unit_rule
build/san/tests/$(1)/%: tests/unit/$(1)/%.c $(TEST_LIB_SRCS) $(call libs,san,$(1) $(MOD_DEPS_$(1)))
	@mkdir -p $$(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -Itests -MMD -MP -o $$@ $$< $(TEST_LIB_SRCS) \
		$(call libs,san,$(1) $(MOD_DEPS_$(1))) $(SAN_LDFLAGS) $(PKG_LIBS) -lcmocka
endef
$(foreach m,$(MODULES),$(eval $(call unit_rule,$(m))))

unit-build: $(UNIT_BINS)
unit: unit-build
	@scripts/run-tests unit $(UNIT_BINS)

# ---- fuzz targets: fuzz/fuzz_<name>.c, clang + libFuzzer ------------------
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc -g -O1 $(WARN) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)
FUZZ_MOD_SRCS := $(call mod_srcs,core) $(call mod_srcs,mail) \
	$(call mod_srcs,config) $(call mod_srcs,spool) \
	$(call mod_srcs,auth) $(call mod_srcs,smtpc) $(call mod_srcs,dns) \
	$(call mod_srcs,policy) $(call mod_srcs,smtp) $(call mod_srcs,ctl)
build/fuzz/%: fuzz/%.c $(FUZZ_MOD_SRCS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_MOD_SRCS) $(PKG_LIBS)

FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS)
	@scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BINS)
fuzz-smoke: $(FUZZ_BINS)
	@scripts/run-fuzz 10 $(FUZZ_BINS)

# ---- integration tests: tests/integration/tNN_*/run.sh --------------------
INTEGRATION := $(sort $(wildcard tests/integration/t[0-9]*/run.sh))
integration: build/tern build/san/tern
	@TERN_BIN=$(CURDIR)/build/san/tern scripts/run-tests integration $(INTEGRATION)

# ---- install: GNU-style variables; DESTDIR stages into a tree --------------
# install needs only build/tern, so `sudo make install` after `make` builds
# nothing.  The config is installed only where none exists yet; uninstall
# leaves it.  install-links points SENDMAIL_LINK and MAILQ_LINK at the
# binary and refuses to replace anything but a link to a tern unless
# FORCE=1; uninstall removes them only if they point at $(SBINDIR)/tern.
PREFIX        ?= /usr/local
SBINDIR       ?= $(PREFIX)/sbin
SYSCONFDIR    ?= /etc
UNITDIR       ?= /lib/systemd/system
SENDMAIL_LINK ?= /usr/sbin/sendmail
MAILQ_LINK    ?= /usr/bin/mailq
INSTALL       ?= install
FORCE         ?=
TERN_CONF_DEST = $(DESTDIR)$(SYSCONFDIR)/tern/tern.conf
TERN_UNIT_DEST = $(DESTDIR)$(UNITDIR)/tern.service

install: build/tern
	$(INSTALL) -d "$(DESTDIR)$(SBINDIR)" "$(DESTDIR)$(UNITDIR)" \
		"$(DESTDIR)$(SYSCONFDIR)/tern"
	$(INSTALL) -m 0755 build/tern "$(DESTDIR)$(SBINDIR)/tern"
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		etc/tern.service >"$(TERN_UNIT_DEST).tmp"
	chmod 0644 "$(TERN_UNIT_DEST).tmp"
	mv -f "$(TERN_UNIT_DEST).tmp" "$(TERN_UNIT_DEST)"
	@if [ -e "$(TERN_CONF_DEST)" ] || [ -L "$(TERN_CONF_DEST)" ]; then \
		echo "install: keeping the existing $(TERN_CONF_DEST)"; \
	else \
		echo "$(INSTALL) -m 0644 etc/tern.conf $(TERN_CONF_DEST)"; \
		$(INSTALL) -m 0644 etc/tern.conf "$(TERN_CONF_DEST)"; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
		echo "install: edit $(SYSCONFDIR)/tern/tern.conf, then:" \
			"systemctl daemon-reload && systemctl enable --now tern"; \
	fi

install-links:
	@for l in "$(SENDMAIL_LINK)" "$(MAILQ_LINK)"; do \
		d="$(DESTDIR)$$l"; \
		if [ -d "$$d" ] && [ ! -L "$$d" ]; then \
			echo "install-links: $$d is a directory" >&2; exit 1; \
		fi; \
		if [ -L "$$d" ]; then \
			case "$$(readlink "$$d")" in */tern|tern) continue;; esac; \
		elif [ ! -e "$$d" ]; then \
			continue; \
		fi; \
		if [ "$(FORCE)" = 1 ]; then \
			echo "install-links: replacing $$d (FORCE=1)"; \
		else \
			echo "install-links: $$d exists and is not a link to tern;" \
				"remove it or run make install-links FORCE=1" >&2; \
			exit 1; \
		fi; \
	done
	@if [ ! -x "$(DESTDIR)$(SBINDIR)/tern" ]; then \
		echo "install-links: warning: $(DESTDIR)$(SBINDIR)/tern is" \
			"not installed yet (make install)" >&2; \
	fi
	@for l in "$(SENDMAIL_LINK)" "$(MAILQ_LINK)"; do \
		d="$(DESTDIR)$$l"; \
		$(INSTALL) -d "$$(dirname "$$d")" || exit 1; \
		echo "ln -sfn $(SBINDIR)/tern $$d"; \
		ln -sfn "$(SBINDIR)/tern" "$$d" || exit 1; \
	done

uninstall:
	rm -f "$(DESTDIR)$(SBINDIR)/tern" "$(TERN_UNIT_DEST)"
	@for l in "$(SENDMAIL_LINK)" "$(MAILQ_LINK)"; do \
		d="$(DESTDIR)$$l"; \
		if [ -L "$$d" ] && [ "$$(readlink "$$d")" = "$(SBINDIR)/tern" ]; then \
			echo "rm -f $$d"; rm -f "$$d" || exit 1; \
		fi; \
	done
	@if [ -e "$(TERN_CONF_DEST)" ]; then \
		echo "uninstall: kept $(TERN_CONF_DEST)"; \
	fi
# The quick setting of t34 runs in `make test`; this is the long one.
SOAK_KILLS   ?= 20
SOAK_SECONDS ?= 300
soak: build/tern build/san/tern
	@SOAK_KILLS=$(SOAK_KILLS) SOAK_SECONDS=$(SOAK_SECONDS) \
		TEST_TIMEOUT=$$(( $(SOAK_SECONDS) * 2 + 600 )) \
		TERN_BIN=$(CURDIR)/build/san/tern \
		scripts/run-tests integration tests/integration/t34_crash_soak/run.sh

# ---- entry points ---------------------------------------------------------
deps:
	@scripts/install-deps run
test-deps:
	@scripts/install-deps test

run: deps build/tern
	@scripts/make-run

test: test-deps
	@$(MAKE) --no-print-directory build/tern build/san/tern unit-build $(FUZZ_BINS)
	@scripts/run-tests all

bench: deps build/tern
	@scripts/install-deps test
	@bench/run

lint: check-headers check-deps
	@scripts/lint

check-headers:
	@scripts/check-headers

check-deps:
	@scripts/check-deps

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'fuzz/*.c')
format-check:
	clang-format --dry-run -Werror $$(git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'fuzz/*.c')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
