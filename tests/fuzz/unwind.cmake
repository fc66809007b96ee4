# unwind: the CFI parser (.eh_frame, .debug_frame, ELF images) and the walker over its tables.
# The module's sources are compiled into the harness itself, not linked from
# smolder_unwind, so that libFuzzer's coverage and ASan/UBSan reach them.
set(SMOLDER_unwind_dir ${PROJECT_SOURCE_DIR}/unwind)
smolder_add_fuzzer(fuzz_cfi
	SOURCES fuzz_cfi.c ${SMOLDER_unwind_dir}/cfi.c ${SMOLDER_unwind_dir}/gostack.c
		${SMOLDER_unwind_dir}/unwind.c
	LIBS PkgConfig::LIBELF)
target_include_directories(fuzz_cfi_replay PRIVATE ${SMOLDER_unwind_dir})
if(SMOLDER_FUZZ)
	target_include_directories(fuzz_cfi PRIVATE ${SMOLDER_unwind_dir})
	# A UBSan report must stop the run, as in the sanitizer CI build.
	target_compile_options(fuzz_cfi PRIVATE -fno-sanitize-recover=all)
	target_link_options(fuzz_cfi PRIVATE -fno-sanitize-recover=all)
endif()
