package main

import (
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// registryPrefix is the key prefix under which the replicas register
// (registry-etcd's, rpc-server/etcd.RegistryPrefix; this module does not
// import the services).
const registryPrefix = "kitex/registry-etcd/"

// etcdAuthJob is the Job that creates etcd's users and enables
// authentication, and etcdAuthService its compose counterpart.
const (
	etcdAuthJob     = "etcd-auth"
	etcdAuthService = "etcd-auth"
)

// etcdStep is one etcdctl command of the setup Job.
type etcdStep struct {
	words []string          // the arguments that are not flags
	flags map[string]string // --name=value
}

// etcdSetup is what the setup Job's steps do, in order.
type etcdSetup struct {
	steps     []etcdStep
	passwords map[string]*corev1.SecretKeySelector // user -> where its password comes from
	roles     map[string][]string                  // user -> roles granted
	perms     map[string]map[string]string         // role -> prefix (with --prefix=true) -> permission
	// The index of the step that enables authentication (-1: none) and
	// of the one that adds each role.
	enabledAt int
	roleAdded map[string]int
	rootReady bool // root added and granted role root before enabledAt
}

// readEtcdSetup reads the Job's init containers and containers, in order,
// as etcdctl commands.
func readEtcdSetup(spec corev1.PodSpec) (etcdSetup, []string) {
	s := etcdSetup{passwords: map[string]*corev1.SecretKeySelector{}, roles: map[string][]string{}, perms: map[string]map[string]string{}, enabledAt: -1, roleAdded: map[string]int{}}
	var problems []string
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		cmd := append(append([]string{}, c.Command...), c.Args...)
		if len(cmd) == 0 || path.Base(cmd[0]) != "etcdctl" {
			problems = append(problems, fmt.Sprintf("step %s does not run etcdctl", c.Name))
			continue
		}
		step := etcdStep{flags: map[string]string{}}
		for _, a := range cmd[1:] {
			if name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && strings.HasPrefix(a, "--") {
				step.flags[name] = value
			} else if !strings.HasPrefix(a, "-") {
				step.words = append(step.words, a)
			}
		}
		s.steps = append(s.steps, step)
		w := step.words
		switch {
		case len(w) == 2 && w[0] == "auth" && w[1] == "enable":
			s.enabledAt = len(s.steps) - 1
			s.rootReady = s.passwords["root"] != nil && slices.Contains(s.roles["root"], "root")
		case len(w) == 3 && w[0] == "role" && w[1] == "add":
			s.roleAdded[w[2]] = len(s.steps) - 1
		case len(w) == 3 && w[0] == "user" && w[1] == "add":
			if v := varRef.FindStringSubmatch(step.flags["new-user-password"]); v != nil {
				for _, e := range c.Env {
					if e.Name == v[1] && e.ValueFrom != nil {
						s.passwords[w[2]] = e.ValueFrom.SecretKeyRef
					}
				}
			}
			if s.passwords[w[2]] == nil {
				problems = append(problems, fmt.Sprintf("step %s: user %s's password must be --new-user-password=$(VAR), VAR from a Secret", c.Name, w[2]))
			}
		case len(w) == 4 && w[0] == "user" && w[1] == "grant-role":
			s.roles[w[2]] = append(s.roles[w[2]], w[3])
		case len(w) == 5 && w[0] == "role" && w[1] == "grant-permission" && step.flags["prefix"] == "true":
			if s.perms[w[2]] == nil {
				s.perms[w[2]] = map[string]string{}
			}
			s.perms[w[2]][w[4]] = w[3]
		}
	}
	return s, problems
}

// permission returns the permission user has on registryPrefix through
// its roles: "readwrite", "read", "write" or "".
func (s etcdSetup) permission(user string) string {
	best := ""
	for _, role := range s.roles[user] {
		if p := s.perms[role][registryPrefix]; p == "readwrite" || best == "" {
			best = p
		}
	}
	return best
}

