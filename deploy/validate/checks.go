package main

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// program describes one of our binaries as its manifests must run it.
type program struct {
	// listenEnv are the variables holding the addresses the program listens
	// on; each must be set, and its port must be a container port.
	listenEnv []string
	// probeEnv is the listen variable whose port serves /healthz and /readyz.
	probeEnv string
	// etcdPermission is what its etcd user may do on registryPrefix.
	etcdPermission string
}

// programs are the Deployments the manifests must contain, by name; each
// runs the image and container of the same name.
var programs = map[string]program{
	"rpc-server":  {listenEnv: []string{"PIGEONHOLE_RPC_ADDR", "PIGEONHOLE_METRICS_ADDR"}, probeEnv: "PIGEONHOLE_METRICS_ADDR", etcdPermission: "readwrite"},
	"http-server": {listenEnv: []string{"PIGEONHOLE_HTTP_ADDR", "PIGEONHOLE_HTTP_METRICS_ADDR"}, probeEnv: "PIGEONHOLE_HTTP_ADDR", etcdPermission: "read"},
}

// workload is a Deployment, StatefulSet or Job: what Services, autoscalers,
// disruption budgets and NetworkPolicies point at.
type workload struct {
	kind, namespace, name string
	selector              map[string]string
	template              *corev1.PodTemplateSpec
}

func (w workload) String() string { return w.kind + "/" + w.namespace + "/" + w.name }

// index holds the rendered objects by kind for the checks.
type index struct {
	namespaces  map[string]bool
	configMaps  map[string]*corev1.ConfigMap // by namespace/name
	secrets     map[string]*corev1.Secret    // by namespace/name
	services    []*corev1.Service
	workloads   []workload
	deployments map[string]*appsv1.Deployment // by name
	jobs        map[string]*batchv1.Job       // by name
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
	pdbs        []*policyv1.PodDisruptionBudget
	policies    []*networkingv1.NetworkPolicy
}

func newIndex(objs []Object) *index {
	ix := &index{
		namespaces:  map[string]bool{},
		configMaps:  map[string]*corev1.ConfigMap{},
		secrets:     map[string]*corev1.Secret{},
		deployments: map[string]*appsv1.Deployment{},
		jobs:        map[string]*batchv1.Job{},
	}
	for _, o := range objs {
		switch v := o.Value.(type) {
		case *corev1.Namespace:
			ix.namespaces[v.Name] = true
		case *corev1.ConfigMap:
			ix.configMaps[v.Namespace+"/"+v.Name] = v
		case *corev1.Secret:
			ix.secrets[v.Namespace+"/"+v.Name] = v
		case *corev1.Service:
			ix.services = append(ix.services, v)
		case *appsv1.Deployment:
			ix.deployments[v.Name] = v
			ix.workloads = append(ix.workloads, workload{"Deployment", v.Namespace, v.Name, selectorOf(v.Spec.Selector), &v.Spec.Template})
		case *appsv1.StatefulSet:
			ix.workloads = append(ix.workloads, workload{"StatefulSet", v.Namespace, v.Name, selectorOf(v.Spec.Selector), &v.Spec.Template})
		case *batchv1.Job:
			// A Job's selector is generated; its pods carry the template's labels.
			ix.jobs[v.Name] = v
			ix.workloads = append(ix.workloads, workload{"Job", v.Namespace, v.Name, v.Spec.Template.Labels, &v.Spec.Template})
		case *autoscalingv2.HorizontalPodAutoscaler:
			ix.hpas = append(ix.hpas, v)
		case *policyv1.PodDisruptionBudget:
			ix.pdbs = append(ix.pdbs, v)
		case *networkingv1.NetworkPolicy:
			ix.policies = append(ix.policies, v)
		}
	}
	return ix
}

