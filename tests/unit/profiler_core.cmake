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
	LIBS smolder_symbolizer smolder_proto)
target_include_directories(test_profile_build PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
target_compile_definitions(test_profile_build PRIVATE
	"SMOLDER_DATA_DIR=\"${PROJECT_SOURCE_DIR}/tests/data\"")
