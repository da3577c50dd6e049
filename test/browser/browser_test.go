// Package browser tests the web client the gateway serves at "/" in a real
// browser: Debian's chromium, headless, driven by chromedp, against the real
// binaries on the embedded store. Each person is a tab in a browser context
// of their own (separate sessionStorage), as two people at two computers.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which `make test` installs when missing.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless chromium for a test.
type browser struct {
	root context.Context // the first tab, which owns the browser process
}

// startBrowser starts chromium, or skips the test when it is not installed
// and PIGEONHOLE_REQUIRE_BROWSER is not set (make test sets it).
func startBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("PIGEONHOLE_REQUIRE_BROWSER") != "" {
			t.Fatalf("chromium is required (PIGEONHOLE_REQUIRE_BROWSER): %v", err)
		}
		t.Skipf("no %s (apt-get install chromium, or run make test)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
	})
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{root: root}
}

// person is one tab in a browser context of its own.
type person struct {
	t      *testing.T
	name   string
	ctx    context.Context
	alerts chan string
}

// open returns a new person whose tab shows url, with its own storage.
func (b *browser) open(t *testing.T, name, url string) *person {
	t.Helper()
	p := &person{t: t, name: name, alerts: make(chan string, 8)}
	var ctx context.Context
	onEvent := func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case p.alerts <- d.Message:
			default:
			}
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}) // not from the listener itself
		}
	}
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(onEvent))
	t.Cleanup(cancel)
	p.ctx = ctx
	// The first run starts the tab, which lives as long as the context it
	// gets: the person's own, not a step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	p.do(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(url), chromedp.WaitReady("body"))
	return p
}

// do runs steps in the person's tab, failing the test on an error.
func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](p *person, expression string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expression, err)
	}
	return v
}

// waitUntil waits up to within for a JavaScript predicate to be truthy.
func (p *person) waitUntil(within time.Duration, what, predicate string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		status := eval[string](p, `document.getElementById('status').textContent`)
		p.t.Fatalf("%s: waited %v for %s: %v (status line: %q)", p.name, within, what, err, status)
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return fmt.Sprintf("%q", s) // Go's quoting is valid JavaScript for these texts
}

// setValue fills a form control as typing would.
func (p *person) setValue(id, value string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.ID(id), value))
}

// submit submits a form the way its button would.
func (p *person) submit(formID string) {
	p.t.Helper()
	eval[chromedp.Void](p, `document.getElementById(`+jsString(formID)+`).requestSubmit()`)
}

// signIn signs in with a member id (a gateway without authentication).
func (p *person) signIn(member string) {
	p.t.Helper()
	p.waitUntil(10*time.Second, "the sign-in form", `!document.getElementById('signin').hidden`)
	p.setValue("member-id", member)
	p.submit("signin-member")
	p.waitUntil(10*time.Second, "the inbox", `!document.getElementById('app').hidden`)
}

// signInWithToken signs in by pasting a bearer token.
func (p *person) signInWithToken(token string) {
	p.t.Helper()
	p.waitUntil(10*time.Second, "the sign-in form", `!document.getElementById('signin').hidden`)
	p.setValue("token", token)
	p.submit("signin-token")
	p.waitUntil(10*time.Second, "the inbox", `!document.getElementById('app').hidden`)
}

// openDirect opens the two-member chat with peer from the inbox's form.
func (p *person) openDirect(peer string) {
	p.t.Helper()
	p.setValue("direct-peer", peer)
	p.submit("new-direct")
	p.waitUntil(10*time.Second, "the chat to open", `!document.getElementById('chat-pane').hidden &&
		document.getElementById('history-state').textContent !== 'Loading…'`)
}

// openFromInbox clicks a chat in the inbox.
func (p *person) openFromInbox(chat string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(`#inbox button[data-chat=` + jsString(chat) + `]`)))
	p.waitUntil(10*time.Second, "the chat to open", `!document.getElementById('chat-pane').hidden &&
		document.getElementById('history-state').textContent !== 'Loading…'`)
}

// type sends text by typing it into the composer and pressing Enter.
func (p *person) send(text string) {
	p.t.Helper()
	p.do(chromedp.Focus(chromedp.ID("text")))
	p.setValue("text", text)
	p.do(chromedp.SendKeys(chromedp.ID("text"), "\r"))
}

// messageTexts is the text of every message shown in the open chat, in order.
func (p *person) messageTexts() []string {
	p.t.Helper()
	return eval[[]string](p, `[...document.querySelectorAll('#message-list li:not(.pending) .body')].map(e => e.textContent)`)
}

// hasMessage is a predicate: the open chat shows a stored message with this text.
func hasMessage(text string) string {
	return `[...document.querySelectorAll('#message-list li:not(.pending) .body')].some(e => e.textContent === ` + jsString(text) + `)`
}

// badge is an expression: the unread badge of chat in the inbox (” when none).
func badge(chat string) string {
	selector := `#inbox button[data-chat=` + jsString(chat) + `] .badge`
	return `(document.querySelector(` + jsString(selector) + `)?.textContent ?? '')`
}

// screenshot saves the page as PNG under the test output folder
// (PIGEONHOLE_SCREENSHOT_DIR, else ./out), at the given viewport width.
func (p *person) screenshot(name string, width, height int64) {
	p.t.Helper()
	dir := os.Getenv("PIGEONHOLE_SCREENSHOT_DIR")
	if dir == "" {
		dir = "out"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	p.do(chromedp.EmulateViewport(width, height))
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.do(chromedp.EmulateViewport(1280, 800))
}

// noAlerts fails the test if the page opened a dialog (an injected script ran).
func (p *person) noAlerts() {
	p.t.Helper()
	select {
	case msg := <-p.alerts:
		p.t.Fatalf("%s: the page opened a dialog %q: message text ran as script", p.name, msg)
	default:
	}
}
