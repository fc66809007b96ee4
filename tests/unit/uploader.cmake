# uploader/: spool, backoff, Retry-After, verdicts, submit (no network);
# profiler/upload.c: split by service and the per-profile limits.
smolder_add_unit(test_uploader SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_uploader.c
	LIBS smolder_uploader)
smolder_add_unit(test_upload_split SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_upload_split.c
	${PROJECT_SOURCE_DIR}/profiler/upload.c
	LIBS smolder_uploader smolder_proto smolder_safefile PkgConfig::ZLIB)
target_include_directories(test_upload_split PRIVATE ${PROJECT_SOURCE_DIR}/profiler)
