package main

import (
	"errors"
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// ourPrefix starts every import path of this repository.
const ourPrefix = "github.com/pigeonhole-im/pigeonhole/"

// TestImportBoundaries holds the module's rooms apart: the core imports
// nothing of ours, the conformance suite only the core, and the shared process plumbing imports nothing of ours
// outside shared/, so that the gateway, which imports both, depends on none
// of the service's adapters.
func TestImportBoundaries(t *testing.T) {
	rules := []struct {
		dir     string
		allowed []string // prefixes of our import paths the packages may use
	}{
		{dir: "pigeonhole", allowed: []string{ourPrefix + "rpc-server/pigeonhole"}},
		{dir: "shared", allowed: []string{ourPrefix + "rpc-server/shared/"}},
		// The conformance suite knows the contract, not any one store or
		// decorator: callers hand it what to test.
		{dir: "storetest", allowed: []string{ourPrefix + "rpc-server/pigeonhole"}},
	}
	for _, rule := range rules {
		t.Run(rule.dir, func(t *testing.T) {
			for pkg, imports := range importsUnder(t, rule.dir) {
				for _, imp := range imports {
					if strings.HasPrefix(imp, ourPrefix) && !hasAnyPrefix(imp, rule.allowed) {
						t.Errorf("%s imports %s; only %v are allowed", pkg, imp, rule.allowed)
					}
				}
			}
		})
	}
}

// importsUnder returns the imports, tests' included, of every package in
// the tree at root, by directory.
func importsUnder(tb testing.TB, root string) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
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
		out[dir] = append(append(append([]string(nil), pkg.Imports...), pkg.TestImports...), pkg.XTestImports...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(out) == 0 {
		tb.Fatalf("no packages under %s", root)
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
