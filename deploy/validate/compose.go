package main

import (
	"fmt"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// composeFile is the part of docker-compose.yml the cross-checks read.
// Whether the file is valid Compose is docker-compose's to say (make
// check-deploy runs `docker-compose config -q`); this only checks that it
// agrees with the Dockerfiles.
type composeFile struct {
	Services map[string]composeService `json:"services"`
}

type composeService struct {
	Build *struct {
		Context    string `json:"context"`
		Dockerfile string `json:"dockerfile"`
	} `json:"build"`
	Environment map[string]string `json:"environment"`
	Ports       []string          `json:"ports"`
}

// dsnHost finds the address of a go-sql-driver DSN: user:pass@tcp(host:port)/db.
var dsnHost = regexp.MustCompile(`@tcp\(([^)]+)\)`)

// CheckCompose checks that the compose file at file builds each program from
// its Dockerfile, listens and publishes only ports that Dockerfile exposes,
// and names only its own services as etcd and MySQL hosts.
func CheckCompose(file string, dockerfiles map[string]Dockerfile) ([]string, error) {
	body, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var cf composeFile
	if err := yaml.Unmarshal(body, &cf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var problems []string
	report := func(service, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("service %s: %s", service, fmt.Sprintf(format, args...)))
	}
	built := map[string]bool{}
	for _, name := range sortedKeys(cf.Services) {
		svc := cf.Services[name]
		for _, key := range []string{"PIGEONHOLE_ETCD", "PIGEONHOLE_MYSQL"} {
			value, ok := svc.Environment[key]
			if !ok {
				continue
			}
			hosts := strings.Split(value, ",")
			if key == "PIGEONHOLE_MYSQL" {
				m := dsnHost.FindStringSubmatch(value)
				if m == nil {
					report(name, "%s has no tcp(host:port) address", key)
					continue
				}
				hosts = m[1:]
			}
			for _, hp := range hosts {
				host, _, err := net.SplitHostPort(strings.TrimSpace(hp))
				if err != nil || !hasService(cf, host) {
					report(name, "%s names %q, which is not host:port of a service in this file", key, hp)
				}
			}
		}
		if svc.Build == nil {
			continue
		}
		program := path.Dir(svc.Build.Dockerfile)
		df, ok := dockerfiles[program]
		if !ok || svc.Build.Context != "." || path.Base(svc.Build.Dockerfile) != "Dockerfile" {
			report(name, "must build with context . and dockerfile <program>/Dockerfile, one of %v", sortedKeys(dockerfiles))
			continue
		}
		built[program] = true
		for _, key := range programs[program].listenEnv {
			if v, ok := svc.Environment[key]; ok {
				if port, err := addrPort(v); err != nil || !slices.Contains(df.Expose, port) {
					report(name, "%s=%q: not a port %s exposes %v", key, v, df.Path, df.Expose)
				}
			}
		}
		for _, p := range svc.Ports {
			target, err := strconv.ParseUint(p[strings.LastIndex(p, ":")+1:], 10, 16)
			if err != nil || !slices.Contains(df.Expose, int32(target)) {
				report(name, "publishes %q, but %s exposes %v", p, df.Path, df.Expose)
			}
		}
	}
	for _, program := range sortedKeys(dockerfiles) {
		if !built[program] {
			problems = append(problems, fmt.Sprintf("no service builds %s", dockerfiles[program].Path))
		}
	}
	return problems, nil
}

func hasService(cf composeFile, name string) bool {
	_, ok := cf.Services[name]
	return ok
}

// checkImagePorts checks that each program's Deployment declares exactly the
// ports its image exposes.
func checkImagePorts(objs []Object, dockerfiles map[string]Dockerfile) []string {
	ix := newIndex(objs)
	var problems []string
	for _, program := range sortedKeys(dockerfiles) {
		d := ix.deployments[program]
		if d == nil {
			continue // Check reports it
		}
		c := findContainer(d.Spec.Template.Spec.Containers, program)
		if c == nil {
			continue
		}
		var ports []int32
		for _, p := range c.Ports {
			ports = append(ports, p.ContainerPort)
		}
		slices.Sort(ports)
		if want := dockerfiles[program].Expose; !slices.Equal(ports, want) {
			problems = append(problems, fmt.Sprintf("Deployment %s declares ports %v; its image exposes %v", program, ports, want))
		}
	}
	return problems
}
