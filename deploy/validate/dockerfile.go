package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Dockerfile is what the cross-checks need from one of our Dockerfiles.
type Dockerfile struct {
	Path string
	// Expose is the final stage's EXPOSE ports, sorted.
	Expose []int32
}

// runtimeBases are the final-stage images a Dockerfile may use: no shell,
// no package manager.
var runtimeBases = []string{"gcr.io/distroless/static-debian12:nonroot", "scratch"}

// numericUser is a USER of numeric uid[:gid], which Kubernetes can verify
// as non-root (runAsNonRoot rejects names it cannot resolve).
var numericUser = regexp.MustCompile(`^([0-9]+)(:[0-9]+)?$`)

// ParseDockerfile reads a Dockerfile with BuildKit's own parser and linter
// and checks the rules our images follow: a pinned Go build stage, a static
// cgo-free -trimpath build, a shell-less runtime base, a numeric non-root
// USER and an exec-form ENTRYPOINT. It returns the problems found; err is
// for a file that cannot be read or parsed at all.
func ParseDockerfile(path string) (df Dockerfile, problems []string, err error) {
	df.Path = path
	body, err := os.ReadFile(path)
	if err != nil {
		return df, nil, err
	}
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ast, err := parser.Parse(bytes.NewReader(body))
	if err != nil {
		return df, nil, fmt.Errorf("parse: %w", err)
	}
	for _, w := range ast.Warnings {
		report("parser warning: %s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, _ []parser.Range) {
		report("lint %s: %s", rule, msg)
	}})
	stages, metaArgs, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		return df, nil, fmt.Errorf("parse: %w", err)
	}
	if len(stages) < 2 {
		return df, append(problems, "want a multi-stage build (a Go stage and a runtime stage)"), nil
	}
	defaults := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				defaults[kv.Key] = *kv.Value
			}
		}
	}
	base := func(s instructions.Stage) string {
		return os.Expand(s.BaseName, func(k string) string { return defaults[k] })
	}

	if b := base(stages[0]); !strings.HasPrefix(b, "golang:1.") {
		report("build stage base %q is not a golang image pinned to a Go version", b)
	}
	final := stages[len(stages)-1]
	if b := base(final); !slices.Contains(runtimeBases, b) {
		report("final stage base %q is not one of %v", b, runtimeBases)
	}
	names := map[string]bool{}
	builds := 0
	for i, s := range stages {
		for _, cmd := range s.Commands {
			switch c := cmd.(type) {
			case *instructions.RunCommand:
				line := strings.Join(c.CmdLine, " ")
				if strings.Contains(line, "go build") {
					builds++
					if !strings.Contains(line, "CGO_ENABLED=0") || !strings.Contains(line, "-trimpath") {
						report("%q must build with CGO_ENABLED=0 and -trimpath", line)
					}
				}
			case *instructions.CopyCommand:
				if c.From != "" && !names[c.From] {
					report("COPY --from=%s names no earlier stage", c.From)
				}
			}
		}
		if s.Name != "" {
			names[s.Name] = true
		}
		if i == len(stages)-1 {
			problems = append(problems, checkFinalStage(s, &df)...)
		}
	}
	if builds == 0 {
		report("no stage runs go build")
	}
	return df, problems, nil
}

// checkFinalStage checks the runtime stage and records its EXPOSE ports.
func checkFinalStage(s instructions.Stage, df *Dockerfile) []string {
	var problems []string
	var user string
	var entrypoint *instructions.EntrypointCommand
	for _, cmd := range s.Commands {
		switch c := cmd.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			entrypoint = c
		case *instructions.ExposeCommand:
			for _, p := range c.Ports {
				port, err := strconv.ParseUint(strings.TrimSuffix(p, "/tcp"), 10, 16)
				if err != nil {
					problems = append(problems, fmt.Sprintf("EXPOSE %s is not a TCP port", p))
					continue
				}
				df.Expose = append(df.Expose, int32(port))
			}
		}
	}
	slices.Sort(df.Expose)
	if m := numericUser.FindStringSubmatch(user); m == nil || m[1] == "0" {
		problems = append(problems, fmt.Sprintf("final stage USER %q is not a numeric non-root uid", user))
	}
	if entrypoint == nil || entrypoint.PrependShell {
		problems = append(problems, "final stage needs an exec-form (JSON) ENTRYPOINT: the image has no shell")
	}
	if len(df.Expose) == 0 {
		problems = append(problems, "final stage EXPOSEs no port")
	}
	return problems
}
