# Unit tests of the profiler's own tables (aggregation, process table).
smolder_add_unit(test_aggregate
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_aggregate.c
		${PROJECT_SOURCE_DIR}/profiler/aggregate.c
		${PROJECT_SOURCE_DIR}/profiler/proctable.c
	LIBS smolder_symbolizer)
target_include_directories(test_aggregate PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
