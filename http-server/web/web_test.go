package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/http-server/web"
)

// TestFilesReferenceOnlyServedFiles checks that every file the page or a
// module asks for is one the gateway serves, so the client never loads
// anything from elsewhere (it must work offline) and never 404s on itself.
func TestFilesReferenceOnlyServedFiles(t *testing.T) {
	files, err := web.Files()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]web.File{}
	for _, f := range files {
		served[f.Path] = f
	}
	index, ok := served["/"]
	if !ok {
		t.Fatal("index.html is not served at /")
	}
	if got, want := index.ContentType, "text/html; charset=utf-8"; got != want {
		t.Errorf("index content type: got %q, want %q", got, want)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"|from '([^']+)'|import\('([^']+)'\)`)
	for _, f := range files {
		if !strings.HasPrefix(f.ContentType, "text/") {
			continue
		}
		for _, m := range refs.FindAllStringSubmatch(string(f.Body), -1) {
			ref := m[1] + m[2] + m[3]
			ref = strings.TrimPrefix(ref, "./")
			if !strings.HasPrefix(ref, "/") {
				ref = "/static/" + ref
			}
			if _, ok := served[ref]; !ok {
				t.Errorf("%s refers to %q, which is not served", f.Path, ref)
			}
		}
	}
}

// TestClientHasNoInlineScriptOrMarkupFromData holds the client to the rules
// its Content-Security-Policy and XSS safety rely on: no inline script or
// handler in the page, and no API data ever assigned as markup.
func TestClientHasNoInlineScriptOrMarkupFromData(t *testing.T) {
	files, err := web.Files()
	if err != nil {
		t.Fatal(err)
	}
	inline := regexp.MustCompile(`<script(?:[^>]*)>\s*[^<\s]|\son[a-z]+=`)
	markup := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function`)
	for _, f := range files {
		body := string(f.Body)
		if f.Path == "/" && inline.MatchString(body) {
			t.Errorf("index.html has an inline script or event handler: %q", inline.FindString(body))
		}
		if strings.HasSuffix(f.Path, ".js") && markup.MatchString(body) {
			t.Errorf("%s uses %q", f.Path, markup.FindString(body))
		}
	}
	if !strings.Contains(web.ContentSecurityPolicy, "script-src 'self'") || strings.Contains(web.ContentSecurityPolicy, "unsafe") {
		t.Errorf("the policy must allow scripts from this origin only: %s", web.ContentSecurityPolicy)
	}
}
