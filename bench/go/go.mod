module lfbench/chanbench

go 1.19

// x/time/rate from Debian's golang-golang-x-time-dev (scripts/deps.sh bench): the
// replace line points at its source tree, so the build reads no network.
require golang.org/x/time v0.3.0

replace golang.org/x/time => /usr/share/gocode/src/golang.org/x/time
