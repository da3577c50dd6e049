package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// insomniaFile is the Insomnia collection shipped for trying the API.
var insomniaFile = filepath.Join("..", "insomnia.json")

// insomniaExport is the part of Insomnia's v4 export format the test reads.
type insomniaExport struct {
	Type      string             `json:"_type"`
	Format    int                `json:"__export_format"`
	Resources []insomniaResource `json:"resources"`
}

// insomniaResource is a workspace, environment, request group or request.
type insomniaResource struct {
	ID          string            `json:"_id"`
	Type        string            `json:"_type"`
	ParentID    string            `json:"parentId"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Data        map[string]string `json:"data"`
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Body        struct {
		MimeType string         `json:"mimeType"`
		Text     string         `json:"text"`
		Params   []insomniaPair `json:"params"` // a form's fields
	} `json:"body"`
	Parameters     []insomniaPair `json:"parameters"`
	Headers        []insomniaPair `json:"headers"`
	Authentication struct {
		Type  string `json:"type"`
		Token string `json:"token"`
	} `json:"authentication"`
}

type insomniaPair struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Disabled bool   `json:"disabled"`
}

var (
	baseURLTag     = regexp.MustCompile(`\{\{\s*_\.base_url\s*\}\}`)
	metricsURLTag  = regexp.MustCompile(`\{\{\s*_\.metrics_url\s*\}\}`)
	tokenTag       = regexp.MustCompile(`^\{\{\s*_\.token\s*\}\}$`)
	expectedStatus = regexp.MustCompile(`(?m)^Expected status: (\d{3})$`)
	expectedCode   = regexp.MustCompile(`(?m)^Expected code: ([a-z_]+)$`)
)

// TestInsomniaCollection replays every request of test/insomnia.json, in
// file order, against real processes and checks the status (and error
// code) its description promises, so the examples cannot go stale.
func TestInsomniaCollection(t *testing.T) {
	t.Parallel()
	export := readInsomnia(t)
	var requests []insomniaResource
	parents := map[string]bool{}
	for _, r := range export.Resources {
		switch r.Type {
		case "workspace", "request_group":
			parents[r.ID] = true
		case "request":
			requests = append(requests, r)
		}
	}

	t.Run("IsAnInsomniaV4ExportForLocalhost8080", func(t *testing.T) {
		if export.Type != "export" || export.Format != 4 {
			t.Errorf("_type %q, __export_format %d; want export, 4", export.Type, export.Format)
		}
		i := slices.IndexFunc(export.Resources, func(r insomniaResource) bool { return r.Type == "environment" })
		if i < 0 || export.Resources[i].Data["base_url"] != "http://localhost:8080" {
			t.Errorf("no environment with base_url http://localhost:8080")
		}
		for _, r := range requests {
			if !parents[r.ParentID] {
				t.Errorf("request %q has parent %q, which is no workspace or request group", r.Name, r.ParentID)
			}
		}
	})

	t.Run("CoversEveryEndpointAndErrorStatus", func(t *testing.T) {
		seen := map[string]bool{}
		for _, r := range requests {
			u, _ := url.Parse(metricsURLTag.ReplaceAllString(baseURLTag.ReplaceAllString(r.URL, "http://x"), "http://x"))
			seen[r.Method+" "+u.Path] = true
			seen[strconv.Itoa(wantStatus(t, r))] = true
			if r.Body.MimeType != "" {
				seen[r.Method+" "+u.Path+" as "+r.Body.MimeType] = true
			}
			if acceptsProtobuf(r) {
				seen[r.Method+" "+u.Path+" answered in protobuf"] = true
			}
		}
		for _, want := range []string{
			"GET /ping", "GET /healthz", "GET /readyz", "GET /metrics", "POST /api/send", "GET /api/pull", "POST /api/pull",
			"POST /api/send as application/json", "POST /api/send as application/x-protobuf",
			"POST /api/send as application/x-www-form-urlencoded", "GET /api/pull answered in protobuf",
			"POST /api/chats", "GET /api/inbox", "POST /api/read",
			"200", "400", "401", "403", "404", "405", "409", "413", "415",
		} {
			if !seen[want] {
				t.Errorf("no request for %s", want)
			}
		}
	})

	t.Run("EveryRequestGetsItsExpectedStatus", func(t *testing.T) {
		sys := startSystem(t, stores[0].options(t))
		// The requests of the "With --auth jwt" group go to servers run
		// with it, with a token for a1 as the environment's token.
		args := authArgs(t)
		opts := stores[0].options(t)
		opts.ExtraArgs = args
		rpc := harness.StartRPCServer(t, opts)
		authAPI := newAPI(t, harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}, ExtraArgs: args}).URL)
		token := token(t, args, "a1")
		// /metrics has a listener of its own: metrics_url.
		metricsAPI := newAPI(t, strings.TrimSuffix(sys.gw.MetricsURL, "/metrics"))
		for _, r := range requests { // in order: later requests build on earlier ones
			t.Run(r.Name, func(t *testing.T) {
				var resp response
				switch {
				case r.ParentID == authGroup:
					resp = replay(t, authAPI, r, token)
				case metricsURLTag.MatchString(r.URL):
					resp = replay(t, metricsAPI, r, "")
				default:
					resp = replay(t, sys.api, r, "")
				}
				want := wantStatus(t, r)
				if code := expectedCode.FindStringSubmatch(r.Description); code != nil {
					resp.wantError(t, want, code[1])
				} else if resp.status != want {
					t.Errorf("status %d, want %d; body: %s", resp.status, want, resp.body)
				}
				if got := resp.header.Get("Content-Type"); acceptsProtobuf(r) && !strings.HasPrefix(got, "application/x-protobuf") {
					t.Errorf("Accept: application/x-protobuf answered with Content-Type %q", got)
				}
			})
		}
	})
}

func readInsomnia(t *testing.T) insomniaExport {
	t.Helper()
	b, err := os.ReadFile(insomniaFile)
	if err != nil {
		t.Fatal(err)
	}
	var export insomniaExport
	if err := json.Unmarshal(b, &export); err != nil {
		t.Fatalf("%s: %v", insomniaFile, err)
	}
	return export
}

// wantStatus is the status promised by a request's description.
func wantStatus(t *testing.T, r insomniaResource) int {
	t.Helper()
	m := expectedStatus.FindStringSubmatch(r.Description)
	if m == nil {
		t.Fatalf("request %q: no line \"Expected status: NNN\" in its description", r.Name)
	}
	status, _ := strconv.Atoi(m[1])
	return status
}

// acceptsProtobuf reports whether r asks for a protobuf answer.
func acceptsProtobuf(r insomniaResource) bool {
	return slices.ContainsFunc(r.Headers, func(h insomniaPair) bool {
		return !h.Disabled && strings.EqualFold(h.Name, "Accept") && strings.Contains(h.Value, "application/x-protobuf")
	})
}

// authGroup is the request group whose requests need servers with auth.
const authGroup = "fld_auth"

// replay sends r as Insomnia would: base_url (or metrics_url) filled in,
// parameters added to the query, enabled headers set, Content-Type from the
// body's mimeType, a form's fields URL-encoded as its body, and a bearer
// authentication with token as the environment's token.
func replay(t *testing.T, a *api, r insomniaResource, token string) response {
	t.Helper()
	path := metricsURLTag.ReplaceAllString(baseURLTag.ReplaceAllString(r.URL, ""), "")
	if strings.Contains(path, "{{") {
		t.Fatalf("request %q: URL %q has a template tag other than _.base_url and _.metrics_url", r.Name, r.URL)
	}
	query := url.Values{}
	for _, p := range r.Parameters {
		if !p.Disabled {
			query.Add(p.Name, p.Value)
		}
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var header []string
	hasContentType := false
	for _, h := range r.Headers {
		if !h.Disabled {
			header = append(header, h.Name, h.Value)
			hasContentType = hasContentType || strings.EqualFold(h.Name, "Content-Type")
		}
	}
	switch r.Authentication.Type {
	case "":
	case "bearer":
		if !tokenTag.MatchString(r.Authentication.Token) {
			t.Fatalf("request %q: bearer token %q is not {{ _.token }}", r.Name, r.Authentication.Token)
		}
		header = append(header, "Authorization", "Bearer "+token)
	default:
		t.Fatalf("request %q: authentication %q", r.Name, r.Authentication.Type)
	}
	if r.Body.MimeType != "" && !hasContentType {
		header = append(header, "Content-Type", r.Body.MimeType)
	}
	body := r.Body.Text
	if len(r.Body.Params) > 0 {
		form := url.Values{}
		for _, p := range r.Body.Params {
			if !p.Disabled {
				form.Add(p.Name, p.Value)
			}
		}
		body = form.Encode()
	}
	return a.do(t, r.Method, path, body, header...)
}
