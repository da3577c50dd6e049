package load

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzValidJSON holds validJSON to encoding/json.Valid on every input.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		samplePage(10),
		`{"messages":[],"has_more":false,"next_cursor":0}`,
		`{"code":"invalid_argument","message":"bad \"chat\": \u00e9\n"}`,
		` [1, -0, 0.5, -12.5e+3, 1E9, true, false, null, "", {}, []] `,
		`{"a":01}`, `[1.]`, `[-]`, `[1e]`, `"\x"`, `"\u12G4"`, "\"\x01\"", "\"\r\"",
		`"0000000000000000000000000000000000000000000000000000000000000000`,
		`{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`, `tru`, `nul`, `{"a":1} x`, ``, ` `,
		"\"\xff\xfe\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func TestValidJSONDepth(t *testing.T) {
	for _, depth := range []int{maxJSONDepth, maxJSONDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			closer := map[string]string{"[": "]", `{"a":`: "}"}[open]
			b := []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(closer, depth))
			if got, want := validJSON(b), json.Valid(b); got != want {
				t.Errorf("%d levels of %s: validJSON %v, encoding/json %v", depth, open, got, want)
			}
		}
	}
}

// samplePage is a pull answer of n messages as the gateway writes it.
func samplePage(n int) string {
	var b strings.Builder
	b.WriteString(`{"messages":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"chat":"benchmitbd9c1a:benchmitbd9c1b","text":"the quick brown pigeon carries a message over the lazy network; ","sender":"benchmitbd9c1a","send_time":%d}`, 1795781120323748+i)
	}
	b.WriteString(`],"has_more":true,"next_cursor":1795781120323758}`)
	return b.String()
}

func BenchmarkValidJSON(b *testing.B) {
	page := []byte(samplePage(10))
	for _, bc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"own", validJSON}, {"encoding-json", json.Valid}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if !bc.valid(page) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
