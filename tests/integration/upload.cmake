# The uploader against a real HTTP receiver on 127.0.0.1 with injected faults.
# No root needed: a plain test, labelled integration.
add_executable(upload_receiver ${CMAKE_CURRENT_LIST_DIR}/upload_receiver.c)
target_link_libraries(upload_receiver PRIVATE PkgConfig::ZLIB)
add_executable(test_upload ${CMAKE_CURRENT_LIST_DIR}/test_upload.c)
target_link_libraries(test_upload PRIVATE PkgConfig::CMOCKA itest_harness smolder_uploader smolder_proto)
target_compile_definitions(test_upload PRIVATE
	"UPLOAD_RECEIVER=\"$<TARGET_FILE:upload_receiver>\""
	"SMOLDER_BIN=\"$<TARGET_FILE:smolder>\"")
add_dependencies(test_upload upload_receiver smolder)
add_test(NAME test_upload COMMAND test_upload)
set_tests_properties(test_upload PROPERTIES LABELS integration TIMEOUT 120
	ENVIRONMENT "SMOLDER_BUILD=${PROJECT_BINARY_DIR};SMOLDER_SRC=${PROJECT_SOURCE_DIR}")

# The agent across an outage and a restart (root; skipped until the agent takes --spool).
smolder_add_integration(test_upload_agent
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_upload_agent.c
	LIBS itest_harness smolder_uploader
	TIMEOUT 120)
target_compile_definitions(test_upload_agent PRIVATE
	"UPLOAD_RECEIVER=\"$<TARGET_FILE:upload_receiver>\"")
add_dependencies(test_upload_agent upload_receiver smolder)

# Store and spool directories of another user, or writable by others (root: chown to nobody).
smolder_add_integration(test_dirs
	SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_dirs.c
	LIBS itest_harness
	TIMEOUT 60)
add_dependencies(test_dirs smolder)
