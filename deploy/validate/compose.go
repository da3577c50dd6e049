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
	// Volumes in the short form, source:target[:mode].
	Volumes []string `json:"volumes"`
	// DependsOn in the long form, service: {condition: ...}.
	DependsOn map[string]struct {
		Condition string `json:"condition"`
	} `json:"depends_on"`
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
	problems = append(problems, checkComposeEtcdAuth(cf)...)
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

// checkComposeEtcdAuth checks that every service given etcd endpoints also
// gets its own etcd user and a password file from a volume the setup
// service writes, and starts only after that setup has completed, which
// itself waits for a healthy etcd.
func checkComposeEtcdAuth(cf composeFile) []string {
	var problems []string
	report := func(service, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("service %s: %s", service, fmt.Sprintf(format, args...)))
	}
	setup, ok := cf.Services[etcdAuthService]
	if !ok {
		return []string{fmt.Sprintf("no service %s: etcd would run without authentication", etcdAuthService)}
	}
	setupVolumes := map[string]bool{}
	for _, v := range setup.Volumes {
		setupVolumes[strings.Split(v, ":")[0]] = true
	}
	users := map[string]string{}
	for _, name := range sortedKeys(cf.Services) {
		svc := cf.Services[name]
		etcd, ok := svc.Environment["PIGEONHOLE_ETCD"]
		if !ok {
			continue
		}
		for _, hp := range strings.Split(etcd, ",") {
			host, _, _ := net.SplitHostPort(strings.TrimSpace(hp))
			if d := setup.DependsOn[host]; hasService(cf, host) && d.Condition != "service_healthy" {
				report(etcdAuthService, "must depend on %s with condition service_healthy", host)
			}
		}
		if d := svc.DependsOn[etcdAuthService]; d.Condition != "service_completed_successfully" {
			report(name, "must depend on %s with condition service_completed_successfully: it needs etcd's users", etcdAuthService)
		}
		user, file := svc.Environment["PIGEONHOLE_ETCD_USER"], svc.Environment["PIGEONHOLE_ETCD_PASSWORD_FILE"]
		if user == "" || file == "" {
			report(name, "PIGEONHOLE_ETCD_USER and PIGEONHOLE_ETCD_PASSWORD_FILE must be set (etcd runs with authentication)")
			continue
		}
		if other, ok := users[user]; ok || user == "root" {
			report(name, "runs as etcd user %q (shared with %q or root): each program needs its own, least-privileged user", user, other)
		}
		users[user] = name
		mounted := false
		for _, v := range svc.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && path.Clean(parts[1]) == path.Dir(file) {
				mounted = true
				if !setupVolumes[parts[0]] {
					report(name, "PIGEONHOLE_ETCD_PASSWORD_FILE is in volume %s, which %s does not write", parts[0], etcdAuthService)
				}
				if len(parts) < 3 || parts[2] != "ro" {
					report(name, "must mount volume %s read-only", parts[0])
				}
			}
		}
		if !mounted {
			report(name, "PIGEONHOLE_ETCD_PASSWORD_FILE=%s is not in a mounted volume", file)
		}
	}
	return problems
}
