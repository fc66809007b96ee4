$SMOLDER flamegraph --help
