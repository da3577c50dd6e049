// Package envflag defines command-line flags whose defaults may come from
// environment variables: each flag names its variable, the variable
// overrides the built-in default, and the flag overrides both. Both mains
// use it, so every setting can be given either way.
//
// Like package program it lives under rpc-server/shared/: code both
// servers use, which imports nothing of ours, so the gateway can import it
// without depending on the service's internals.
package envflag

import (
	"encoding"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Set is a set of flags read from args and an environment.
type Set struct {
	fs      *flag.FlagSet
	getenv  func(string) string
	errs    []error
	fromEnv map[string]bool // flags whose variable is set
}

// New returns an empty set for the program name; usage goes to out.
func New(name string, getenv func(string) string, out io.Writer) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return &Set{fs: fs, getenv: getenv, fromEnv: map[string]bool{}}
}

// env returns the variable of flag name's value, "" when unset, and the
// usage suffix.
func (s *Set) env(flagName, name string) (string, string) {
	if name == "" {
		return "", ""
	}
	value := s.getenv(name)
	if value != "" {
		s.fromEnv[flagName] = true
	}
	return value, " ($" + name + ")"
}

// Given reports whether the flag name was set on the command line or by
// its variable, rather than left at its built-in default. Call it after
// Parse.
func (s *Set) Given(name string) bool {
	given := s.fromEnv[name]
	s.fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}

// fromEnv parses a variable's value into a default, recording an error
// for a value that does not parse (it is never silently ignored).
func fromEnv[T any](s *Set, env, value string, parse func(string) (T, error), def T) T {
	if value == "" {
		return def
	}
	v, err := parse(value)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("$%s=%q: %w", env, value, err))
		return def
	}
	return v
}

// String defines a string flag.
func (s *Set) String(p *string, name, env, def, usage string) {
	value, suffix := s.env(name, env)
	def = fromEnv(s, env, value, func(v string) (string, error) { return v, nil }, def)
	s.fs.StringVar(p, name, def, usage+suffix)
}

// Int defines an int flag.
func (s *Set) Int(p *int, name, env string, def int, usage string) {
	value, suffix := s.env(name, env)
	s.fs.IntVar(p, name, fromEnv(s, env, value, strconv.Atoi, def), usage+suffix)
}

// Float defines a float64 flag.
func (s *Set) Float(p *float64, name, env string, def float64, usage string) {
	value, suffix := s.env(name, env)
	parse := func(v string) (float64, error) { return strconv.ParseFloat(v, 64) }
	s.fs.Float64Var(p, name, fromEnv(s, env, value, parse, def), usage+suffix)
}

// Bool defines a boolean flag ("--name" alone means true).
func (s *Set) Bool(p *bool, name, env string, def bool, usage string) {
	value, suffix := s.env(name, env)
	s.fs.BoolVar(p, name, fromEnv(s, env, value, strconv.ParseBool, def), usage+suffix)
}

// Duration defines a time.Duration flag ("5s", "250ms").
func (s *Set) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	value, suffix := s.env(name, env)
	s.fs.DurationVar(p, name, fromEnv(s, env, value, time.ParseDuration, def), usage+suffix)
}

// List defines a flag holding a comma-separated list; empty items are
// dropped.
func (s *Set) List(p *[]string, name, env, def, usage string) {
	value, suffix := s.env(name, env)
	if value != "" {
		def = value
	}
	*p = splitList(def)
	s.fs.Func(name, usage+suffix+" (default \""+def+"\")", func(v string) error {
		*p = splitList(v)
		return nil
	})
}

// Text defines a flag of a type that parses itself, such as slog.Level.
func (s *Set) Text(p encoding.TextUnmarshaler, name, env, def, usage string) {
	value, suffix := s.env(name, env)
	if value == "" {
		value = def
	}
	if err := p.UnmarshalText([]byte(value)); err != nil {
		s.errs = append(s.errs, fmt.Errorf("--%s %q: %w", name, value, err))
	}
	s.fs.Func(name, usage+suffix+" (default \""+def+"\")", func(v string) error { return p.UnmarshalText([]byte(v)) })
}

// Parse reads args (without the program name). It fails on unknown flags,
// positional arguments and environment values that do not parse.
func (s *Set) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	if s.fs.NArg() > 0 {
		s.errs = append(s.errs, fmt.Errorf("unexpected arguments: %s", strings.Join(s.fs.Args(), " ")))
	}
	return errors.Join(s.errs...)
}

func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
