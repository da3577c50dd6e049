package etcd

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/cloudwego/kitex/pkg/registry"
)

// fakeRegistry fails the way registry-etcd v0.3.0 does when asked to
// deregister what it never registered.
type fakeRegistry struct{ registers, deregisters int }

func (f *fakeRegistry) Register(*registry.Info) error { f.registers++; return nil }

func (f *fakeRegistry) Deregister(*registry.Info) error {
	if f.registers == 0 {
		panic("nil pointer dereference")
	}
	f.deregisters++
	return nil
}

func TestDrainingRegistryDeregistersOnlyWhatItRegistered(t *testing.T) {
	info := &registry.Info{ServiceName: "s", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Stopped before registering: nothing to deregister, and no late
	// registration either.
	inner := &fakeRegistry{}
	d := &drainingRegistry{Registry: inner, log: log}
	if err := d.Deregister(info); err != nil {
		t.Fatal(err)
	}
	if err := d.Register(info); err != nil || inner.registers != 0 {
		t.Fatalf("registered after the deregistration: %v, %d registrations", err, inner.registers)
	}

	// Registered, then stopped: deregistered once.
	inner = &fakeRegistry{}
	d = &drainingRegistry{Registry: inner, log: log}
	if err := d.Register(info); err != nil {
		t.Fatal(err)
	}
	if err := d.Deregister(info); err != nil || inner.deregisters != 1 {
		t.Fatalf("deregister: %v, %d deregistrations, want 1", err, inner.deregisters)
	}
}
