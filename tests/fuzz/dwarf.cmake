# symbolizer DWARF fuzz harness: ELF images with DWARF (corpus: small fixtures
# with debug info, truncated and corrupted copies).
smolder_add_fuzzer(fuzz_dwarf SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_dwarf.c
	LIBS smolder_symbolizer)
