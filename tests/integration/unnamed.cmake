# Integration: unnamed frames of a stripped binary (root). names_inline.c built
# without -rdynamic and stripped (strip --strip-all): no symbol names its
# functions, .eh_frame is kept; the unstripped copy is kept for nm.
set(UNNAMED_OUT ${CMAKE_CURRENT_BINARY_DIR}/unnamed)
add_custom_command(OUTPUT ${UNNAMED_OUT}/names_unnamed ${UNNAMED_OUT}/names_unnamed.full
	COMMAND ${CMAKE_COMMAND} -E make_directory ${UNNAMED_OUT}
	COMMAND ${SMOLDER_NAMES_CC} -O2 -g -fno-omit-frame-pointer -Wl,--build-id
		-DNAMES_VARIANT=5 -o ${UNNAMED_OUT}/names_unnamed.full
		${CMAKE_CURRENT_SOURCE_DIR}/workloads/names_inline.c
	COMMAND strip --strip-all -o ${UNNAMED_OUT}/names_unnamed ${UNNAMED_OUT}/names_unnamed.full
	DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/workloads/names_inline.c
	COMMENT "Building the stripped workload")
add_custom_target(unnamed_workloads DEPENDS ${UNNAMED_OUT}/names_unnamed)

smolder_add_integration(test_unnamed
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_unnamed.c
	LIBS itest_harness
	TIMEOUT 120)
target_compile_definitions(test_unnamed PRIVATE "UNNAMED_OUT=\"${UNNAMED_OUT}\"")
add_dependencies(test_unnamed smolder unnamed_workloads)
