package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

func TestTokenCommand(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	path := filepath.Join(t.TempDir(), "jwt.secret")
	if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	var out bytes.Buffer
	if err := token([]string{"--sub", "a1", "--ttl", "1m", "--jwt-secret-file", path}, none, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	v, err := jwtauth.New(jwtauth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	caller, err := v.Authenticate(strings.TrimSpace(out.String()))
	if err != nil || caller != "a1" {
		t.Fatalf("the printed token: caller %q, %v", caller, err)
	}
	expired, err := jwtauth.New(jwtauth.Config{Secret: secret, Now: func() time.Time { return time.Now().Add(2*time.Minute + jwtauth.DefaultLeeway) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := expired.Authenticate(strings.TrimSpace(out.String())); err == nil {
		t.Fatal("the token outlived --ttl")
	}
	for _, bad := range [][]string{{"--sub", "a1"}, {"--jwt-secret-file", path}, {"--sub", "a:1", "--jwt-secret-file", path}, {"--sub", "a1", "--jwt-secret-file", path, "--ttl", "-1s"}} {
		if err := token(bad, none, io.Discard, io.Discard); err == nil {
			t.Fatalf("%v was accepted", bad)
		}
	}
}
