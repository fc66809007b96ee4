/* SPDX-License-Identifier: MIT */
/*
 * The smolder subcommands. Each takes the arguments after the command name
 * (argv[0] is the command name) and returns the process exit code.
 */
#ifndef SMOLDER_COMMANDS_H
#define SMOLDER_COMMANDS_H

int cmd_record(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_flamegraph(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_symbolize(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_upload(int argc, char **argv);

#endif /* SMOLDER_COMMANDS_H */
