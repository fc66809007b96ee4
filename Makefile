# Thin wrapper around CMake. `make run` and `make test` are the README's two commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# The integration tests whose agent and record run threads: sampling, worker, reload, upload.
TSAN_TESTS ?= test_agent test_record test_upload_agent
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
RUN_SECONDS ?= 10

.PHONY: all build deps test-deps run test unit check-format format asan tsan vmlinux bench clean

all: build

deps:
	@./scripts/install-deps.sh build

test-deps:
	@./scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# Profile the whole machine, write the profile and a flame graph, print the hottest functions.
run: build
	./$(BUILD)/smolder record -d $(RUN_SECONDS) -o smolder-run.pb.gz
	./$(BUILD)/smolder flamegraph smolder-run.pb.gz -o smolder-run.html
	./$(BUILD)/smolder report -n 25 smolder-run.pb.gz
	@echo "profile: smolder-run.pb.gz  flame graph: smolder-run.html"

# The whole suite: warnings as errors, format check, then again under ASan+UBSan, then the
# threaded integration tests under ThreadSanitizer.
test: test-deps
	@cmake -S . -B $(BUILD) -DSMOLDER_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@$(MAKE) --no-print-directory check-format
	cd $(BUILD) && ctest --output-on-failure -j1
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory tsan

asan: test-deps
	@cmake -S . -B $(ASAN_BUILD) -DSMOLDER_WERROR=ON -DSMOLDER_SANITIZE=ON \
		-DCMAKE_C_COMPILER=clang $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j1

# Only what the threaded tests need is built; a race report fails the test (exit code 66).
tsan: test-deps
	@cmake -S . -B $(TSAN_BUILD) -DSMOLDER_WERROR=ON -DSMOLDER_TSAN=ON \
		-DCMAKE_C_COMPILER=clang $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS) --target smolder $(TSAN_TESTS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 \
		suppressions=$(CURDIR)/tests/tsan.supp" \
		ctest --output-on-failure -j1 -R '^($(subst $(eval) ,|,$(strip $(TSAN_TESTS))))$$'

unit: build
	cd $(BUILD) && ctest --output-on-failure -L 'unit|fuzz'

check-format:
	@files=$$(git ls-files '*.c' '*.h' | grep -v '^bpf/vmlinux/'); \
	if ! clang-format --dry-run --Werror $$files; then \
		echo "clang-format: run 'make format' and commit the result" >&2; exit 1; fi

format:
	@git ls-files '*.c' '*.h' | grep -v '^bpf/vmlinux/' | xargs clang-format -i

# Regenerate the checked-in vmlinux.h from the running kernel's BTF (not part of the build).
vmlinux:
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux/x86/vmlinux.h

bench: build
	@./scripts/install-deps.sh bench
	./bench/record.sh
	./bench/unwind.sh
	./bench/symbolize.sh
	./bench/flamegraph.sh
	./bench/upload.sh
	./bench/agent.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
