# symbolizer fuzz harnesses: /proc/PID/maps text, kallsyms text, ELF images.
# Corpora in tests/fuzz/corpus/<name>/ are replayed by ctest.
smolder_add_fuzzer(fuzz_maps SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_maps.c
	LIBS smolder_symbolizer)
smolder_add_fuzzer(fuzz_kallsyms SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_kallsyms.c
	LIBS smolder_symbolizer)
smolder_add_fuzzer(fuzz_elf SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_elf.c
	LIBS smolder_symbolizer)
