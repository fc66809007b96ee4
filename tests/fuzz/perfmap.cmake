# JIT perf map parser fuzz harness (symbolizer/perfmap.c); corpus in corpus/fuzz_perfmap/.
smolder_add_fuzzer(fuzz_perfmap SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_perfmap.c
	LIBS smolder_symbolizer)
