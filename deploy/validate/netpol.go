package main

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// guarded are the workloads whose ingress a NetworkPolicy must restrict:
// the replicas' RPC port and etcd take requests only from our own pods.
var guarded = []string{"rpc-server", "etcd"}

// checkNetworkPolicies checks that every policy selects pods of a workload,
// that every pod peer it names is a workload's, that the ports it opens
// are container ports of the pods they lead to, and that the guarded
// workloads have an ingress policy.
func (ix *index) checkNetworkPolicies(policies []*networkingv1.NetworkPolicy) []string {
	var problems []string
	report := func(p *networkingv1.NetworkPolicy, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("NetworkPolicy %s: %s", p.Name, fmt.Sprintf(format, args...)))
	}
	ingress := map[string]bool{}
	for _, p := range policies {
		selected := ix.matching(p.Namespace, p.Spec.PodSelector.MatchLabels)
		if len(selected) == 0 {
			report(p, "its podSelector %v selects no workload's pods", p.Spec.PodSelector.MatchLabels)
			continue
		}
		for _, t := range p.Spec.PolicyTypes {
			if t == networkingv1.PolicyTypeIngress {
				for _, w := range selected {
					ingress[w.name] = true
				}
			}
		}
		checkPeers := func(peers []networkingv1.NetworkPolicyPeer) ([]workload, bool) {
			var out []workload
			for _, peer := range peers {
				if peer.PodSelector == nil {
					return nil, false // outside the manifests: ports not ours to check
				}
				ws := ix.matching(p.Namespace, peer.PodSelector.MatchLabels)
				if len(ws) == 0 {
					report(p, "peer %v selects no workload's pods", peer.PodSelector.MatchLabels)
				}
				out = append(out, ws...)
			}
			return out, true
		}
		checkPorts := func(ports []networkingv1.NetworkPolicyPort, to []workload) {
			for _, port := range ports {
				if port.Port == nil || port.Port.Type != intstr.Int {
					continue
				}
				for _, w := range to {
					if _, ok := containerPort(w.template.Spec.Containers, *port.Port); !ok {
						report(p, "opens port %d, which no container of %s has", port.Port.IntVal, w)
					}
				}
			}
		}
		for _, rule := range p.Spec.Ingress {
			checkPeers(rule.From)
			checkPorts(rule.Ports, selected)
		}
		for _, rule := range p.Spec.Egress {
			if to, ours := checkPeers(rule.To); ours && len(rule.To) > 0 {
				checkPorts(rule.Ports, to)
			}
		}
	}
	for _, name := range guarded {
		if !ingress[name] {
			problems = append(problems, fmt.Sprintf("%s has no NetworkPolicy restricting its ingress", name))
		}
	}
	return problems
}
