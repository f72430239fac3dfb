module lfbench/chanbench

go 1.19
