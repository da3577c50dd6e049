module github.com/pigeonhole-im/pigeonhole/test

go 1.26

require github.com/cloudwego/kitex v0.16.1
