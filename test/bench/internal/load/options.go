// Package load generates HTTP load against any server that speaks the IM
// assignment's API (POST /api/send, GET /api/pull, GET /ping) and measures
// it: throughput, latency distributions without coordinated omission, errors
// by kind and, for the follow scenario, delivery latency and the exactly
// once, in order delivery that next_cursor promises.
package load

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Scenario names, as given to --scenario.
const (
	ScenarioSend      = "send"
	ScenarioPull      = "pull"
	ScenarioMixed     = "mixed"
	ScenarioFollow    = "follow"
	ScenarioReference = "reference"
	ScenarioPing      = "ping"
	ScenarioInbox     = "inbox"
	// ScenarioPullNewest reads the newest page of a chat, as a client
	// opening it does.
	ScenarioPullNewest = "pull-newest"
	// ScenarioPollTail polls a chat's tail with next_cursor while nothing
	// new arrives.
	ScenarioPollTail = "poll-tail"
	// ScenarioLatency times a ping, a newest-page pull and a send, one
	// after the other on one connection.
	ScenarioLatency = "latency"
)

// Scenarios lists every scenario name.
var Scenarios = []string{ScenarioSend, ScenarioPull, ScenarioMixed, ScenarioFollow, ScenarioReference, ScenarioPing, ScenarioInbox,
	ScenarioPullNewest, ScenarioPollTail, ScenarioLatency}

// Options is one run's configuration. The zero value of a field means its
// default (see Defaults) except where noted.
type Options struct {
	Scenario    string        `json:"scenario"`
	Target      string        `json:"target"`      // base URL, e.g. http://127.0.0.1:8080
	Concurrency int           `json:"concurrency"` // connections (workers); the reference scenario's threads; always 1 for latency
	Duration    time.Duration `json:"duration_ns"` // measured time, after Warmup; ignored when Requests > 0
	Requests    int64         `json:"requests"`    // measured requests instead of a Duration
	Rate        float64       `json:"rate"`        // requests/s for an open loop; 0 is a closed loop
	Chats       int           `json:"chats"`       // distinct chats the load spreads over
	Prefill     int           `json:"prefill"`     // messages per chat sent before the pull scenarios and mixed measure
	Warmup      time.Duration `json:"warmup_ns"`   // load that is not measured, before Duration
	Sends       int           `json:"sends"`       // mixed: Sends sends per Pulls pulls
	Pulls       int           `json:"pulls"`       //
	Senders     int           `json:"senders"`     // follow: sending connections
	Followers   int           `json:"followers"`   // follow: tailing readers
	// FollowTarget is the base URL the followers pull through (another
	// gateway, say); empty: Target.
	FollowTarget string        `json:"follow_target,omitempty"`
	TextBytes    int           `json:"text_bytes"`   // length of each message's text
	Limit        int           `json:"limit"`        // page size of the pull scenarios' pulls
	Timeout      time.Duration `json:"timeout_ns"`   // of one request
	Poll         time.Duration `json:"poll_ns"`      // follow: wait after a pull that found nothing new
	Wait         time.Duration `json:"wait_ns"`      // follow: each pull's wait_ms (a long poll); 0: poll every Poll
	Drain        time.Duration `json:"drain_ns"`     // follow: how long followers may catch up after the senders stop
	RampUp       time.Duration `json:"ramp_up_ns"`   // reference: time over which the threads start
	Loops        int           `json:"loops"`        // reference: requests per thread
	Members      int           `json:"members"`      // inbox: members whose inboxes are read
	MemberChats  int           `json:"member_chats"` // inbox: chats of each member, each with a message
	Seed         uint64        `json:"seed"`         // of the random choices; 0 picks one
	// Token is the bearer token of every request, for servers with
	// authentication; its subject is then the first member of every chat.
	// Never written to reports.
	Token string `json:"-"`
	// TokenSecret signs an HS256 token for each member that acts instead;
	// never written to reports.
	TokenSecret []byte `json:"-"`
}

// Defaults returns the options a run starts from.
func Defaults() Options {
	return Options{
		Scenario:    ScenarioSend,
		Target:      "http://127.0.0.1:8080",
		Concurrency: 20,
		Duration:    10 * time.Second,
		Chats:       16,
		Prefill:     100,
		Warmup:      time.Second,
		Sends:       1,
		Pulls:       4,
		Senders:     4,
		Followers:   4,
		TextBytes:   64,
		Limit:       10,
		Timeout:     10 * time.Second,
		Poll:        5 * time.Millisecond,
		Drain:       10 * time.Second,
		RampUp:      10 * time.Second,
		Loops:       10,
		Members:     16,
		MemberChats: 200,
	}
}

