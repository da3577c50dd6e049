module github.com/pigeonhole-im/pigeonhole/test

go 1.26
