# safefile/: reading only regular files, writing outputs by rename, symlink rules.
smolder_add_unit(test_safefile SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_safefile.c
	LIBS smolder_safefile)