// ParseRatio reads a mixed scenario's "sends:pulls", such as "1:4".
func ParseRatio(s string) (sends, pulls int, err error) {
	a, b, ok := strings.Cut(s, ":")
	if ok {
		sends, err = strconv.Atoi(a)
		if err == nil {
			pulls, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || sends < 0 || pulls < 0 || sends+pulls == 0 {
		return 0, 0, fmt.Errorf("ratio %q: want sends:pulls, such as 1:4", s)
	}
	return sends, pulls, nil
}

// Validate reports the first option that makes no sense.
func (o Options) Validate() error {
	known := false
	for _, s := range Scenarios {
		known = known || s == o.Scenario
	}
	switch {
	case !known:
		return fmt.Errorf("unknown scenario %q: want one of %s", o.Scenario, strings.Join(Scenarios, ", "))
	case !strings.HasPrefix(o.Target, "http://") && !strings.HasPrefix(o.Target, "https://"):
		return fmt.Errorf("target %q: want an http:// URL", o.Target)
	case o.FollowTarget != "" && !strings.HasPrefix(o.FollowTarget, "http://") && !strings.HasPrefix(o.FollowTarget, "https://"):
		return fmt.Errorf("follow target %q: want an http:// URL", o.FollowTarget)
	case o.Concurrency < 1:
		return errors.New("concurrency must be at least 1")
	case o.Requests < 0 || o.Duration < 0 || o.Warmup < 0 || o.Rate < 0:
		return errors.New("requests, duration, warmup and rate must not be negative")
	case o.Requests == 0 && o.Duration == 0:
		return errors.New("give a duration or a number of requests")
	case o.Chats < 1 || o.Prefill < 0:
		return errors.New("chats must be at least 1 and prefill not negative")
	case o.Sends < 0 || o.Pulls < 0 || o.Sends+o.Pulls == 0:
		return errors.New("ratio must have a send or a pull")
	case o.Senders < 1 || o.Followers < 1:
		return errors.New("senders and followers must be at least 1")
	case o.TextBytes < 1:
		return errors.New("text-bytes must be at least 1")
	case o.Limit < 1 || o.Limit > 100:
		return errors.New("limit must be 1 to 100")
	case o.Timeout <= 0 || o.Loops < 1 || o.RampUp < 0:
		return errors.New("timeout and loops must be positive, ramp-up not negative")
	case o.Wait < 0 || (o.Wait > 0 && o.Wait+time.Second > o.Timeout):
		return errors.New("wait must not be negative, and timeout must exceed it by a second at least")
	case o.Members < 1 || o.MemberChats < 1:
		return errors.New("members and member-chats must be at least 1")
	}
	return nil
}

// String describes the load shape in one line, for reports.
func (o Options) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s against %s", o.Scenario, o.Target)
	switch o.Scenario {
	case ScenarioReference:
		fmt.Fprintf(&b, ", %d threads × %d loops, ramp-up %v", o.Concurrency, o.Loops, o.RampUp)
		return b.String()
	case ScenarioFollow:
		fmt.Fprintf(&b, ", %d senders, %d followers, %d chats", o.Senders, o.Followers, o.followChats())
		if o.Wait > 0 {
			fmt.Fprintf(&b, ", long polls of wait_ms %d", o.Wait.Milliseconds())
		}
	case ScenarioPing:
		fmt.Fprintf(&b, ", c=%d", o.Concurrency)
	case ScenarioInbox:
		fmt.Fprintf(&b, ", c=%d, %d members of %d chats each", o.Concurrency, o.Members, o.MemberChats)
	default:
		fmt.Fprintf(&b, ", c=%d, %d chats", o.Concurrency, o.Chats)
	}
	if o.Rate > 0 {
		fmt.Fprintf(&b, ", open loop at %g/s", o.Rate)
	} else {
		b.WriteString(", closed loop")
	}
	if o.Requests > 0 {
		fmt.Fprintf(&b, ", %d requests", o.Requests)
	} else {
		fmt.Fprintf(&b, ", %v", o.Duration)
	}
	fmt.Fprintf(&b, " after %v warm-up", o.Warmup)
	switch o.Scenario {
	case ScenarioPull, ScenarioPullNewest, ScenarioPollTail, ScenarioLatency:
		fmt.Fprintf(&b, ", %d messages per chat, pages of %d", o.Prefill, o.Limit)
	case ScenarioMixed:
		fmt.Fprintf(&b, ", sends:pulls %d:%d, %d messages per chat", o.Sends, o.Pulls, o.Prefill)
	case ScenarioInbox:
		fmt.Fprintf(&b, ", pages of %d", o.Limit)
	}
	return b.String()
}

// window is the measured window's length, or 0 when the run is bounded by
// a number of requests instead.
func (o Options) window() time.Duration {
	if o.Requests > 0 {
		return 0
	}
	return o.Duration
}

// followChats is how many chats the follow scenario uses: no more than it
// has senders, so every chat gets messages.
func (o Options) followChats() int { return min(o.Chats, o.Senders) }
