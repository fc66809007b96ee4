# profiler: the report/flamegraph/diff logic of smolder_viz on hand-made profiles.
smolder_add_unit(test_stacks SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_stacks.c
	LIBS smolder_viz)

# Frame identity: report, folded output and the trees against an independent
# decode (zlib + protobuf-c) of every corpus profile and of generated ones.
smolder_add_unit(test_frames_decode SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_frames_decode.c
	LIBS smolder_viz PkgConfig::ZLIB)
target_compile_definitions(test_frames_decode PRIVATE
	"SMOLDER_SRC_DIR=\"${PROJECT_SOURCE_DIR}\"")
# profiler: escaping of outside text for terminals (textesc.c) and its use in folded stacks.
smolder_add_unit(test_textesc SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_textesc.c
	LIBS smolder_viz)