// checkEtcdAuth checks that etcd runs with authentication: the setup Job
// creates root and each program's user with the permission it needs on the
// registry's prefix, from the Secret key the program reads its password
// from, and enables authentication last; and that each program waits for
// that setup before it starts.
func (ix *index) checkEtcdAuth() []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	job := ix.jobs[etcdAuthJob]
	if job == nil {
		return []string{fmt.Sprintf("Job %s is missing: etcd would run without authentication", etcdAuthJob)}
	}
	setup, ps := readEtcdSetup(job.Spec.Template.Spec)
	for _, p := range ps {
		report("Job %s: %s", etcdAuthJob, p)
	}
	if setup.enabledAt < 0 {
		report("Job %s: never runs etcdctl auth enable", etcdAuthJob)
	} else if !setup.rootReady {
		report("Job %s: must add user root with role root before auth enable (etcd refuses it without)", etcdAuthJob)
	}
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		report("Job %s: restartPolicy must be OnFailure, so that a failed step is retried without the ones before it", etcdAuthJob)
	}

	users := map[string]string{}
	for _, name := range sortedKeys(programs) {
		d := ix.deployments[name]
		if d == nil {
			continue // Check reports it
		}
		spec := d.Spec.Template.Spec
		c := findContainer(spec.Containers, name)
		if c == nil {
			continue
		}
		prefix := "Deployment " + name + ": "
		env := ix.environment(d.Namespace, *c)
		user, file := env["PIGEONHOLE_ETCD_USER"], env["PIGEONHOLE_ETCD_PASSWORD_FILE"]
		if user.value == "" || user.source != nil || file.value == "" || file.source != nil {
			report("%sPIGEONHOLE_ETCD_USER and PIGEONHOLE_ETCD_PASSWORD_FILE must be set (etcd runs with authentication)", prefix)
			continue
		}
		if other, ok := users[user.value]; ok || user.value == "root" {
			report("%sruns as etcd user %q (shared with %q or root): each program needs its own, least-privileged user", prefix, user.value, other)
		}
		users[user.value] = name
		for _, role := range setup.roles[user.value] {
			if at, ok := setup.roleAdded[role]; !ok || at < setup.enabledAt {
				report("%srole %s of etcd user %q must be added after auth enable: the program's wait reads it", prefix, role, user.value)
			}
		}
		if want, got := programs[name].etcdPermission, setup.permission(user.value); got != want {
			report("%setcd user %q has %q on %s through the Job's roles; want %q", prefix, user.value, got, registryPrefix, want)
		}
		from := secretFile(spec, *c, file.value)
		if from == nil {
			report("%sPIGEONHOLE_ETCD_PASSWORD_FILE=%s is not a file of a mounted Secret", prefix, file.value)
		} else if s := ix.secrets[d.Namespace+"/"+from.Name]; s == nil || !hasKey(s, from.Key) {
			report("%sits etcd password comes from key %q of Secret %s, which the manifests do not define", prefix, from.Key, from.Name)
		} else if p := setup.passwords[user.value]; p == nil || p.Name != from.Name || p.Key != from.Key {
			report("%sreads etcd user %q's password from Secret %s key %s, but the Job does not add the user with that password", prefix, user.value, from.Name, from.Key)
		}
		if !waitsAs(ix, d.Namespace, spec.InitContainers, user.value, setup.roles[user.value]) {
			report("%shas no init container that waits for the etcd setup (etcdctl --user as %q, role get of its role)", prefix, user.value)
		}
	}
	return problems
}

// secretFile returns the Secret key a container's file is mounted from, or
// nil if the file is not in a mounted Secret volume.
func secretFile(spec corev1.PodSpec, c corev1.Container, file string) *corev1.SecretKeySelector {
	for _, m := range c.VolumeMounts {
		if path.Dir(file) != path.Clean(m.MountPath) {
			continue
		}
		for _, v := range spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			key := path.Base(file)
			if len(v.Secret.Items) > 0 {
				key = ""
				for _, it := range v.Secret.Items {
					if it.Path == path.Base(file) {
						key = it.Key
					}
				}
				if key == "" {
					return nil
				}
			}
			return &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: v.Secret.SecretName}, Key: key}
		}
	}
	return nil
}

// waitsAs reports whether one of the init containers runs etcdctl role get
// of one of roles as user: that fails until the setup has enabled
// authentication and created the user with that role.
func waitsAs(ix *index, namespace string, inits []corev1.Container, user string, roles []string) bool {
	for _, c := range inits {
		cmd := append(append([]string{}, c.Command...), c.Args...)
		if len(cmd) == 0 || path.Base(cmd[0]) != "etcdctl" {
			continue
		}
		var words []string
		for _, a := range cmd[1:] {
			if !strings.HasPrefix(a, "-") {
				words = append(words, a)
			}
		}
		if len(words) != 3 || words[0] != "role" || words[1] != "get" || !slices.Contains(roles, words[2]) {
			continue
		}
		env := ix.environment(namespace, c)
		for _, a := range cmd[1:] {
			v, ok := strings.CutPrefix(a, "--user=")
			if !ok {
				continue
			}
			v = varRef.ReplaceAllStringFunc(v, func(ref string) string { return env[ref[2:len(ref)-1]].value })
			if name, _, _ := strings.Cut(v, ":"); name == user {
				return true
			}
		}
	}
	return false
}
