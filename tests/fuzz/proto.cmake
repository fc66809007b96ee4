# proto/: pprof reader (untrusted files), then merge and pack of what it accepts.
smolder_add_fuzzer(fuzz_pprof SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_pprof.c LIBS smolder_proto)
