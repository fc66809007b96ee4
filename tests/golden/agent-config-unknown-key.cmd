printf 'window = 10\n# retention\nretention-age = 2d\nwindw = 5\n' > smolder.conf && $SMOLDER agent --config smolder.conf --store st
