# Gantry: `make run` starts it (virtual printer when none is attached), `make test` runs every test.
SHELL := /bin/bash
NODE ?= node
DATA_DIR ?= $(CURDIR)/data
# the flags Gantry runs with everywhere (src/node-flags.ts says why)
NODE_FLAGS := --max-semi-space-size=1 --optimize-for-size --single-threaded
# and the environment (src/node-flags.ts: NODE_ENV), for every process started from here
export MALLOC_MMAP_THRESHOLD_ := 131072
export MALLOC_TOP_PAD_ := 2097152

.PHONY: setup build run test bench bench-soak clean test-deps fuzz soak deb image image-test image-bench

setup: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@command -v python3 >/dev/null || { echo "python3 is needed for the virtual printer's pseudo-terminal: sudo apt-get install -y python3"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

build: setup
	npx tsc -p tsconfig.json
	npx tsc -p tsconfig.web.json
	npx esbuild public/src/app.ts --bundle --minify --format=esm --target=es2022 --log-level=warning --outfile=public/js/app.js
	$(NODE) dist/src/api/precompress.js

run: build
	@command -v ffmpeg >/dev/null && cam=testsrc || { cam=none; echo "(no ffmpeg: running without the test camera; sudo apt-get install ffmpeg)"; }; \
	$(NODE) $(NODE_FLAGS) dist/src/cli.js serve --data-dir "$(DATA_DIR)" --serial auto --virtual-fallback --camera $$cam --print-api-key

# system packages the tests use: python3 (the virtual printer's PTY), a real MQTT broker, ffmpeg, and Chromium
# for the web page's browser tests
test-deps:
	@missing=""; command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	[ -x /usr/bin/chromium ] || [ -n "$$GANTRY_CHROMIUM" ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

test: build test-deps
	$(NODE) $(NODE_FLAGS) --test --test-concurrency=1 --test-timeout=600000 $$(find dist/test -name '*.test.js' | sort)

# the long HTTP fuzz run (the suite runs a short one): FUZZ_SEED (default: the clock), FUZZ_CASES (default
# 100000), FUZZ_ONLY=<case> replays one case, FUZZ_SEND_KNOWN=1 sends the known findings' cases too
fuzz: build
	$(NODE) $(NODE_FLAGS) dist/test/security/fuzz-run.js

# the serial soak at full length: a million lines through a faulty link, one in flight and windowed (the suite
# runs 100,000); SOAK_LINES sets the count
soak: build
	SOAK_LINES=$${SOAK_LINES:-1000000} $(NODE) $(NODE_FLAGS) --test --test-concurrency=1 --test-timeout=7200000 dist/test/soak/serial-million.test.js

# the Debian package (gantry_<version>_all.deb in build/): image/build-deb.sh says what goes in it
deb: build
	image/build-deb.sh build

# the Raspberry Pi SD-card image (build/gantry-<version>-arm64.img and .img.xz) from Debian trixie packages with the
# package above inside: image/build-image.sh (root, mmdebstrap, qemu-user-static); image/README.md says how to use it
image: deb
	image/build-image.sh build

# boots the image under qemu-system-aarch64 (TCG) and checks first boot, a hot-plugged USB printer, a reboot from
# the API; prints the timings and memory image/README.md reports (build/image-test/results.txt). Builds the image
# first if there is none (a clean checkout, CI); an existing one is tested as it is
VERSION = $(shell $(NODE) -p "require('./package.json').version")
image-test: build
	@[ -f build/gantry-$(VERSION)-arm64.img ] || $(MAKE) image
	image/test-image.sh

image-bench: image-test
	@cat build/image-test/results.txt

# BENCH_ONLY=upload,memory runs only those sections (bench/run.ts: SECTIONS lists them); unset, all of them.
# BENCH_ROUNDS sets the serial and several-printer rounds (default 3), UPLOAD_ROUNDS the upload rounds (default 5)
bench: build
	$(NODE) $(NODE_FLAGS) --expose-gc dist/bench/run.js

# memory under a long mixed load (bench/soak.ts): SOAK_MINUTES (default 120); fails if RSS drifts beyond ±10 %
SOAK_MINUTES ?= 120
bench-soak: build
	SOAK_MINUTES=$(SOAK_MINUTES) $(NODE) $(NODE_FLAGS) dist/bench/soak.js

clean:
	rm -rf dist node_modules build
