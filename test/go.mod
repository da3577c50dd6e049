module github.com/pigeonhole-im/pigeonhole/test

go 1.26

require (
	github.com/cloudwego/kitex v0.16.1
	go.etcd.io/etcd/client/v3 v3.6.2
)

require github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
