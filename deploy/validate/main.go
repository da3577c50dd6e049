// Command validate checks pigeonhole's deployment files offline, without a
// cluster or a Docker engine.
//
// For each kustomization directory given, it renders the kustomization with
// kustomize's own library (krusty), decodes every rendered object strictly
// into its k8s.io/api type (an unknown or misspelt field is an error), and
// checks what a dry run against an API server would not: the expected
// objects are all there, every workload has probes, resources and a
// non-root, read-only security context, and Services, probes, images and
// listen addresses agree with the containers they point at; and that etcd
// runs with authentication: a setup Job creates root and each program's
// own user (read-write on the registry's prefix for replicas, read-only
// for gateways) from the Secret keys the programs read, enables
// authentication last, and every program waits for it.
//
// With -root, it also parses each program's Dockerfile with BuildKit's
// parser and linter, checks the rules the images follow, and checks that
// docker-compose.yml and the Deployments use exactly the ports the images
// expose, and that every compose service given etcd endpoints gets its own
// etcd user and password file and starts after the etcd-auth setup.
//
// It is its own module, outside go.work, so the Kubernetes and BuildKit
// libraries never enter the services' build list: run it with GOWORK=off,
// as `make check-deploy` does.
//
//	GOWORK=off go -C deploy/validate run . -root ../.. ../k8s/base ../k8s/overlays/example
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		os.Exit(1)
	}
}

// run validates what args name and reports one line per file or directory
// to stdout. It returns an error naming every problem found.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", "", "repository root: also check the Dockerfiles and docker-compose.yml there")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: validate [-root DIR] KUSTOMIZATION_DIR...")
	}
	var errs []error
	fail := func(where string, problems []string) {
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("%s: %s", where, p))
		}
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "validate: %s: valid\n", where)
		}
	}

	dockerfiles := map[string]Dockerfile{}
	if *root != "" {
		for _, program := range sortedKeys(programs) {
			path := filepath.Join(*root, program, "Dockerfile")
			df, problems, err := ParseDockerfile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, err))
				continue
			}
			dockerfiles[program] = df
			fail(path, problems)
		}
		path := filepath.Join(*root, "docker-compose.yml")
		problems, err := CheckCompose(path, dockerfiles)
		if err != nil {
			errs = append(errs, err)
		} else {
			fail(path, problems)
		}
	}

	fsys := filesys.MakeFsOnDisk()
	for _, dir := range fs.Args() {
		objs, err := Render(fsys, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dir, err))
			continue
		}
		fail(fmt.Sprintf("%s (%d objects)", dir, len(objs)), append(Check(objs), checkImagePorts(objs, dockerfiles)...))
	}
	return errors.Join(errs...)
}
