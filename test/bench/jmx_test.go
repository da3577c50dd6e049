package main

import (
	"encoding/xml"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// jmxPath is the JMeter plan, relative to this package.
const jmxPath = "../load-testing.jmx"

// element is any XML element of a JMeter plan.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []element  `xml:",any"`
}

func (e element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// prop returns the text of the first descendant property named name (a
// stringProp, boolProp or intProp), or "" with ok false.
func (e element) prop(name string) (value string, ok bool) {
	for _, c := range e.Children {
		if c.attr("name") == name && c.XMLName.Local != "elementProp" && c.XMLName.Local != "collectionProp" {
			return c.Text, true
		}
		if v, ok := c.prop(name); ok {
			return v, true
		}
	}
	return "", false
}

// all returns every descendant with tag name.
func (e element) all(tag string) []element {
	var out []element
	for _, c := range e.Children {
		if c.XMLName.Local == tag {
			out = append(out, c)
		}
		out = append(out, c.all(tag)...)
	}
	return out
}

// scoped returns the test elements in the hashTree that follows each
// element with tag in a JMeter plan, keyed by the element's testname: a
// plan element's children live in the hashTree after it.
func (e element) scoped(tag string) map[string][]element {
	out := map[string][]element{}
	for i, c := range e.Children {
		if c.XMLName.Local == tag && i+1 < len(e.Children) && e.Children[i+1].XMLName.Local == "hashTree" {
			out[c.attr("testname")] = e.Children[i+1].Children
		}
		for k, v := range c.scoped(tag) {
			out[k] = v
		}
	}
	return out
}

// wantProp fails unless e has property name with value want.
func wantProp(t *testing.T, what string, e element, name, want string) {
	t.Helper()
	if got, ok := e.prop(name); !ok || got != want {
		t.Errorf("%s %s: got %q (present %v), want %q", what, name, got, ok, want)
	}
}

// only returns the single element of es, failing otherwise.
func only(t *testing.T, what string, es []element) element {
	t.Helper()
	if len(es) != 1 {
		t.Fatalf("%d %s elements, want 1", len(es), what)
	}
	return es[0]
}

// assertions returns the (field, type, strings) of each ResponseAssertion.
func assertions(es []element) [][3]string {
	var out [][3]string
	for _, e := range es {
		if e.XMLName.Local != "ResponseAssertion" {
			continue
		}
		field, _ := e.prop("Assertion.test_field")
		typ, _ := e.prop("Assertion.test_type")
		var strs []string
		for _, c := range e.all("collectionProp") {
			if c.attr("name") == "Asserion.test_strings" { // JMeter's own spelling
				for _, s := range c.Children {
					strs = append(strs, s.Text)
				}
			}
		}
		out = append(out, [3]string{field, typ, strings.Join(strs, "|")})
	}
	return out
}

// wantExtractor fails unless es holds a JSON Extractor setting variable
// from the first match of expr.
func wantExtractor(t *testing.T, es []element, variable, expr string) {
	t.Helper()
	for _, e := range es {
		if e.XMLName.Local != "JSONPostProcessor" {
			continue
		}
		name, _ := e.prop("JSONPostProcessor.referenceNames")
		path, _ := e.prop("JSONPostProcessor.jsonPathExprs")
		match, _ := e.prop("JSONPostProcessor.match_numbers")
		if name == variable && path == expr && match == "1" {
			return
		}
	}
	t.Errorf("no JSON Extractor of %s into ${%s}", expr, variable)
}

func TestJMeterPlan(t *testing.T) {
	raw, err := os.ReadFile(jmxPath)
	if err != nil {
		t.Fatal(err)
	}
	var plan element
	if err := xml.Unmarshal(raw, &plan); err != nil {
		t.Fatalf("%s is not XML: %v", jmxPath, err)
	}
	if got, want := plan.XMLName.Local, "jmeterTestPlan"; got != want {
		t.Fatalf("root element: got %s, want %s", got, want)
	}
	only(t, "TestPlan", plan.all("TestPlan"))

	groups := map[string]element{}
	for _, g := range plan.all("ThreadGroup") {
		groups[g.attr("testname")] = g
	}
	if len(groups) != 2 {
		t.Fatalf("thread groups %v, want the reference load and the followers", slices.Collect(maps.Keys(groups)))
	}

	t.Run("ThreadGroupIsTheReferenceLoad", func(t *testing.T) {
		tg := groups["Thread Group"]
		wantProp(t, "ThreadGroup", tg, "ThreadGroup.num_threads", "20")
		wantProp(t, "ThreadGroup", tg, "ThreadGroup.ramp_time", "10")
		wantProp(t, "ThreadGroup", tg, "LoopController.loops", "10")
		wantProp(t, "ThreadGroup", tg, "LoopController.continue_forever", "false")
		d := load.Defaults()
		if d.Concurrency != 20 || d.Loops != 10 || d.RampUp.Seconds() != 10 {
			t.Errorf("reference scenario defaults c=%d loops=%d ramp-up %v differ from the plan", d.Concurrency, d.Loops, d.RampUp)
		}
	})

	t.Run("DefaultsTakeHostAndPortFromProperties", func(t *testing.T) {
		var defaults []element
		for _, c := range plan.all("ConfigTestElement") {
			if c.attr("guiclass") == "HttpDefaultsGui" {
				defaults = append(defaults, c)
			}
		}
		d := only(t, "HTTP Request Defaults", defaults)
		wantProp(t, "defaults", d, "HTTPSampler.domain", "${__P(host,localhost)}")
		wantProp(t, "defaults", d, "HTTPSampler.port", "${__P(port,8080)}")
		h := only(t, "HeaderManager", plan.all("HeaderManager"))
		wantProp(t, "header", h, "Header.name", "Content-Type")
		wantProp(t, "header", h, "Header.value", "application/json")
	})

	samplers := map[string]element{}
	for _, s := range plan.all("HTTPSamplerProxy") {
		samplers[s.attr("testname")] = s
	}
	scope := plan.scoped("HTTPSamplerProxy")

	t.Run("SendPostsTheReferenceBody", func(t *testing.T) {
		s, ok := samplers["send"]
		if !ok {
			t.Fatal("no sampler named send")
		}
		wantProp(t, "send", s, "HTTPSampler.method", "POST")
		wantProp(t, "send", s, "HTTPSampler.path", "/api/send")
		wantProp(t, "send", s, "HTTPSampler.postBodyRaw", "true")
		wantProp(t, "send", s, "Argument.value", load.ReferenceBody)
		got := assertions(scope["send"])
		if want := [][3]string{{"Assertion.response_code", "8", "200"}}; !slices.Equal(got, want) {
			t.Errorf("send assertions: got %q, want %q", got, want)
		}
	})

	// A client reads the newest page once, then polls from just after its
	// newest message, passing back each answer's next_cursor; pulling the
	// first page again and again would measure only the page cache.
	t.Run("PullsAsAClientDoes", func(t *testing.T) {
		pageAssertions := [][3]string{{"Assertion.response_code", "8", "200"}, {"Assertion.response_data", "16", "messages"}}
		once := plan.scoped("OnceOnlyController")
		if len(once) != 1 {
			t.Fatalf("%d Once Only Controllers, want 1", len(once))
		}
		var newestInOnce bool
		for _, children := range once {
			for _, c := range children {
				newestInOnce = newestInOnce || c.XMLName.Local == "HTTPSamplerProxy" && c.attr("testname") == "pull newest"
			}
		}
		if !newestInOnce {
			t.Error("pull newest is not in the Once Only Controller")
		}

		newest, ok := samplers["pull newest"]
		if !ok {
			t.Fatal("no sampler named pull newest")
		}
		wantProp(t, "pull newest", newest, "HTTPSampler.method", "GET")
		wantProp(t, "pull newest", newest, "HTTPSampler.path", "/api/pull?chat=stress1:stress2&cursor=0&limit=10&reverse=true")
		if got, want := assertions(scope["pull newest"]), pageAssertions; !slices.Equal(got, want) {
			t.Errorf("pull newest assertions: got %q, want %q", got, want)
		}
		wantExtractor(t, scope["pull newest"], "newest", "$.messages[0].send_time")
		var setsCursor bool
		for _, e := range scope["pull newest"] {
			if script, _ := e.prop("script"); e.XMLName.Local == "JSR223PostProcessor" {
				setsCursor = strings.Contains(script, `vars.put("cursor"`) && strings.Contains(script, `vars.get("newest")`)
			}
		}
		if !setsCursor {
			t.Error("pull newest sets no cursor from the newest send_time")
		}

		poll, ok := samplers["poll"]
		if !ok {
			t.Fatal("no sampler named poll")
		}
		wantProp(t, "poll", poll, "HTTPSampler.method", "GET")
		wantProp(t, "poll", poll, "HTTPSampler.path", "/api/pull?chat=stress1:stress2&cursor=${cursor}&limit=10")
		if got, want := assertions(scope["poll"]), pageAssertions; !slices.Equal(got, want) {
			t.Errorf("poll assertions: got %q, want %q", got, want)
		}
		wantExtractor(t, scope["poll"], "cursor", "$.next_cursor")
	})

	t.Run("InboxAndReadOfTheReceiver", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body, field string
		}{
			{"inbox", "GET", "/api/inbox?member=stress2&limit=20", "", "chats"},
			{"read", "POST", "/api/read", `{"chat":"stress1:stress2","member":"stress2","send_time":9007199254740991}`, "read_up_to"},
		} {
			s, ok := samplers[tc.name]
			if !ok {
				t.Fatalf("no sampler named %s", tc.name)
			}
			wantProp(t, tc.name, s, "HTTPSampler.method", tc.method)
			wantProp(t, tc.name, s, "HTTPSampler.path", tc.path)
			if tc.body != "" {
				wantProp(t, tc.name, s, "Argument.value", tc.body)
			}
			got := assertions(scope[tc.name])
			want := [][3]string{{"Assertion.response_code", "8", "200"}, {"Assertion.response_data", "16", tc.field}}
			if !slices.Equal(got, want) {
				t.Errorf("%s assertions: got %q, want %q", tc.name, got, want)
			}
		}
	})

	// longPoll checks sampler name: a GET of path whose answer's
	// next_cursor becomes ${variable} for the next one, with a response
	// timeout that allows the wait.
	longPoll := func(t *testing.T, name, path, variable string) {
		s, ok := samplers[name]
		if !ok {
			t.Fatalf("no sampler named %s", name)
		}
		wantProp(t, name, s, "HTTPSampler.method", "GET")
		wantProp(t, name, s, "HTTPSampler.path", path)
		wantProp(t, name, s, "HTTPSampler.response_timeout", "40000")
		var extractors []element
		for _, e := range scope[name] {
			if e.XMLName.Local == "JSONPostProcessor" {
				extractors = append(extractors, e)
			}
		}
		only(t, "JSONPostProcessor", extractors)
		wantExtractor(t, extractors, variable, "$.next_cursor")
	}

	t.Run("FollowersLongPollFromNextCursor", func(t *testing.T) {
		if _, ok := groups["Followers"]; !ok {
			t.Fatal("no thread group named Followers")
		}
		longPoll(t, "follow", "/api/pull?chat=stress1:stress2&cursor=${follow_cursor}&limit=100&wait_ms=${__P(wait_ms,5000)}", "follow_cursor")
		wantProp(t, "plan", only(t, "TestPlan", plan.all("TestPlan")), "Argument.name", "follow_cursor")
	})

	t.Run("FollowersLongPollTheInboxFromNextCursor", func(t *testing.T) {
		longPoll(t, "follow inbox", "/api/inbox?member=stress2&limit=20&cursor=${inbox_cursor}&wait_ms=${__P(wait_ms,5000)}", "inbox_cursor")
	})

	t.Run("ReportsASummary", func(t *testing.T) {
		var summaries []element
		for _, r := range plan.all("ResultCollector") {
			if r.attr("guiclass") == "SummaryReport" {
				summaries = append(summaries, r)
			}
		}
		only(t, "Summary Report", summaries)
	})
}
