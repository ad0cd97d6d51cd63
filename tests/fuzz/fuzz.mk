# tests/fuzz/fuzz.mk - libFuzzer harnesses (included by the top Makefile).
#
#   make fuzz                       build every harness, run each FUZZ_SECONDS (20)
#   make fuzz FUZZ_SECONDS=10       the short run CI does
#   make fuzz-build                 build only: $(O)/fuzz/fuzz_<target>
#   make fuzz FUZZ_TARGETS=jwt FUZZ_SECONDS=3600 FUZZ_JOBS=2   one long run
#
# Everything (product sources and harness) is compiled by clang with
# -fsanitize=fuzzer-no-link,address,undefined into $(O)/fuzz/; the product
# build is untouched. Seed corpora: tests/fuzz/corpus/<target>/ (read only;
# new inputs go to $(O)/fuzz/corpus/<target>/). Crashes: $(O)/fuzz/crash-*.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_JOBS ?= 1
FUZZ_DIR := $(O)/fuzz
FUZZ_ALL := b64url conf userdb nss jwt aadpasswd sshcert groupdb
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
	-std=c11 -D_GNU_SOURCE -fPIC -Wall -Wextra -Wno-unused-parameter \
	-DEL_SYSCONFDIR='"$(SYSCONFDIR)"' -DEL_STATEDIR='"$(LOCALSTATEDIR)/entra-login"' \
	-iquote common/base -iquote common/net -iquote nss -MMD -MP
FUZZ_LDFLAGS := -fsanitize=fuzzer $(FUZZ_SAN)

fuzz_obj = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(1))
FUZZ_BASE_OBJ := $(call fuzz_obj,$(BASE_SRC))
FUZZ_NET_OBJ := $(call fuzz_obj,$(NET_SRC))
FUZZ_NSS_OBJ := $(call fuzz_obj,$(NSS_SRC))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_b64url: $(call fuzz_obj,tests/fuzz/fuzz_b64url.c) $(FUZZ_NET_OBJ) $(FUZZ_BASE_OBJ)
$(FUZZ_DIR)/fuzz_jwt: $(call fuzz_obj,tests/fuzz/fuzz_jwt.c) $(FUZZ_NET_OBJ) $(FUZZ_BASE_OBJ)
$(FUZZ_DIR)/fuzz_sshcert: $(call fuzz_obj,tests/fuzz/fuzz_sshcert.c) $(FUZZ_NET_OBJ) $(FUZZ_BASE_OBJ)
$(FUZZ_DIR)/fuzz_conf $(FUZZ_DIR)/fuzz_userdb $(FUZZ_DIR)/fuzz_aadpasswd $(FUZZ_DIR)/fuzz_groupdb: $(FUZZ_DIR)/fuzz_%: $(call fuzz_obj,tests/fuzz/fuzz_%.c) $(FUZZ_BASE_OBJ)
$(FUZZ_DIR)/fuzz_nss: $(call fuzz_obj,tests/fuzz/fuzz_nss.c) $(FUZZ_NSS_OBJ) $(FUZZ_BASE_OBJ)
$(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_ALL)):
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) -o $@ $^ $(FUZZ_LDFLAGS) -lpthread $(NET_LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

fuzz: fuzz-build
	$(Q)FUZZ_DIR=$(abspath $(FUZZ_DIR)) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
		bash tests/fuzz/run.sh $(FUZZ_TARGETS)
