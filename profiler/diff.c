// SPDX-License-Identifier: MIT
/* smolder diff: not written yet. */
#include <stdio.h>
#include "commands.h"

int cmd_diff(int argc, char **argv)
{
	fprintf(stderr, "smolder diff: not implemented yet\n");
	return 1;
}
