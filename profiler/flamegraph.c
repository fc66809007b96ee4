// SPDX-License-Identifier: MIT
/* smolder flamegraph: not written yet. */
#include <stdio.h>
#include "commands.h"

int cmd_flamegraph(int argc, char **argv)
{
	fprintf(stderr, "smolder flamegraph: not implemented yet\n");
	return 1;
}
