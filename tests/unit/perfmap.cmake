# JIT perf map unit tests (symbolizer/perfmap.c); no root: they use this process's own
# /tmp/perf-PID.map and those of child processes.
smolder_add_unit(test_perfmap SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_perfmap.c
	LIBS smolder_symbolizer)
