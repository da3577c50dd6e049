package main

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkWorkload checks one Deployment or StatefulSet: what every workload
// needs (selector, security, probes, resources, resolvable environment),
// and for our programs how they must be run.
func (ix *index) checkWorkload(w workload) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	spec := w.template.Spec

	if len(w.selector) == 0 || !labels.SelectorFromSet(w.selector).Matches(labels.Set(w.template.Labels)) {
		report("its selector %v does not select its own pod template's labels", w.selector)
	}
	if spec.TerminationGracePeriodSeconds == nil {
		report("terminationGracePeriodSeconds is not set")
	}
	podNonRoot := spec.SecurityContext != nil && isTrue(spec.SecurityContext.RunAsNonRoot)
	if spec.SecurityContext != nil && spec.SecurityContext.RunAsUser != nil && *spec.SecurityContext.RunAsUser == 0 {
		report("the pod runs as user 0")
	}
	// A Job's containers run to completion: no probes. Neither do init
	// containers.
	for _, c := range spec.Containers {
		for _, p := range ix.checkContainer(w.namespace, c, podNonRoot, w.kind != "Job") {
			report("container %s: %s", c.Name, p)
		}
	}
	for _, c := range spec.InitContainers {
		for _, p := range ix.checkContainer(w.namespace, c, podNonRoot, false) {
			report("init container %s: %s", c.Name, p)
		}
	}

	prog, ok := programs[w.name]
	if !ok || w.kind != "Deployment" {
		return problems
	}
	c := findContainer(spec.Containers, w.name)
	if c == nil {
		report("has no container named %s", w.name)
		return problems
	}
	if base := path.Base(imageRepo(c.Image)); base != w.name {
		report("container %s runs image %q, not a %s image", c.Name, c.Image, w.name)
	}
	env := ix.environment(w.namespace, *c)
	ports := map[string]int32{}
	for _, name := range prog.listenEnv {
		v, ok := env[name]
		if !ok || v.source != nil {
			report("%s must be set to a literal listen address", name)
			continue
		}
		port, err := addrPort(v.value)
		if err != nil {
			report("%s=%q: %v", name, v.value, err)
			continue
		}
		if _, ok := containerPort(spec.Containers, intstr.FromInt32(port)); !ok {
			report("%s=%q listens on %d, which is not a container port", name, v.value, port)
		}
		ports[name] = port
	}
	for probeName, want := range map[string]struct {
		probe *corev1.Probe
		path  string
	}{"readinessProbe": {c.ReadinessProbe, "/readyz"}, "livenessProbe": {c.LivenessProbe, "/healthz"}} {
		if want.probe == nil || want.probe.HTTPGet == nil || want.probe.HTTPGet.Path != want.path {
			report("%s must be an HTTP GET of %s", probeName, want.path)
			continue
		}
		if port, ok := containerPort(spec.Containers, want.probe.HTTPGet.Port); ok && ports[prog.probeEnv] != 0 && port != ports[prog.probeEnv] {
			report("%s probes port %d, but %s serves on %d", probeName, port, prog.probeEnv, ports[prog.probeEnv])
		}
	}
	etcd, ok := env["PIGEONHOLE_ETCD"]
	if !ok || etcd.value == "" {
		report("PIGEONHOLE_ETCD is not set: replicas would not be discovered")
	} else {
		for _, p := range ix.checkEndpoints(w.namespace, etcd.value) {
			report("PIGEONHOLE_ETCD: %s", p)
		}
	}
	if w.name == "rpc-server" {
		if v := env["PIGEONHOLE_MYSQL"]; v.source == nil || v.source.SecretKeyRef == nil {
			report("PIGEONHOLE_MYSQL must come from a Secret")
		}
		want := fmt.Sprintf("$(POD_IP):%d", ports["PIGEONHOLE_RPC_ADDR"])
		if v := env["PIGEONHOLE_ADVERTISE_ADDR"]; v.value != want {
			report("PIGEONHOLE_ADVERTISE_ADDR is %q; want %q, the pod's own address", v.value, want)
		}
		if v := env["POD_IP"]; v.source == nil || v.source.FieldRef == nil || v.source.FieldRef.FieldPath != "status.podIP" {
			report("POD_IP must come from the downward API (status.podIP)")
		}
	}
	return problems
}

