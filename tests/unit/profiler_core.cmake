# Unit tests of the profiler's own tables (aggregation, process table).
smolder_add_unit(test_aggregate
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_aggregate.c
		${PROJECT_SOURCE_DIR}/profiler/aggregate.c
		${PROJECT_SOURCE_DIR}/profiler/proctable.c
	LIBS smolder_symbolizer)
target_include_directories(test_aggregate PRIVATE ${PROJECT_SOURCE_DIR}/profiler)

# Profile building: kernel frames, module and BPF mappings (kallsyms and
# /proc/modules texts in tests/data/).
smolder_add_unit(test_profile_build
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_profile_build.c
		${PROJECT_SOURCE_DIR}/profiler/profile_build.c
		${PROJECT_SOURCE_DIR}/profiler/aggregate.c
		${PROJECT_SOURCE_DIR}/profiler/proctable.c
	LIBS smolder_symbolizer smolder_unwind smolder_proto)
target_include_directories(test_profile_build PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
# Code no symbol names, DWARF lines without a function (fixtures/unnamed_lines.S).
add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/libunnamed_lines.so
	COMMAND gcc -g -shared -nostdlib -Wl,--build-id
		-o ${CMAKE_CURRENT_BINARY_DIR}/libunnamed_lines.so
		${CMAKE_CURRENT_SOURCE_DIR}/fixtures/unnamed_lines.S
	DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/unnamed_lines.S
	COMMENT "Building the unnamed-code fixture")
add_custom_target(unnamed_lines_fixture DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/libunnamed_lines.so)
add_dependencies(test_profile_build unnamed_lines_fixture)
target_link_libraries(test_profile_build PRIVATE ${CMAKE_DL_LIBS})
target_compile_definitions(test_profile_build PRIVATE
	"SMOLDER_DATA_DIR=\"${PROJECT_SOURCE_DIR}/tests/data\""
	"SMOLDER_FIXTURE_SO=\"${CMAKE_CURRENT_BINARY_DIR}/libunnamed_lines.so\"")
