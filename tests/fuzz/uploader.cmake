# uploader/: what comes from outside: the server's Retry-After header and
# spool item files read back from disk.
smolder_add_fuzzer(fuzz_retry_after SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_retry_after.c
	LIBS smolder_uploader)
smolder_add_fuzzer(fuzz_spool_item SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_spool_item.c
	LIBS smolder_uploader)
