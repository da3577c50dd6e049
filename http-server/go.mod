module github.com/pigeonhole-im/pigeonhole/http-server

go 1.26

require google.golang.org/protobuf v1.36.12

require (
	github.com/cloudwego/hertz v0.10.4 // indirect
	github.com/cloudwego/kitex v0.16.1 // indirect
)

tool google.golang.org/protobuf/cmd/protoc-gen-go
