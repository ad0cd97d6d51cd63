# entra-login - one non-recursive Makefile. Output goes to $(O).
#   make            build the PAM module, the NSS module and the CLI
#   make check      install missing packages, build, run every test
#   make bench      benchmarks (printed figures, no pass/fail)
#   make SAN=address,undefined check    the suite under ASan+UBSan (= make check-san)
#   make fuzz [FUZZ_SECONDS=20]   libFuzzer harnesses (tests/fuzz/README.md)
#   make valgrind   unit binaries and a pamtester/CLI subset under valgrind
#   make mutate     one-line mutations of security checks must each fail a test (tests/mutate/)
#   make install DESTDIR=... PREFIX=... SYSCONFDIR=... LIBDIR=... PAMDIR=... LIBEXECDIR=...
#   make deb, make rpm   packages, built in $(O)/pkg/ from a copy of the tree

O ?= build
PREFIX ?= /usr
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var/lib
MULTIARCH ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
LIBDIR ?= /lib/$(MULTIARCH)
PAMDIR ?= $(LIBDIR)/security
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR ?= $(PREFIX)/share
PYTHON ?= /usr/bin/python3

# The release version: VERSION is the single source; debian/changelog's top entry and the rpm
# spec's Version: must agree (make check-version, run by deb and rpm).
VERSION := $(shell cat VERSION)

CC ?= cc
CFLAGS ?= -O2 -g
ifneq ($(SAN),)
CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SAN) -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SAN)
O := build-san
endif
# Sanitizer builds: our executables send their reports to files the test suite checks
# (tests/san/san_hooks.c says why).
SAN_HOOK := $(if $(SAN),$(O)/tests/san/san_hooks.o)
CFLAGS += -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -Wall -Wextra -Werror \
	-Wformat=2 -Wshadow -Wvla -Wstrict-prototypes -Wmissing-prototypes \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP \
	-DEL_SYSCONFDIR='"$(SYSCONFDIR)"' -DEL_STATEDIR='"$(LOCALSTATEDIR)/entra-login"' \
	-DEL_PAM_HELPER='"$(LIBEXECDIR)/entra-login/pam-helper"' -DEL_VERSION='"$(VERSION)"' \
	-DEL_RUNDIR='"/run/entra-login"' \
	-iquote common/base -iquote common/net -iquote pam
LDFLAGS += -Wl,-z,relro,-z,now,-z,defs,--as-needed
# No -lcurl: common/net/http.c dlopens libcurl.so.4 on the first request (why: http.h).
NET_LIBS := -ljansson -ljwt -lcrypto -ldl

