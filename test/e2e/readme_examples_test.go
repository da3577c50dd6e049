package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readmeFile is this repository's README, whose examples the test runs.
var readmeFile = filepath.Join("..", "..", "README.md")

// example is one curl command of the README and the answer printed under
// it ("# 200 {...}", possibly over several comment lines).
type example struct {
	command    string
	method     string
	path       string
	header     []string
	body       string
	wantStatus int
	wantBody   string // "" when the README shows no answer
	wantCode   string // an error's code; wantBody is then its message
}

// TestReadmeExamples runs the curl examples of the README's Quick start
// and API sections, in order, each section on a fresh store, and checks
// that every answer printed under a command is what the command gets; and
// each curl example of the error table, whose status, code and message
// (when shown) must be what it gets. Send times
// differ from run to run: each one the README shows stands for the time
// the service assigns, and a time shown as one more than another must be
// one more than that one. Likewise a group id the README shows (g and 26
// base32 characters) stands for the id the service generated, and
// created_at for the time it stamped; an inbox's next_cursor is opaque.
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range []struct{ name, from, to string }{
		{"QuickStart", "## Quick start", "## API"},
		{"API", "## API", "## Errors"},
		{"Errors", "## Errors", "## The contract"},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			i, j := strings.Index(readme, s.from), strings.Index(readme, s.to)
			if i < 0 || j < i {
				t.Fatalf("README has no section %q before %q", s.from, s.to)
			}
			examples := parseExamples(t, readme[i:j])
			if s.name == "Errors" {
				examples = parseErrorRows(t, readme[i:j])
			}
			if len(examples) < 3 {
				t.Fatalf("%d curl examples in %q, want at least 3", len(examples), s.from)
			}
			sys := startSystem(t, stores[0].options(t))
			times := learned{times: map[int64]int64{}, groups: map[string]string{}}
			for _, ex := range examples {
				resp := sys.api.do(t, ex.method, times.rewrite(ex.path), times.rewrite(ex.body), ex.header...)
				if ex.wantCode != "" {
					resp.wantError(t, ex.wantStatus, ex.wantCode)
					var e struct{ Message string }
					if err := json.Unmarshal(resp.body, &e); err != nil || ex.wantBody != "" && e.Message != ex.wantBody {
						t.Errorf("%s\nmessage %q, want %q", ex.command, e.Message, ex.wantBody)
					}
					continue
				}
				if ex.wantBody == "" {
					continue
				}
				if resp.status != ex.wantStatus {
					t.Fatalf("%s\nstatus %d, want %d; body: %s", ex.command, resp.status, ex.wantStatus, resp.body)
				}
				var got, want any
				if err := json.Unmarshal(resp.body, &got); err != nil {
					t.Fatalf("%s\nanswer is not JSON: %s", ex.command, resp.body)
				}
				dec := json.NewDecoder(strings.NewReader(ex.wantBody))
				dec.UseNumber()
				if err := dec.Decode(&want); err != nil {
					t.Fatalf("%s\nthe README's answer is not JSON: %v: %s", ex.command, err, ex.wantBody)
				}
				if err := times.match("", want, got); err != nil {
					t.Errorf("%s\n%v\nREADME: %s\ngot:    %s", ex.command, err, ex.wantBody, resp.body)
				}
			}
		})
	}
}

// learned maps the send times and group ids the README shows to the ones
// this run got.
type learned struct {
	times  map[int64]int64
	groups map[string]string
}

// groupInText is a group id written in a URL, body or answer.
var groupInText = regexp.MustCompile(`\bg[a-z2-7]{26}\b`)

// timeInText is a send time written in a URL or body.
var timeInText = regexp.MustCompile(`\b\d{16}\b`)

// rewrite replaces the README's send times in s (and times one more than
// them, as next_cursor shows) with this run's.
func (l learned) rewrite(s string) string {
	m := l.times
	s = groupInText.ReplaceAllStringFunc(s, func(text string) string {
		if got, ok := l.groups[text]; ok {
			return got
		}
		return text
	})
	return timeInText.ReplaceAllStringFunc(s, func(text string) string {
		n, _ := strconv.ParseInt(text, 10, 64)
		if got, ok := m[n]; ok {
			return strconv.FormatInt(got, 10)
		}
		if got, ok := m[n-1]; ok {
			return strconv.FormatInt(got+1, 10)
		}
		return text
	})
}

// isTime reports whether n looks like a send time: microseconds since the
// epoch, after 2001.
func isTime(n int64) bool { return n > 1e15 }

