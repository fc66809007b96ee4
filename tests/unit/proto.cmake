# proto/: pprof builder, writer, reader and merger.
smolder_add_unit(test_pprof SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_pprof.c LIBS smolder_proto)
