# zcopy: convenience entry points around meson.  See README.md.
#   make demo    install missing packages, build, run probe + bench
#   make check   install missing packages, build (plain + ASan/UBSan), run
#                every test, lint and fuzz; ends with a summary line
BUILD ?= build
SAN_BUILD ?= build-san
MESON_OPTS ?=

.PHONY: all deps build build-san check demo lint format install clean

all: build

deps:
	@bash scripts/deps.sh

# The project's own builds are strict (werror) and the plain one uses LTO;
# meson's defaults leave both to whoever builds.
$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true -Db_lto=true $(MESON_OPTS)

# The sanitizer build uses clang so the same build can link libFuzzer.
$(SAN_BUILD)/build.ninja:
	CC=clang meson setup $(SAN_BUILD) -Db_sanitize=address,undefined \
		-Db_lundef=false -Db_lto=false -Dfuzz=enabled -Dbuildtype=debug \
		-Dwerror=true $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-san: $(SAN_BUILD)/build.ninja
	ninja -C $(SAN_BUILD)

check: deps
	@$(MAKE) --no-print-directory build build-san
	@bash scripts/run-tests.sh $(BUILD) $(SAN_BUILD)

demo: deps
	@$(MAKE) --no-print-directory build
	@bash scripts/demo.sh $(BUILD)

lint: build
	meson test -C $(BUILD) --suite lint --print-errorlogs

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
