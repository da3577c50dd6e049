package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// variant writes a copy of the repository's file at rel into a temporary
// directory, with old replaced by new (old must occur exactly once), and
// returns its path.
func variant(tb testing.TB, rel, old, new string) string {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		tb.Fatal(err)
	}
	if n := strings.Count(string(body), old); n != 1 {
		tb.Fatalf("%s holds %q %d times; the test needs exactly one", rel, old, n)
	}
	p := filepath.Join(tb.TempDir(), filepath.Base(rel))
	if err := os.WriteFile(p, []byte(strings.Replace(string(body), old, new, 1)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestShippedDockerfilesAreValid(t *testing.T) {
	for program, want := range map[string][]int32{"rpc-server": {8888, 9090}, "http-server": {8080, 9091}} {
		t.Run(program, func(t *testing.T) {
			df, problems, err := ParseDockerfile(filepath.Join("..", "..", program, "Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) > 0 {
				t.Fatalf("problems:\n%s", strings.Join(problems, "\n"))
			}
			if !slices.Equal(df.Expose, want) {
				t.Fatalf("EXPOSE %v; want %v", df.Expose, want)
			}
		})
	}
}

func TestDockerfileReports(t *testing.T) {
	const rpc = "rpc-server/Dockerfile"
	for _, tc := range []struct{ name, old, new, want string }{
		{"RootUser", "USER 65532:65532", "USER 0", "not a numeric non-root uid"},
		{"NamedUser", "USER 65532:65532", "USER nonroot", "not a numeric non-root uid"},
		{"ShellEntrypoint", `ENTRYPOINT ["/rpc-server"]`, "ENTRYPOINT /rpc-server", "exec-form"},
		{"CgoBuild", "RUN CGO_ENABLED=0 go build", "RUN go build", "CGO_ENABLED=0 and -trimpath"},
		{"ShellRuntime", "ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot", "ARG RUNTIME_IMAGE=debian:bookworm", "final stage base"},
		{"UnpinnedGo", "ARG GO_IMAGE=golang:1.26-bookworm", "ARG GO_IMAGE=golang:latest", "build stage base"},
		{"UnknownStage", "COPY --from=build /out/rpc-server", "COPY --from=builder /out/rpc-server", "names no earlier stage"},
		{"LintCasing", "FROM ${GO_IMAGE} AS build", "FROM ${GO_IMAGE} as build", "FromAsCasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems, err := ParseDockerfile(variant(t, rpc, tc.old, tc.new))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(problems, "\n"); !strings.Contains(got, tc.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", got, tc.want)
			}
		})
	}
}

func TestComposeReports(t *testing.T) {
	dockerfiles := map[string]Dockerfile{
		"rpc-server":  {Path: "rpc-server/Dockerfile", Expose: []int32{8888, 9090}},
		"http-server": {Path: "http-server/Dockerfile", Expose: []int32{8080}},
	}
	t.Run("ShippedFileIsValid", func(t *testing.T) {
		problems, err := CheckCompose(filepath.Join("..", "..", "docker-compose.yml"), dockerfiles)
		if err != nil || len(problems) > 0 {
			t.Fatalf("CheckCompose: %v\n%s", err, strings.Join(problems, "\n"))
		}
	})
	for _, tc := range []struct{ name, old, new, want string }{
		{"PublishedPortNotExposed", `"8080:8080"`, `"8080:8081"`, "publishes"},
		{"ListenPortNotExposed", "PIGEONHOLE_METRICS_ADDR: :9090", "PIGEONHOLE_METRICS_ADDR: :9191", "PIGEONHOLE_METRICS_ADDR"},
		{"EtcdHostNotAService", "PIGEONHOLE_ETCD: etcd:2379\n      PIGEONHOLE_AUTH: jwt\n      PIGEONHOLE_JWT_SECRET_FILE: /secrets/jwt.secret\n      # etcd's read-only",
			"PIGEONHOLE_ETCD: discovery:2379\n      PIGEONHOLE_AUTH: jwt\n      PIGEONHOLE_JWT_SECRET_FILE: /secrets/jwt.secret\n      # etcd's read-only", "not host:port of a service"},
		{"NoEtcdSetup", "  etcd-auth:\n    image: mysql:8.4\n", "  etcd-setup:\n    image: mysql:8.4\n", "no service etcd-auth"},
		{"GatewayWithoutEtcdUser", "      PIGEONHOLE_ETCD_USER: gateway\n", "", "service http-server: PIGEONHOLE_ETCD_USER and PIGEONHOLE_ETCD_PASSWORD_FILE must be set"},
		{"SharedEtcdUser", "      PIGEONHOLE_ETCD_USER: gateway\n", "      PIGEONHOLE_ETCD_USER: replica\n", "each program needs its own"},
		{"PasswordNotFromSetup", "      - etcd-gateway:/etcd-secrets:ro\n", "      - jwt-secret:/etcd-secrets:ro\n", "in volume jwt-secret, which etcd-auth does not write"},
		{"PasswordVolumeWritable", "      - etcd-replica:/etcd-secrets:ro\n", "      - etcd-replica:/etcd-secrets\n", "must mount volume etcd-replica read-only"},
		{"ReplicasDoNotWaitForEtcdSetup", "      jwt-secret:\n        condition: service_completed_successfully\n      etcd-auth:\n        condition: service_completed_successfully\n    deploy:",
			"      jwt-secret:\n        condition: service_completed_successfully\n      etcd-auth:\n        condition: service_started\n    deploy:", "service rpc-server: must depend on etcd-auth"},
		{"SetupDoesNotWaitForEtcd", "  etcd-auth:\n    image: mysql:8.4\n", "  etcd-auth:\n    image: mysql:8.4\n    depends_on: {}\n  unused:\n", "service etcd-auth: must depend on etcd with condition service_healthy"},
		{"MySQLHostNotAService", "@tcp(mysql:3306)", "@tcp(db:3306)", "PIGEONHOLE_MYSQL"},
		{"WrongDockerfile", "dockerfile: http-server/Dockerfile", "dockerfile: gateway/Dockerfile", "must build with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := CheckCompose(variant(t, "docker-compose.yml", tc.old, tc.new), dockerfiles)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(problems, "\n"); !strings.Contains(got, tc.want) {
				t.Fatalf("problems:\n%s\nwant one containing %q", got, tc.want)
			}
		})
	}
}
