package main

import (
	"io"
	"slices"
	"testing"
)

// TestConfigNames pins the flag and variable names scripts depend on.
func TestConfigNames(t *testing.T) {
	env := map[string]string{"PIGEONHOLE_SERVICE": "a:1, b:2", "PIGEONHOLE_HTTP_ADDR": "127.0.0.1:7"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:7" || !slices.Equal(cfg.Services, []string{"a:1", "b:2"}) || len(cfg.Etcd) != 0 {
		t.Fatalf("got %+v", cfg)
	}
	def, err := parseConfig([]string{"--etcd", "e:2379"}, func(string) string { return "" }, io.Discard)
	if err != nil || def.HTTPAddr != ":8080" || !slices.Equal(def.Services, []string{"127.0.0.1:8888"}) || !slices.Equal(def.Etcd, []string{"e:2379"}) {
		t.Fatalf("defaults: got %+v, %v", def, err)
	}
	if _, err := parseConfig([]string{"--service", ""}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("no service and no etcd was accepted")
	}
}
