package main

import (
	"errors"
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// rpcModule is the message service's module path.
const rpcModule = "github.com/pigeonhole-im/pigeonhole/rpc-server/"

// TestGatewayImportsOnlyTheContractAndTheCore keeps the gateway off the
// service's adapters: its code (tests aside, which may start a real
// service) imports of the service's module only the generated contract,
// the core and the shared process plumbing, so that a change to the
// service's handler or stores does not rebuild the gateway.
func TestGatewayImportsOnlyTheContractAndTheCore(t *testing.T) {
	allowed := []string{rpcModule + "kitex_gen/", rpcModule + "pigeonhole", rpcModule + "shared/"}
	packages := 0
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		pkg, err := build.ImportDir(dir, 0)
		var none *build.NoGoError
		if errors.As(err, &none) {
			return nil
		}
		if err != nil {
			return err
		}
		packages++
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, rpcModule) && !allowedImport(imp, allowed) {
				t.Errorf("%s imports %s; of the service only %v", dir, imp, allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if packages < 4 {
		t.Fatalf("found %d packages: is the test running in the module's root?", packages)
	}
}

func allowedImport(imp string, allowed []string) bool {
	for _, p := range allowed {
		if strings.HasPrefix(imp, p) {
			return true
		}
	}
	return false
}
