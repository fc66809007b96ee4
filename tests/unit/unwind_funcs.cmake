# unwind_funcs: function starts from .eh_frame, against readelf's FDE list.
smolder_add_unit(test_unwind_funcs SOURCES test_unwind_funcs.c LIBS smolder_unwind)
