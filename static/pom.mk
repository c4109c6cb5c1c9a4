# static/pom.mk — the pom-proxy part of the static build (static/build.sh
# runs it): the sources of sources.mk, with its flags and include paths as
# the GNUmakefile uses them, compiled with musl-gcc and linked statically
# with the BearSSL, libcurl and json-c of static/deps.sh. Run from the repository
# root.
#   make -f static/pom.mk O=OBJDIR OUT=BINARY DEPS=PREFIX VERSION=X CC=musl-gcc

include sources.mk
OBJS := $(POM_SRCS:%.c=$(O)/%.o)

POM_CFLAGS := $(POM_STD) -I$(DEPS)/include \
	-DPOM_VERSION='"$(VERSION)"' -DPOM_CURL_STATIC -DPOM_JSON_STATIC -Os -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
POM_LDFLAGS := -static -Wl,--gc-sections -L$(DEPS)/lib
LIBS := -lcurl -ljson-c -lbearssl

# the flags are part of every object: a change rebuilds them all
$(O)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(POM_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(POM_CFLAGS)' >$@

$(OUT).full: $(OBJS) $(DEPS)/lib/libcurl.a $(DEPS)/lib/libjson-c.a $(DEPS)/lib/libbearssl.a
	$(CC) $(POM_LDFLAGS) -Wl,-Map=$(OUT).map -o $@ $(OBJS) $(LIBS)

$(OUT): $(OUT).full
	strip -o $@.tmp $< && mv $@.tmp $@

$(O)/%.o: %.c $(O)/flags
	@mkdir -p $(@D)
	$(CC) $(POM_CFLAGS) $(call pom_includes,$<) -MMD -MP -c -o $@ $<

.PHONY: FORCE
-include $(OBJS:.o=.d)