// checkContainer checks what every container needs; probes only of a
// long-running one.
func (ix *index) checkContainer(namespace string, c corev1.Container, podNonRoot, probes bool) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	repo := imageRepo(c.Image)
	if tag := strings.TrimPrefix(c.Image, repo); tag == "" || tag == ":latest" {
		report("image %q needs a fixed tag or digest", c.Image)
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if !podNonRoot && !isTrue(sc.RunAsNonRoot) {
		report("runAsNonRoot is not set")
	}
	if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		report("runs as user 0")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		report("readOnlyRootFilesystem is not set")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		report("allowPrivilegeEscalation must be false")
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		report("capabilities must drop ALL")
	}
	for name, p := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		switch {
		case p == nil && probes:
			report("has no %s", name)
		case p != nil && p.HTTPGet != nil:
			if _, ok := containerPort([]corev1.Container{c}, p.HTTPGet.Port); !ok {
				report("%s uses port %s, which the container does not declare", name, p.HTTPGet.Port.String())
			}
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			report("has no %s request", r)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		report("has no memory limit")
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil && ix.configMaps[namespace+"/"+from.ConfigMapRef.Name] == nil {
			report("envFrom names ConfigMap %s, which is not among the manifests", from.ConfigMapRef.Name)
		}
		if from.SecretRef != nil && ix.secrets[namespace+"/"+from.SecretRef.Name] == nil {
			report("envFrom names Secret %s, which is not among the manifests", from.SecretRef.Name)
		}
	}
	defined := map[string]bool{}
	for name := range ix.environment(namespace, corev1.Container{EnvFrom: c.EnvFrom}) {
		defined[name] = true
	}
	for _, e := range c.Env {
		for _, ref := range varRef.FindAllStringSubmatch(e.Value, -1) {
			if !defined[ref[1]] {
				report("%s refers to $(%s), which is not defined before it", e.Name, ref[1])
			}
		}
		defined[e.Name] = true
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			if s := ix.secrets[namespace+"/"+r.Name]; s == nil || !hasKey(s, r.Key) {
				report("%s comes from key %q of Secret %s, which the manifests do not define", e.Name, r.Key, r.Name)
			}
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			if cm := ix.configMaps[namespace+"/"+r.Name]; cm == nil || cm.Data[r.Key] == "" {
				report("%s comes from key %q of ConfigMap %s, which the manifests do not define", e.Name, r.Key, r.Name)
			}
		}
	}
	return problems
}

// varRef matches a Kubernetes $(VAR) reference in an env value.
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// envValue is one variable of a container's environment: a literal value,
// or the source it comes from at run time.
type envValue struct {
	value  string
	source *corev1.EnvVarSource
}

// environment is the container's environment as the kubelet builds it:
// ConfigMaps from envFrom first, then env, which wins.
func (ix *index) environment(namespace string, c corev1.Container) map[string]envValue {
	env := map[string]envValue{}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			continue
		}
		if cm := ix.configMaps[namespace+"/"+from.ConfigMapRef.Name]; cm != nil {
			for k, v := range cm.Data {
				env[from.Prefix+k] = envValue{value: v}
			}
		}
	}
	for _, e := range c.Env {
		env[e.Name] = envValue{value: e.Value, source: e.ValueFrom}
	}
	return env
}

// checkEndpoints checks a host:port list; a host without dots must be a
// Service in namespace that exposes that port.
func (ix *index) checkEndpoints(namespace, list string) []string {
	var problems []string
	for _, ep := range strings.Split(list, ",") {
		host, portText, err := net.SplitHostPort(strings.TrimSpace(ep))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q is not host:port", ep))
			continue
		}
		if strings.Contains(host, ".") {
			continue // outside the manifests
		}
		port, _ := strconv.Atoi(portText)
		found := false
		for _, svc := range ix.services {
			if svc.Namespace == namespace && svc.Name == host {
				for _, p := range svc.Spec.Ports {
					found = found || int(p.Port) == port
				}
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%q: no Service %s with port %d", ep, host, port))
		}
	}
	return problems
}

// containerPort resolves a port by number or name among the containers'
// declared ports.
func containerPort(containers []corev1.Container, p intstr.IntOrString) (int32, bool) {
	for _, c := range containers {
		for _, cp := range c.Ports {
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// addrPort returns the port of a listen address such as ":8080".
func addrPort(addr string) (int32, error) {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return 0, fmt.Errorf("bad port %q", portText)
	}
	return int32(port), nil
}

// imageRepo returns an image reference without its tag or digest.
func imageRepo(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func hasKey(s *corev1.Secret, key string) bool {
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	return inData || inString
}

func isTrue(b *bool) bool { return b != nil && *b }
