# profiler: the report/flamegraph/diff logic of smolder_viz on hand-made profiles.
smolder_add_unit(test_stacks SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_stacks.c
	LIBS smolder_viz)
# profiler: escaping of outside text for terminals (textesc.c) and its use in folded stacks.
smolder_add_unit(test_textesc SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_textesc.c
	LIBS smolder_viz)
