module lfbench/chanbench

go 1.19

// x/sync and x/time from Debian's golang-golang-x-sync-dev and golang-golang-x-time-dev
// (scripts/deps.sh bench): the replace lines point at their source trees, so the build
// reads no network.
require (
	golang.org/x/sync v0.0.0
	golang.org/x/time v0.3.0
)

replace golang.org/x/sync => /usr/share/gocode/src/golang.org/x/sync

replace golang.org/x/time => /usr/share/gocode/src/golang.org/x/time