// Check returns every problem found in a rendered set of objects, or none.
func Check(objs []Object) []string {
	ix := newIndex(objs)
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, o := range objs {
		if _, isNS := o.Value.(*corev1.Namespace); !isNS && !ix.namespaces[o.Namespace] {
			report("%s: its namespace %q is not among the manifests' Namespaces", o, o.Namespace)
		}
	}
	for _, name := range sortedKeys(programs) {
		if ix.deployments[name] == nil {
			report("Deployment %s is missing", name)
		}
	}
	if !slices.ContainsFunc(ix.workloads, func(w workload) bool { return w.kind == "StatefulSet" && w.name == "etcd" }) {
		report("StatefulSet etcd is missing")
	}
	for _, w := range ix.workloads {
		for _, p := range ix.checkWorkload(w) {
			report("%s: %s", w, p)
		}
	}
	for _, svc := range ix.services {
		for _, p := range ix.checkService(svc) {
			report("Service/%s/%s: %s", svc.Namespace, svc.Name, p)
		}
	}
	for _, name := range sortedKeys(programs) {
		if !ix.hasHPA(name) {
			report("Deployment %s has no HorizontalPodAutoscaler that scales it on CPU", name)
		}
		if d := ix.deployments[name]; d != nil && !ix.hasPDB(d.Spec.Template.Labels) {
			report("Deployment %s has no PodDisruptionBudget", name)
		}
	}
	for _, h := range ix.hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || ix.deployments[h.Spec.ScaleTargetRef.Name] == nil {
			report("HorizontalPodAutoscaler %s scales %s/%s, which is not among the Deployments", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		if min := h.Spec.MinReplicas; min == nil || *min < 1 || h.Spec.MaxReplicas < *min {
			report("HorizontalPodAutoscaler %s: needs 1 <= minReplicas <= maxReplicas", h.Name)
		}
	}
	for _, p := range ix.pdbs {
		if len(ix.matching(p.Namespace, selectorOf(p.Spec.Selector))) == 0 {
			report("PodDisruptionBudget %s selects no workload's pods", p.Name)
		}
		if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
			report("PodDisruptionBudget %s: set exactly one of minAvailable and maxUnavailable", p.Name)
		}
	}
	problems = append(problems, ix.checkNetworkPolicies(ix.policies)...)
	problems = append(problems, ix.checkEtcdAuth()...)
	return problems
}

// checkService checks that svc selects the pods of exactly one workload and
// that each of its target ports is a port of that workload's containers.
func (ix *index) checkService(svc *corev1.Service) []string {
	ws := ix.matching(svc.Namespace, svc.Spec.Selector)
	if len(svc.Spec.Selector) == 0 || len(ws) != 1 {
		return []string{fmt.Sprintf("its selector %v matches %d workloads; want exactly 1", svc.Spec.Selector, len(ws))}
	}
	var problems []string
	for _, port := range svc.Spec.Ports {
		target := port.TargetPort
		if target == (intstr.IntOrString{}) {
			target = intstr.FromInt32(port.Port)
		}
		if _, ok := containerPort(ws[0].template.Spec.Containers, target); !ok {
			problems = append(problems, fmt.Sprintf("port %s targets %s, which no container of %s declares", port.Name, target.String(), ws[0]))
		}
	}
	return problems
}

// matching returns the workloads in namespace whose pod labels sel selects.
func (ix *index) matching(namespace string, sel map[string]string) []workload {
	var out []workload
	for _, w := range ix.workloads {
		if w.namespace == namespace && len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func (ix *index) hasHPA(deployment string) bool {
	return slices.ContainsFunc(ix.hpas, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
		return h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == deployment &&
			slices.ContainsFunc(h.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
				return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU
			})
	})
}

func (ix *index) hasPDB(podLabels map[string]string) bool {
	return slices.ContainsFunc(ix.pdbs, func(p *policyv1.PodDisruptionBudget) bool {
		sel := selectorOf(p.Spec.Selector)
		return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(podLabels))
	})
}

// selectorOf returns a label selector's matchLabels. The manifests select
// by matchLabels only, so a selector of matchExpressions alone selects
// nothing here and is reported.
func selectorOf(s *metav1.LabelSelector) map[string]string {
	if s == nil {
		return nil
	}
	return s.MatchLabels
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
