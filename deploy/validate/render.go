package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Object is one rendered Kubernetes object, decoded into its typed form.
type Object struct {
	APIVersion, Kind, Namespace, Name string
	// Value is a pointer to the k8s.io/api struct of the kind, such as
	// *appsv1.Deployment.
	Value any
}

// String names the object the way kubectl does: kind/namespace/name.
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// kinds is the closed set of kinds the manifests may use, each with the
// constructor of its typed struct. A kind outside it is an error: adding one
// means deciding how to check it.
var kinds = map[string]func() any{
	"v1/Namespace":                           func() any { return new(corev1.Namespace) },
	"v1/ConfigMap":                           func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                              func() any { return new(corev1.Secret) },
	"v1/Service":                             func() any { return new(corev1.Service) },
	"apps/v1/Deployment":                     func() any { return new(appsv1.Deployment) },
	"apps/v1/StatefulSet":                    func() any { return new(appsv1.StatefulSet) },
	"batch/v1/Job":                           func() any { return new(batchv1.Job) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return new(autoscalingv2.HorizontalPodAutoscaler) },
	"policy/v1/PodDisruptionBudget":          func() any { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return new(networkingv1.NetworkPolicy) },
}

// Render builds the kustomization in dir with kustomize's default options
// (no plugins, files only from inside the kustomization's tree) and decodes
// every resulting object strictly.
func Render(fsys filesys.FileSystem, dir string) ([]Object, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize: %w", err)
	}
	var objs []Object
	for _, r := range resources.Resources() {
		raw, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", r.GetKind(), r.GetName(), err)
		}
		o := Object{APIVersion: r.GetApiVersion(), Kind: r.GetKind(), Namespace: r.GetNamespace(), Name: r.GetName()}
		if o.Value, err = decodeStrict(o.APIVersion, o.Kind, raw); err != nil {
			return nil, fmt.Errorf("%s: %w", o, err)
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// decodeStrict decodes one object's JSON into the typed struct of its kind,
// rejecting fields the type does not have and trailing data.
func decodeStrict(apiVersion, kind string, raw []byte) (any, error) {
	newValue, ok := kinds[apiVersion+"/"+kind]
	if !ok {
		return nil, fmt.Errorf("kind %s %s is not one the manifests are expected to use", apiVersion, kind)
	}
	v := newValue()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, fmt.Errorf("strict decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("strict decode: trailing data after the object")
	}
	return v, nil
}
