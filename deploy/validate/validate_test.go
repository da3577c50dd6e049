package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// loadTree copies deploy/k8s into an in-memory file system at /k8s, so a
// test can break one file without touching the real tree.
func loadTree(tb testing.TB) filesys.FileSystem {
	tb.Helper()
	mem := filesys.MakeFsInMemory()
	root := filepath.Join("..", "k8s")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		return mem.WriteFile(filepath.ToSlash(filepath.Join("/k8s", rel)), body)
	})
	if err != nil {
		tb.Fatalf("loading %s: %v", root, err)
	}
	return mem
}

// edit replaces the single occurrence of old in file with new.
func edit(tb testing.TB, mem filesys.FileSystem, file, old, new string) {
	tb.Helper()
	body, err := mem.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	if n := strings.Count(string(body), old); n != 1 {
		tb.Fatalf("%s holds %q %d times; the test needs exactly one", file, old, n)
	}
	if err := mem.WriteFile(file, []byte(strings.Replace(string(body), old, new, 1))); err != nil {
		tb.Fatal(err)
	}
}

func TestShippedManifestsAreValid(t *testing.T) {
	for _, dir := range []string{"/k8s/base", "/k8s/overlays/example"} {
		t.Run(strings.TrimPrefix(dir, "/k8s/"), func(t *testing.T) {
			objs, err := Render(loadTree(t), dir)
			if err != nil {
				t.Fatal(err)
			}
			if problems := Check(objs); len(problems) > 0 {
				t.Fatalf("problems:\n%s", strings.Join(problems, "\n"))
			}
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.Kind]++
			}
			for kind, want := range map[string]int{
				"Namespace": 1, "ConfigMap": 1, "Secret": 3, "Service": 3, "Deployment": 2,
				"StatefulSet": 1, "Job": 1, "HorizontalPodAutoscaler": 2, "PodDisruptionBudget": 2, "NetworkPolicy": 3,
			} {
				if got := kinds[kind]; got != want {
					t.Errorf("%d objects of kind %s; want %d", got, kind, want)
				}
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"UnknownField", "http-server.yaml", "readinessProbe:", "readinesProbe:", `unknown field "readinesProbe"`},
		{"WrongFieldType", "rpc-server.yaml", "replicas: 3", "replicas: three", "strict decode"},
		{"UnexpectedKind", "namespace.yaml", "  name: pigeonhole\n", "  name: pigeonhole\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: x\n", "Ingress is not one"},
		{"DuplicateKey", "configmap.yaml", "  PIGEONHOLE_LOG_LEVEL: info\n", "  PIGEONHOLE_LOG_LEVEL: info\n  PIGEONHOLE_LOG_LEVEL: debug\n", "PIGEONHOLE_LOG_LEVEL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := loadTree(t)
			edit(t, mem, "/k8s/base/"+tc.file, tc.old, tc.new)
			_, err := Render(mem, "/k8s/base")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Render: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckReports(t *testing.T) {
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"MissingLivenessProbe", "http-server.yaml", "          livenessProbe:\n            httpGet:\n              path: /healthz\n              port: http\n            initialDelaySeconds: 5\n            periodSeconds: 10\n            failureThreshold: 3\n", "", "has no livenessProbe"},
		{"ProbeOnUndeclaredPort", "rpc-server.yaml", "              path: /healthz\n              port: metrics", "              path: /healthz\n              port: admin", "port admin, which the container does not declare"},
		{"ServiceTargetsNoContainerPort", "http-server.yaml", "      port: 8080\n      targetPort: http", "      port: 8080\n      targetPort: 8081", "targets 8081"},
		{"ServiceSelectsNothing", "http-server.yaml", "  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: http-server", "  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: gateway", "matches 0 workloads"},
		{"ListenAddressNotAContainerPort", "configmap.yaml", `PIGEONHOLE_HTTP_ADDR: ":8080"`, `PIGEONHOLE_HTTP_ADDR: ":8081"`, "listens on 8081"},
		{"AdvertiseAddressNotThePod", "rpc-server.yaml", "value: $(POD_IP):8888", "value: rpc-server:8888", "PIGEONHOLE_ADVERTISE_ADDR"},
		{"EtcdNotAService", "configmap.yaml", "PIGEONHOLE_ETCD: etcd:2379", "PIGEONHOLE_ETCD: discovery:2379", "no Service discovery"},
		{"RootAllowed", "http-server.yaml", "        runAsNonRoot: true\n        runAsUser: 65532\n        runAsGroup: 65532\n        seccompProfile", "        runAsGroup: 65532\n        seccompProfile", "runAsNonRoot is not set"},
		{"WritableRoot", "rpc-server.yaml", "readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n          volumeMounts:", "readOnlyRootFilesystem: false\n            capabilities:\n              drop: [\"ALL\"]\n          volumeMounts:", "readOnlyRootFilesystem"},
		{"InitContainerWritableRoot", "http-server.yaml", "readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n      containers:", "readOnlyRootFilesystem: false\n            capabilities:\n              drop: [\"ALL\"]\n      containers:", "init container wait-for-etcd-auth: readOnlyRootFilesystem"},
		{"MutableImageTag", "http-server.yaml", "pigeonhole/http-server:dev", "pigeonhole/http-server", "needs a fixed tag"},
		{"WrongImage", "rpc-server.yaml", "image: pigeonhole/rpc-server:dev", "image: pigeonhole/http-server:dev", "not a rpc-server image"},
		{"NoAutoscaler", "rpc-server.yaml", "    name: rpc-server\n  minReplicas: 3", "    name: rpc-servers\n  minReplicas: 3", "rpc-server has no HorizontalPodAutoscaler"},
		{"MissingSecretKey", "rpc-server.yaml", "key: dsn", "key: password", `key "password" of Secret pigeonhole-mysql`},
		{"PolicySelectsNothing", "networkpolicy.yaml", "  name: rpc-server\nspec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: rpc-server", "  name: rpc-server\nspec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: rpc", "selects no workload's pods"},
		{"PolicyPeerSelectsNothing", "networkpolicy.yaml", "      app.kubernetes.io/name: http-server\n      ports:\n        - port: 8888", "      app.kubernetes.io/name: gateway\n      ports:\n        - port: 8888", "peer map[app.kubernetes.io/name:gateway] selects no workload's pods"},
		{"PolicyOpensAPortNobodyHas", "networkpolicy.yaml", "        - port: 2379\n          protocol: TCP\n    # Peers", "        - port: 2378\n          protocol: TCP\n    # Peers", "opens port 2378"},
		{"NoEtcdSetup", "kustomization.yaml", "  - etcd-auth.yaml\n", "", "Job etcd-auth is missing"},
		{"AuthNeverEnabled", "etcd-auth.yaml", "            - auth\n            - enable\n", "            - auth\n            - status\n", "never runs etcdctl auth enable"},
		{"ReplicaRoleBeforeAuth", "etcd-auth.yaml", "            - replica\n            - registrar\n", "            - replica\n            - root\n", `role root of etcd user "replica" must be added after auth enable`},
		{"WaitReadsAnotherRole", "http-server.yaml", "            - discoverer\n", "            - registrar\n", "Deployment http-server: has no init container that waits for the etcd setup"},
		{"GatewayMayWrite", "etcd-auth.yaml", "            - --prefix=true\n            - read\n", "            - --prefix=true\n            - readwrite\n", `etcd user "gateway" has "readwrite"`},
		{"ReplicaWithoutEtcdUser", "rpc-server.yaml", "Secret).\n            - name: PIGEONHOLE_ETCD_USER\n              value: replica\n", "Secret).\n", "Deployment rpc-server: PIGEONHOLE_ETCD_USER and PIGEONHOLE_ETCD_PASSWORD_FILE must be set"},
		{"PasswordFromAnotherKey", "http-server.yaml", "              - key: gateway\n", "              - key: replica\n", "but the Job does not add the user with that password"},
		{"PasswordFileNotASecret", "rpc-server.yaml", "value: /var/run/secrets/etcd/password", "value: /tmp/password", "is not a file of a mounted Secret"},
		{"GatewayDoesNotWait", "http-server.yaml", "            - --user=$(PIGEONHOLE_ETCD_USER)\n", "", "Deployment http-server: has no init container that waits for the etcd setup"},
		{"SetupCannotReachEtcd", "networkpolicy.yaml", "              app.kubernetes.io/name: etcd-auth\n", "              app.kubernetes.io/name: etcd-setup\n", "peer map[app.kubernetes.io/name:etcd-setup] selects no workload's pods"},
		{"ReplicasUnguarded", "kustomization.yaml", "  - networkpolicy.yaml\n", "", "rpc-server has no NetworkPolicy restricting its ingress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := loadTree(t)
			edit(t, mem, "/k8s/base/"+tc.file, tc.old, tc.new)
			objs, err := Render(mem, "/k8s/base")
			if err != nil {
				t.Fatal(err)
			}
			problems := strings.Join(Check(objs), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", problems, tc.want)
			}
		})
	}
}

func TestDeploymentPortsMustMatchTheImage(t *testing.T) {
	objs, err := Render(loadTree(t), "/k8s/base")
	if err != nil {
		t.Fatal(err)
	}
	dockerfiles := map[string]Dockerfile{}
	for _, program := range sortedKeys(programs) {
		df, _, err := ParseDockerfile(filepath.Join("..", "..", program, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		dockerfiles[program] = df
	}
	if problems := checkImagePorts(objs, dockerfiles); len(problems) > 0 {
		t.Fatalf("shipped files: %v", problems)
	}
	dockerfiles["http-server"] = Dockerfile{Expose: []int32{8080, 8443}}
	if got := strings.Join(checkImagePorts(objs, dockerfiles), "\n"); !strings.Contains(got, "Deployment http-server declares ports [8080 9091]; its image exposes [8080 8443]") {
		t.Fatalf("problems: %q; want the http-server port mismatch", got)
	}
}
