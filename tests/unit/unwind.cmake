# unwind: CFI tables, cache, and walks of this test's own stacks.
# The fixture chains are built -O2 -fomit-frame-pointer (no rbp frame chain,
# checked by unwind_fixture_no_fp) and without sanitizers: they copy the live
# stack, redzones included. One of them has .debug_frame only.
find_package(Threads REQUIRED)
add_library(test_unwind_fixture OBJECT fixtures/unwind/chain.c)
target_compile_options(test_unwind_fixture PRIVATE -O2 -fomit-frame-pointer
	-fasynchronous-unwind-tables -fno-sanitize=all)
add_library(test_unwind_fixture_df OBJECT fixtures/unwind/chain_debug_frame.c)
target_compile_options(test_unwind_fixture_df PRIVATE -O2 -fomit-frame-pointer -g
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-sanitize=all)
add_library(test_unwind_fixture_realign OBJECT fixtures/unwind/chain_realign.c)
target_compile_options(test_unwind_fixture_realign PRIVATE -O2 -fomit-frame-pointer
	-fno-sanitize=all)

smolder_add_unit(test_unwind
	SOURCES test_unwind.c $<TARGET_OBJECTS:test_unwind_fixture>
		$<TARGET_OBJECTS:test_unwind_fixture_df>
		$<TARGET_OBJECTS:test_unwind_fixture_realign>
	LIBS smolder_unwind PkgConfig::LIBELF Threads::Threads)
# The test's own frames (main, the test functions) are CFI-only too.
target_compile_options(test_unwind PRIVATE -O2 -fomit-frame-pointer)
set_tests_properties(test_unwind PROPERTIES TIMEOUT 120)

# No function of the fixtures may set up rbp as a frame pointer.
add_test(NAME unwind_fixture_no_fp
	COMMAND sh -c "! objdump -d \"$0\" \"$1\" | grep -E 'mov +%rsp,%rbp'"
		$<TARGET_OBJECTS:test_unwind_fixture> $<TARGET_OBJECTS:test_unwind_fixture_df>)
set_tests_properties(unwind_fixture_no_fp PROPERTIES LABELS unit)

# Go stack switches on hand-made stacks (the table's internals: unwind_internal.h).
smolder_add_unit(test_unwind_go
	SOURCES test_unwind_go.c
	LIBS smolder_unwind PkgConfig::LIBELF)
