package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// config is the command line: the run's options and where to write its
// reports.
type config struct {
	Load     load.Options
	JSONPath string
	HTMLPath string
	Quiet    bool
}

// usageHead introduces the flags in -h.
const usageHead = `bench measures a server of the IM assignment's HTTP API.

  go run ./test/bench --scenario NAME --target URL -c N --duration D [--json FILE] [--html FILE]

Scenarios:
  send       POST /api/send, round-robin over --chats chats (original API only)
  pull       GET /api/pull, pages of --limit from a random prefilled message of a random chat,
             after --prefill messages were sent to each chat
  mixed      sends and pulls in the ratio --ratio (sends:pulls), after the prefill
  follow     --senders senders and --followers followers tailing their chats with next_cursor;
             measures delivery latency and verifies every follower saw every acknowledged
             message of its chat exactly once and in order (exit status 1 otherwise);
             with --wait D every pull long-polls (wait_ms), and the report gives pulls per
             delivered message
  reference  the original JMeter plan: -c threads (20) × --loops (10) sends, --ramp-up 10s
  ping       GET /ping, the gateway's ceiling
  inbox      GET /api/inbox, the first page (--limit chats) of a random one of --members members,
             each in --member-chats two-member chats holding a message
  pull-newest
             GET /api/pull of the newest --limit messages (reverse=true, cursor 0) of a random
             one of --chats chats, after --prefill messages were sent to each; each page must
             hold the chat's newest messages
  poll-tail  GET /api/pull polls of a chat's tail with next_cursor while nothing new arrives
             (after the prefill; each connection first reads its chat's newest message to get
             the cursor); each answer must be the empty page with the same next_cursor
  latency    one connection (-c is ignored): a ping, a pull-newest pull and a send, in turn;
             percentiles of each kind on their own

Flags:
`

// parseConfig reads the command line (without the program name).
func parseConfig(args []string, stderr io.Writer) (config, error) {
	cfg := config{Load: load.Defaults()}
	o := &cfg.Load
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	var ratio string
	fs.StringVar(&o.Scenario, "scenario", o.Scenario, "scenario: "+strings.Join(load.Scenarios, ", "))
	fs.StringVar(&o.Target, "target", o.Target, "base URL of the server")
	fs.IntVar(&o.Concurrency, "c", o.Concurrency, "concurrent connections (the reference scenario's threads)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured time, after the warm-up")
	fs.Int64Var(&o.Requests, "requests", 0, "measured requests, instead of --duration")
	fs.Float64Var(&o.Rate, "rate", 0, "open loop: requests per second in total, latency counted from each request's intended start (0: closed loop)")
	fs.IntVar(&o.Chats, "chats", o.Chats, "distinct chats the load spreads over")
	fs.IntVar(&o.Prefill, "prefill", o.Prefill, "messages sent to each chat before pull, pull-newest, poll-tail, latency and mixed measure")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "load before the measurement, excluded from the figures")
	fs.StringVar(&ratio, "ratio", "1:4", "mixed: sends:pulls")
	fs.IntVar(&o.Senders, "senders", o.Senders, "follow: sending connections")
	fs.IntVar(&o.Followers, "followers", o.Followers, "follow: followers tailing the chats")
	fs.StringVar(&o.FollowTarget, "follow-target", o.FollowTarget, "follow: base URL the followers pull through, such as a second gateway (default: --target)")
	fs.IntVar(&o.TextBytes, "text-bytes", o.TextBytes, "bytes of text per message")
	fs.IntVar(&o.Limit, "limit", o.Limit, "pull scenarios and mixed: messages per page; inbox: chats per page")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "timeout of one request")
	fs.DurationVar(&o.Poll, "poll", o.Poll, "follow: pause after a pull that found no more messages")
	fs.DurationVar(&o.Wait, "wait", o.Wait, "follow: long-poll: each pull carries wait_ms of this (0: poll, pausing --poll when caught up)")
	fs.DurationVar(&o.Drain, "drain", o.Drain, "follow: how long followers may catch up after the senders stop")
	fs.DurationVar(&o.RampUp, "ramp-up", o.RampUp, "reference: time over which the threads start")
	fs.IntVar(&o.Loops, "loops", o.Loops, "reference: requests per thread")
	fs.IntVar(&o.Members, "members", o.Members, "inbox: members whose inboxes are read")
	fs.IntVar(&o.MemberChats, "member-chats", o.MemberChats, "inbox: chats of each member")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of the random choices (0: random)")
	fs.StringVar(&cfg.JSONPath, "json", "", "write every figure as JSON to this file")
	fs.StringVar(&cfg.HTMLPath, "html", "", "write an HTML page with plots to this file")
	fs.BoolVar(&cfg.Quiet, "quiet", false, "no progress line")
	var secretFile string
	fs.StringVar(&o.Token, "token", "", "bearer token of every request (servers with --auth jwt); its sub is the first member of every chat")
	fs.StringVar(&secretFile, "token-secret-file", "", "the servers' HS256 secret: sign a token for each member that acts (instead of --token)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if secretFile != "" {
		if o.Token != "" {
			return config{}, fmt.Errorf("--token and --token-secret-file: give one")
		}
		if o.TokenSecret, err = jwtauth.ReadSecret(secretFile); err != nil {
			return config{}, fmt.Errorf("--token-secret-file: %w", err)
		}
	}
	if o.Sends, o.Pulls, err = load.ParseRatio(ratio); err != nil {
		return config{}, fmt.Errorf("--ratio: %w", err)
	}
	if err := o.Validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}
