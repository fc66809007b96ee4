# Integration: complete user stacks for code without frame pointers (root).
add_executable(wl_nofp ${CMAKE_CURRENT_SOURCE_DIR}/workloads/nofp.c)
# Frame pointers omitted on purpose, and no sanitizer: its runtime would be
# in the stacks. The asm barriers in the source keep every call a real call.
target_compile_options(wl_nofp PRIVATE -O2 -g -fomit-frame-pointer -Wno-missing-prototypes
	-fno-sanitize=all)
target_link_options(wl_nofp PRIVATE -fno-sanitize=all)
target_link_libraries(wl_nofp PRIVATE pthread)
set_target_properties(wl_nofp PROPERTIES OUTPUT_NAME nofp)

smolder_add_integration(test_unwind_record
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_unwind.c
	LIBS itest_harness
	TIMEOUT 120)
target_compile_definitions(test_unwind_record PRIVATE WORKLOAD_NOFP="$<TARGET_FILE:wl_nofp>")
add_dependencies(test_unwind_record smolder wl_nofp)
