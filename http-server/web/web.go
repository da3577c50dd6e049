// Package web holds the browser chat client that the gateway serves at "/":
// plain HTML, CSS and JavaScript modules, embedded in the binary so that the
// page needs no build step, no CDN and no network beyond the gateway itself.
// The client speaks only the public HTTP API (/api/...), as any other client
// does; it has no privileges of its own.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every file of the client. It allows
// scripts, styles and connections to this origin only: no inline script, no
// eval, no plugins, no framing, so a message text that slipped into markup
// still could not run.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// File is one file of the client, ready to serve.
type File struct {
	// Path is where it is served: "/" for index.html, else "/static/NAME".
	Path string
	// ContentType is its media type, with charset for text.
	ContentType string
	// ETag is a strong validator derived from Body.
	ETag string
	// Body is the file's content.
	Body []byte
}

// Files returns every file of the client, index first, in a stable order.
func Files() ([]File, error) {
	var files []File
	err := fs.WalkDir(static, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(name)
		if err != nil {
			return err
		}
		base := path.Base(name)
		served := "/static/" + base
		if base == "index.html" {
			served = "/"
		}
		contentType := mime.TypeByExtension(path.Ext(base))
		if contentType == "" {
			return fmt.Errorf("web: no media type for %s", name)
		}
		sum := sha256.Sum256(body)
		files = append(files, File{
			Path:        served,
			ContentType: contentType,
			ETag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			Body:        body,
		})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, err
}