// match compares a README answer (numbers as json.Number) with a real one
// (numbers as float64), learning the send times as it goes: a send_time
// not seen before is a new message's, any other time (a next_cursor) must
// be one already seen or one more than one.
func (l learned) match(key string, want, got any) error {
	m := l.times
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %v, want an object with the keys of %v", got, w)
		}
		for _, k := range slices.Sorted(maps.Keys(w)) { // send_time before next_cursor
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("no %q in the answer", k)
			}
			if err := l.match(k, w[k], gv); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %v, want %d items", got, len(w))
		}
		for i := range w {
			if err := l.match(key, w[i], g[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case json.Number:
		wn, err := w.Int64()
		if err != nil {
			return fmt.Errorf("README number %s is not an integer", w)
		}
		gf, ok := got.(float64)
		if !ok {
			return fmt.Errorf("got %v, want a number", got)
		}
		gn := int64(gf)
		if !isTime(wn) {
			if gn != wn {
				return fmt.Errorf("got %d, want %d", gn, wn)
			}
			return nil
		}
		if known, ok := m[wn]; ok {
			if gn != known {
				return fmt.Errorf("got %d, want the time shown as %d, which was %d", gn, wn, known)
			}
			return nil
		}
		if previous, ok := m[wn-1]; ok {
			if gn != previous+1 {
				return fmt.Errorf("got %d, want one more than the time shown as %d, which was %d", gn, wn-1, previous)
			}
			return nil
		}
		if key != "send_time" && key != "created_at" {
			return fmt.Errorf("%d is neither a send time shown before nor one more than one", wn)
		}
		m[wn] = gn
	case string:
		g, ok := got.(string)
		switch {
		case !ok:
			return fmt.Errorf("got %v, want a string", got)
		case key == "next_cursor":
			if g == "" {
				return fmt.Errorf("an empty next_cursor")
			}
		case groupInText.MatchString(w) && len(w) == len(g):
			if known, ok := l.groups[w]; ok && known != g {
				return fmt.Errorf("got %q, want the group shown as %s, which was %q", g, w, known)
			} else if !ok {
				l.groups[w] = g
			}
		case w != g:
			return fmt.Errorf("got %q, want %q", g, w)
		}
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
	}
	return nil
}

// answerLine is a comment under a command showing its answer.
var answerLine = regexp.MustCompile(`^# (\d{3}) (.*)$`)

// parseExamples reads the curl commands of the ```sh blocks in section and
// the answers shown under them.
func parseExamples(t *testing.T, section string) []example {
	t.Helper()
	var out []example
	inBlock := false
	lines := strings.Split(section, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "```sh"):
			inBlock = true
			continue
		case strings.HasPrefix(line, "```"):
			inBlock = false
			continue
		}
		if !inBlock || !strings.HasPrefix(line, "curl ") {
			continue
		}
		command := line
		for strings.HasSuffix(command, `\`) && i+1 < len(lines) {
			i++
			command = strings.TrimSuffix(command, `\`) + " " + strings.TrimSpace(lines[i])
		}
		ex := parseCurl(t, command)
		// The answer: "# 200 {...}" and its continuation lines ("#   ...").
		if i+1 < len(lines) {
			if m := answerLine.FindStringSubmatch(lines[i+1]); m != nil {
				i++
				ex.wantStatus, _ = strconv.Atoi(m[1])
				body := m[2]
				for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "#  ") {
					i++
					body += strings.TrimSpace(strings.TrimPrefix(lines[i], "#"))
				}
				ex.wantBody = body
			} else if strings.HasPrefix(lines[i+1], "# {") {
				i++
				ex.wantStatus, ex.wantBody = http.StatusOK, strings.TrimPrefix(lines[i], "# ")
			}
		}
		out = append(out, ex)
	}
	return out
}

// errorRow is a row of the README's error table whose example is a curl
// command: status, code, the command, and the message after "→" if shown.
var errorRow = regexp.MustCompile("^\\| (\\d{3}) \\| `([a-z_]+)` \\| `(curl [^`]+)`(?: → `([^`]+)`)?")

// parseErrorRows reads the curl examples of the README's error table.
func parseErrorRows(t *testing.T, section string) []example {
	t.Helper()
	var out []example
	for line := range strings.Lines(section) {
		m := errorRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ex := parseCurl(t, m[3])
		ex.wantStatus, _ = strconv.Atoi(m[1])
		ex.wantCode, ex.wantBody = m[2], m[4]
		out = append(out, ex)
	}
	return out
}

// parseCurl understands the curl options the README uses: -X, -H, -d and
// one URL on localhost:8080, with single-quoted arguments.
func parseCurl(t *testing.T, command string) example {
	t.Helper()
	args := shellWords(t, command)
	ex := example{command: command, method: http.MethodGet}
	explicitMethod := false
	for i := 1; i < len(args); i++ {
		next := func() string {
			if i+1 >= len(args) {
				t.Fatalf("%s: %s without a value", command, args[i])
			}
			i++
			return args[i]
		}
		switch args[i] {
		case "-X":
			ex.method, explicitMethod = next(), true
		case "-H":
			name, value, ok := strings.Cut(next(), ":")
			if !ok {
				t.Fatalf("%s: header %q", command, args[i])
			}
			ex.header = append(ex.header, name, strings.TrimSpace(value))
		case "-d":
			ex.body = next()
			if !explicitMethod {
				ex.method = http.MethodPost // curl's default for -d
			}
		default:
			if strings.HasPrefix(args[i], "-") {
				t.Fatalf("%s: option %s is not understood by this test", command, args[i])
			}
			u, err := url.Parse("http://" + strings.TrimPrefix(args[i], "http://"))
			if err != nil || u.Host != "localhost:8080" {
				t.Fatalf("%s: URL %q is not on localhost:8080", command, args[i])
			}
			ex.path = u.RequestURI()
		}
	}
	if ex.path == "" {
		t.Fatalf("%s: no URL", command)
	}
	if ex.body != "" && !bytes.Contains([]byte(strings.Join(ex.header, " ")), []byte("Content-Type")) {
		// curl's default for -d.
		ex.header = append(ex.header, "Content-Type", "application/x-www-form-urlencoded")
	}
	return ex
}

// shellWords splits a command line on spaces, keeping single-quoted
// strings whole (the only quoting the README's commands use).
func shellWords(t *testing.T, command string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range command {
		switch {
		case r == '\'':
			quoted = !quoted
			inWord = true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %s", command)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}