BASE_SRC := $(wildcard common/base/*.c)
NET_SRC := $(wildcard common/net/*.c)
NSS_SRC := $(wildcard nss/*.c)
PAM_SRC := $(wildcard pam/*.c)
# The helper shares the module's wire format and /etc/passwd reader (libc only).
HELPER_SRC := $(wildcard pamhelper/*.c) pam/proto.c pam/localfiles.c
CLI_SRC := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/nss/*.c tests/bench/*.c)

obj = $(patsubst %.c,$(O)/%.o,$(1))
BASE_A := $(O)/libentra-base.a
NET_A := $(O)/libentra-net.a
NSS_SO := $(O)/libnss_entra.so.2
PAM_SO := $(O)/pam_entra.so
PAM_HELPER := $(O)/pam-helper
CLI := $(O)/entra-login
# entra-ssh: the user's client (certificates, token paste); runs as the user, links the net core.
ES_SRC := $(wildcard cli/entra_ssh/*.c)
ENTRA_SSH := $(O)/entra-ssh
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
TOOLS := $(patsubst %.c,$(O)/%,$(TOOL_SRC))

ifeq ($(V),1)
Q :=
else
Q := @
endif

.SECONDARY:
.PHONY: all check unit bench deps install clean demo check-linkage valgrind check-san deb rpm selinux check-version
all: $(NSS_SO) $(PAM_SO) $(PAM_HELPER) $(CLI) $(ENTRA_SSH)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The version is compiled in (--version, status): a new VERSION rebuilds them.
$(O)/cli/main.o $(O)/cli/cmd_status.o: VERSION

$(BASE_A): $(call obj,$(BASE_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^
$(NET_A): $(call obj,$(NET_SRC))
	$(Q)rm -f $@ && ar rcs $@ $^

$(NSS_SO): $(call obj,$(NSS_SRC)) $(BASE_A) nss/nss_entra.map
	$(Q)$(CC) -shared -o $@ $(call obj,$(NSS_SRC)) $(BASE_A) $(LDFLAGS) \
		-Wl,-soname,libnss_entra.so.2,--version-script=nss/nss_entra.map
# The PAM module links libpam and libc only: the network stack lives in the helper it
# execs (pam/helper_run.c), never in su, sudo, cron or login (SECURITY.md).
$(PAM_SO): $(call obj,$(PAM_SRC)) $(BASE_A) pam/pam_entra.map
	$(Q)$(CC) -shared -o $@ $(call obj,$(PAM_SRC)) $(BASE_A) $(LDFLAGS) \
		-Wl,--version-script=pam/pam_entra.map -lpam
$(PAM_HELPER): $(call obj,$(HELPER_SRC)) $(NET_A) $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $(call obj,$(HELPER_SRC)) $(SAN_HOOK) $(NET_A) $(BASE_A) $(LDFLAGS) $(NET_LIBS)
$(CLI): $(call obj,$(CLI_SRC)) $(NET_A) $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $(call obj,$(CLI_SRC)) $(SAN_HOOK) $(NET_A) $(BASE_A) $(LDFLAGS) $(NET_LIBS)

$(ENTRA_SSH): $(call obj,$(ES_SRC)) $(NET_A) $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $(call obj,$(ES_SRC)) $(SAN_HOOK) $(NET_A) $(BASE_A) $(LDFLAGS) $(NET_LIBS)

# Unit tests (cmocka) link both static libraries; the PAM ones also libpam/libpamtest.
$(O)/tests/%: $(O)/tests/unit/%.o $(NET_A) $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $< $(SAN_HOOK) $(NET_A) $(BASE_A) $(LDFLAGS) -lcmocka -lpamtest -lpam $(NET_LIBS)
# entra-ssh's unit test links the client's objects but its main.
$(O)/tests/test_entra_ssh: $(O)/tests/unit/test_entra_ssh.o $(call obj,$(filter-out cli/entra_ssh/main.c,$(ES_SRC))) \
		$(NET_A) $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $^ $(LDFLAGS) -lcmocka $(NET_LIBS)
$(O)/tests/nss/%: $(O)/tests/nss/%.o $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $< $(SAN_HOOK) $(BASE_A) $(LDFLAGS) -ldl -lpthread
$(O)/tests/bench/%: $(O)/tests/bench/%.o $(NET_A) $(BASE_A) $(SAN_HOOK)
	$(Q)$(CC) -pie -o $@ $< $(SAN_HOOK) $(NET_A) $(BASE_A) $(LDFLAGS) -ldl -lpthread $(NET_LIBS)

unit: $(UNITS) $(TOOLS)

# libFuzzer harnesses: make fuzz [FUZZ_SECONDS=20] (rules in tests/fuzz/fuzz.mk)
include tests/fuzz/fuzz.mk

# pytest-xdist workers for check / check-san (0: one process, no workers). Most tests wait on
# sshd, sleeps and timeouts, so two workers on two cores take about 0.6x the time; groups and
# order: tests/conftest.py.
PYTEST_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

deps:
	$(Q)bash tests/install-deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)$(MAKE) --no-print-directory check-linkage
	$(Q)EL_BUILD=$(abspath $(O)) $(PYTHON) -m pytest -q -p no:cacheprovider -n $(PYTEST_JOBS) --dist loadgroup \
		tests $(PYTEST_ARGS)

# The whole suite under ASan+UBSan (build-san/); LeakSanitizer stays on in our instrumented
# binaries and is off in the uninstrumented hosts (pamtester, sshd, getent, sudo): see SECURITY.md.
# The tests of the installed packages are left out here: they build the .deb/.rpm from the tree
# without sanitizers (a package is never a sanitizer build) and drive only those binaries, so under
# check-san they would repeat `make check` (about 7 minutes) without instrumenting anything.
SAN_PKG_TESTS := test_installed.py test_installed_cert.py test_installed_env.py test_upgrade.py \
	test_rpm.py test_selinux.py
check-san:
	$(Q)$(MAKE) --no-print-directory SAN=address,undefined \
		PYTEST_ARGS="$(foreach t,$(SAN_PKG_TESTS),--ignore=tests/integration/$(t)) $(PYTEST_ARGS)" check

# The cmocka unit binaries, then a representative set of pamtester and CLI runs, under valgrind
# (the slow_down test is left out: its 5 s steps against a 20 s login_timeout are pure timing).
# --trace-children: the PAM helper (pam-helper) runs under valgrind too. Its report goes to its
# stderr, /dev/null, but its exit code 99 makes the module fail the login, so the test fails.
VALGRIND ?= valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--num-callers=30 --trace-children=yes
VALGRIND_TESTS ?= tests/integration/test_pam_token.py tests/integration/test_pam_device.py \
	tests/integration/test_token_corpus.py \
	tests/integration/test_cert_corpus.py::test_refusal_corpus_through_authorized_keys \
	tests/integration/test_hostile.py::test_hostile_preferred_username_in_id_token_refused \
	tests/integration/test_faults.py::test_cached_keys_validate_offline \
	tests/integration/test_faults.py::test_local_user_unaffected_while_idp_down \
	"tests/integration/test_faults.py::test_endpoint_fault[discovery-huge]" \
	"tests/integration/test_faults.py::test_endpoint_fault[jwks-badjson]" \
	"tests/integration/test_faults.py::test_endpoint_fault[devicecode-stall]" \
	"tests/integration/test_faults.py::test_endpoint_fault[arm-status500]" \
	--deselect tests/integration/test_pam_device.py::test_slow_down_grows_the_interval
valgrind: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)printf '%s\n' $(UNITS) | xargs -P $(or $(filter-out 0,$(PYTEST_JOBS)),1) -I{} sh -c \
		'echo "  VALGRIND {}"; $(VALGRIND) {} >{}.valgrind.log 2>&1 || { cat {}.valgrind.log; exit 1; }'
	$(Q)EL_BUILD=$(abspath $(O)) EL_PAM_WRAPPER="$(VALGRIND)" EL_CLI_WRAPPER="$(VALGRIND)" \
		$(PYTHON) -m pytest -q -p no:cacheprovider -n $(PYTEST_JOBS) --dist loadgroup $(VALGRIND_TESTS)

# Mutation checks (tests/mutate/README.md): ~20 min, not part of check or CI.
.PHONY: mutate
mutate: deps
	$(Q)$(PYTHON) tests/mutate/run.py $(MUTATE_ARGS)

check-linkage: $(NSS_SO) $(PAM_SO) $(PAM_HELPER) $(CLI)
	$(Q)bash tests/check-linkage.sh $(NSS_SO) $(PAM_SO) $(PAM_HELPER) $(CLI)

bench: deps
	$(Q)$(MAKE) --no-print-directory all unit
	$(Q)EL_BUILD=$(abspath $(O)) bash tests/bench/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)EL_BUILD=$(abspath $(O)) bash tests/demo.sh

install: all
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)
	install -d $(DESTDIR)$(LIBEXECDIR)/entra-login
	install -d $(DESTDIR)$(BINDIR)
	install -m 0644 $(PAM_SO) $(DESTDIR)$(PAMDIR)/pam_entra.so
	install -m 0755 $(PAM_HELPER) $(DESTDIR)$(LIBEXECDIR)/entra-login/pam-helper
	install -m 0644 $(NSS_SO) $(DESTDIR)$(LIBDIR)/libnss_entra.so.2
	install -m 0755 $(CLI) $(DESTDIR)$(SBINDIR)/entra-login
	install -m 0755 $(ENTRA_SSH) $(DESTDIR)$(BINDIR)/entra-ssh
	test -e $(DESTDIR)$(SYSCONFDIR)/entra-login.conf || \
		install -m 0644 conf/entra-login.conf $(DESTDIR)$(SYSCONFDIR)/entra-login.conf
	install -d -m 0755 $(DESTDIR)$(LOCALSTATEDIR)/entra-login

# Packages: `make deb`, `make rpm`. Each builds from a copy of the source tree
# (git's tracked and untracked-but-not-ignored files) in $(O)/pkg/ and writes
# nothing outside it. Results: $(O)/pkg/deb/*.deb, $(O)/pkg/rpm/RPMS/*/*.rpm.
PKG_VERSION := $(VERSION)
DEB_CHANGELOG_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' packaging/debian/changelog)
RPM_SPEC_VERSION := $(shell sed -n 's/^Version:[[:space:]]*//p' packaging/rpm/entra-login.spec)
PKG_DIR = $(abspath $(O))/pkg
# The inner build must not inherit this make's flags (-j, ...) nor its command-line
# variables (make exports those): O=, SAN= or a path would build or install elsewhere.
PKG_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u GNUMAKEFLAGS \
	-u O -u SAN -u DESTDIR -u PREFIX -u SYSCONFDIR -u LOCALSTATEDIR -u MULTIARCH -u LIBDIR \
	-u PAMDIR -u BINDIR -u SBINDIR -u DATADIR -u LIBEXECDIR
RPMBUILD_DEPS ?= $(if $(wildcard /etc/debian_version),--nodeps)

check-version:
	$(Q)test "$(DEB_CHANGELOG_VERSION)" = "$(VERSION)" || \
		{ echo "VERSION is $(VERSION) but packaging/debian/changelog says $(DEB_CHANGELOG_VERSION)" >&2; exit 1; }
	$(Q)test "$(RPM_SPEC_VERSION)" = "$(VERSION)" || \
		{ echo "VERSION is $(VERSION) but packaging/rpm/entra-login.spec says $(RPM_SPEC_VERSION)" >&2; exit 1; }

deb: check-version
	$(Q)rm -rf $(PKG_DIR)/deb
	$(Q)packaging/stage-tree $(PKG_DIR)/deb/entra-login-$(PKG_VERSION)
	$(Q)cp -R packaging/debian $(PKG_DIR)/deb/entra-login-$(PKG_VERSION)/debian
	$(Q)cd $(PKG_DIR)/deb/entra-login-$(PKG_VERSION) && $(PKG_ENV) dpkg-buildpackage -us -uc -b
	@ls -1 $(PKG_DIR)/deb/*.deb

rpm: check-version
	$(Q)rm -rf $(PKG_DIR)/rpm
	$(Q)mkdir -p $(PKG_DIR)/rpm/SOURCES $(PKG_DIR)/rpm/SPECS $(PKG_DIR)/rpm/tmp
	$(Q)packaging/stage-tree $(PKG_DIR)/rpm/stage/entra-login-$(PKG_VERSION)
	$(Q)tar -C $(PKG_DIR)/rpm/stage -czf $(PKG_DIR)/rpm/SOURCES/entra-login-$(PKG_VERSION).tar.gz \
		entra-login-$(PKG_VERSION)
	$(Q)cp packaging/rpm/entra-login.spec $(PKG_DIR)/rpm/SPECS/
	$(Q)$(PKG_ENV) HOME=$(PKG_DIR)/rpm rpmbuild -bb $(RPMBUILD_DEPS) \
		--define "_topdir $(PKG_DIR)/rpm" --define "_tmppath $(PKG_DIR)/rpm/tmp" \
		$(PKG_DIR)/rpm/SPECS/entra-login.spec
	@ls -1 $(PKG_DIR)/rpm/RPMS/*/*.rpm

# The SELinux policy module (packaging/selinux/) alone, against this host's policy headers
# (Debian: selinux-policy-dev, refpolicy; Fedora/RHEL: selinux-policy-devel): $(O)/selinux/entra_login.pp.
# `make rpm` builds it again inside rpmbuild for the entra-login-selinux package.
SELINUX_DEVEL_MK ?= /usr/share/selinux/devel/Makefile
selinux:
	$(Q)rm -rf $(O)/selinux && mkdir -p $(O)/selinux
	$(Q)cp packaging/selinux/entra_login.te packaging/selinux/entra_login.fc packaging/selinux/entra_login.if $(O)/selinux/
	$(Q)$(PKG_ENV) $(MAKE) --no-print-directory -C $(O)/selinux -f $(SELINUX_DEVEL_MK) entra_login.pp

clean:
	rm -rf build build-san

# (not under $(O)/pkg: package builds have their own tree, and directories named *.d)
-include $(shell find $(O) -path $(O)/pkg -prune -o -name '*.d' -type f -print 2>/dev/null)
