# zepix — one Makefile, top to bottom.
#   make            build/zepix and plugins/<id>/plugin.so for every plugin
#   make run        install missing deps, build, run on config/zepix.json
#   make test       install missing deps, build, run every test (exit != 0 on failure)
#   make asan       the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      measured figures into BENCHMARKS.md
#   make fuzz       libFuzzer targets for a fixed budget (needs clang)
#   make install    PREFIX (default /usr/local), DESTDIR honoured; make uninstall
#   make clean

CC      ?= cc
BUILD   ?= build
SAN     ?=
PKGS    := libcurl json-c sqlite3 libmicrohttpd cairo fontconfig libseccomp
# pkg-config runs lazily (=), so `make test` can install it first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lev -ldl -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -MMD -MP -iquote src -iquote plugins -iquote bot_commands $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(LDSAN)

SRCS      := $(wildcard src/*.c) $(wildcard bot_commands/*.c)
LIB_SRCS  := $(filter-out src/main.c src/plugin_host_main.c,$(SRCS))
# Objects: src/x.c -> obj/src/x.o, bot_commands/x.c -> obj/bot_commands/cmd_x.o, so
# that no two members of the one archive share a name (src/chart.c and
# bot_commands/chart.c would both be chart.o; ar keeps only the basename).
obj_of     = $(patsubst bot_commands/%.c,$(BUILD)/obj/bot_commands/cmd_%.o,$(patsubst src/%.c,$(BUILD)/obj/src/%.o,$(1)))
OBJS      := $(call obj_of,$(SRCS))
LIB_OBJS  := $(call obj_of,$(LIB_SRCS))
LIB       := $(BUILD)/libzepix.a
BIN       := $(BUILD)/zepix
# The plugin host of isolation "process" (src/plugin_host_main.c): one plugin per process.
HOST_BIN  := $(BUILD)/zepix-plugin-host
HOST_LIBS  = $(shell pkg-config --libs json-c sqlite3 libseccomp) -ldl -lm

PLUGIN_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard plugins/*/*.c))))
PLUGIN_SOS  := $(addsuffix /plugin.so,$(PLUGIN_DIRS))
TPLUGIN_DIRS := $(patsubst tests/plugins/%/,%,$(sort $(dir $(wildcard tests/plugins/*/*.c))))
TPLUGIN_SOS  := $(TPLUGIN_DIRS:%=$(BUILD)/testplugins/%/plugin.so)

UNIT_TESTS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
# tests/ptest_<id>.c: a plugin's unit test, linked with that plugin's sources.
PLUGIN_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/ptest_*.c))
FUZZERS     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
# The EA (scripts/mt5/ZepixBridge.mq5) compiled by g++ on the MQL5 shim with the
# fake terminal (tests/mt5/README.md); run by tests/integration/test_mt5_ea.py.
MT5_TERM    := $(BUILD)/tests/mt5/zx-mt5-terminal
MT5_CXXFLAGS := -std=c++17 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -iquote tests/mt5 $(shell pkg-config --cflags json-c)

.PHONY: all run test asan bench fuzz clean deps check tests-bin mt5-shim install uninstall
.SECONDEXPANSION:

all: $(BIN) $(HOST_BIN) $(PLUGIN_SOS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/bot_commands/cmd_%.o: bot_commands/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
	@dups=$$($(AR) t $@ | sort | uniq -d); if [ -n "$$dups" ]; then \
	    echo "$@: members with the same name (one would shadow the other): $$dups" >&2; rm -f $@; exit 1; fi

$(BIN): $(BUILD)/obj/src/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(HOST_BIN): $(BUILD)/obj/src/plugin_host_main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# A plugin: every .c in its directory, only plugins/zepix_plugin.h from the host.
# Never sanitizer-instrumented: the same file is loaded by normal and asan builds.
plugins/%/plugin.so: $$(wildcard plugins/%/*.c) $$(wildcard plugins/%/*.h) plugins/zepix_plugin.h
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -fvisibility=hidden -Iplugins \
	    -o $@ $(filter %.c,$^) -lm

$(BUILD)/testplugins/%/plugin.so: $$(wildcard tests/plugins/%/*.c) plugins/zepix_plugin.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fPIC -shared -fvisibility=hidden -Iplugins \
	    -o $@ $(filter %.c,$^) $(LDSAN) -lm

$(BUILD)/tests/test_%: tests/test_%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests -o $@ $< $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS) $(CMOCKA_LIBS)

# The engine's layer, enforced by its link line (issue #16): the engine with
# only these objects and only SQLite, json-c and libev. A chat, HTTP, metrics or
# MT5 call added to the core stops tests/test_engine.c from linking.
ENGINE_OBJS := $(addprefix $(BUILD)/obj/src/,engine.o engine_async.o engine_orders.o broker_paper.o quotes.o ledger.o store.o \
                 config.o pnl.o risk.o log.o sbuf.o clock.o signal.o)
$(BUILD)/tests/test_engine: tests/test_engine.c $(ENGINE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests -o $@ $< $(ENGINE_OBJS) $(ALL_LDFLAGS) -lsqlite3 -ljson-c -lev -lm $(CMOCKA_LIBS)

$(BUILD)/tests/ptest_%: tests/ptest_%.c $$(wildcard plugins/%/*.c) $$(wildcard plugins/%/*.h) plugins/zepix_plugin.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -iquote tests -iquote plugins/$* -o $@ $(filter %.c,$^) $(ALL_LDFLAGS) -lm $(CMOCKA_LIBS) \
	    $(shell pkg-config --libs sqlite3)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRCS)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -iquote src -iquote plugins -iquote bot_commands \
	    $(PKG_CFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS)

mt5-shim: $(MT5_TERM)

deps:
	@scripts/install-deps.sh $(if $(filter test asan,$(MAKECMDGOALS)),--test)

tests-bin: all $(UNIT_TESTS) $(PLUGIN_TESTS) $(TPLUGIN_SOS) $(MT5_TERM)

$(BUILD)/tests/mt5/ZepixBridge.cpp: scripts/mt5/ZepixBridge.mq5 tests/mt5/mq5pp.py
	@mkdir -p $(@D)
	python3 tests/mt5/mq5pp.py $< $@

$(MT5_TERM): $(BUILD)/tests/mt5/ZepixBridge.cpp tests/mt5/terminal.cpp tests/mt5/mql5.h
	g++ $(MT5_CXXFLAGS) -o $@ $(BUILD)/tests/mt5/ZepixBridge.cpp tests/mt5/terminal.cpp \
	    $(shell pkg-config --libs libcurl json-c) -lpthread

# The test suite proper, on whatever BUILD holds; `test` and `asan` wrap it.
check: tests-bin
	@ZEPIX_BUILD=$(BUILD) scripts/run-tests.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BIN) -c config/zepix.json

test: deps
	@$(MAKE) --no-print-directory check

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 check

bench:
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all $(TPLUGIN_SOS) $(BUILD)/tests/test_registry
	@ZEPIX_BUILD=$(BUILD) scripts/bench/run.sh

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZERS)
	@scripts/fuzz.sh $(FUZZERS)

# make install: the layout the daemon finds its plugin host in (src/plugin_proc.c,
# ../lib/zepix/ from bin/) and the systemd unit of docs/operations.md. The
# configuration in SYSCONFDIR is installed only when there is none (never
# overwritten); every other file is replaced.
PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
INST_PLUGINS := $(filter-out plugins/_%,$(PLUGIN_DIRS))
INST_LIB    := $(DESTDIR)$(PREFIX)/lib/zepix
INST_SHARE  := $(DESTDIR)$(PREFIX)/share/zepix
SUBST_PATHS := sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: all
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/zepix
	install -D -m 0755 $(HOST_BIN) $(INST_LIB)/zepix-plugin-host
	for d in $(INST_PLUGINS); do \
	    install -D -m 0644 $$d/plugin.so $(INST_LIB)/plugins/$${d#plugins/}/plugin.so || exit 1; done
	install -D -m 0644 scripts/mt5/ZepixBridge.mq5 $(INST_SHARE)/ZepixBridge.mq5
	install -D -m 0644 scripts/mt5/README.md $(INST_SHARE)/mt5-README.md
	install -d $(INST_SHARE) $(DESTDIR)$(PREFIX)/share/doc/zepix
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/zepix/
	$(SUBST_PATHS) scripts/systemd/zepix.json >$(INST_SHARE)/zepix.example.json
	install -d $(DESTDIR)$(UNITDIR)
	$(SUBST_PATHS) scripts/systemd/zepix.service >$(DESTDIR)$(UNITDIR)/zepix.service
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/zepix
	test -e $(DESTDIR)$(SYSCONFDIR)/zepix/zepix.json || \
	    install -m 0644 $(INST_SHARE)/zepix.example.json $(DESTDIR)$(SYSCONFDIR)/zepix/zepix.json

# Leaves SYSCONFDIR/zepix (the operator's configuration and secrets) and
# /var/lib/zepix (the databases) alone.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/zepix $(DESTDIR)$(UNITDIR)/zepix.service
	rm -rf $(INST_LIB) $(INST_SHARE) $(DESTDIR)$(PREFIX)/share/doc/zepix

clean:
	rm -rf build $(PLUGIN_SOS)

-include $(OBJS:.o=.d) $(wildcard $(BUILD)/tests/*.d)
