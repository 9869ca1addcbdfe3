package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mcp-pba-tunnel/pbatunnel/dashboard"
	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// waitTimeout bounds every wait on the page. It is generous because the
// race detector and a small machine slow everything down; a passing run
// waits far less.
const waitTimeout = 20 * time.Second

// screenshotDir is where the tests save screenshots of the page when
// PBATUNNEL_SCREENSHOTS names a directory; by default they save none.
var screenshotDir = os.Getenv("PBATUNNEL_SCREENSHOTS")

// browser is one headless Chromium shared by the subtests; each subtest
// opens tabs of its own.
type browser struct {
	ctx context.Context
}

// startBrowser starts Chromium, or skips the test when it is not installed
// (fails under CI=true).
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := testenv.Require(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		// The sandbox cannot start as root, as in most containers; the
		// browser loads nothing but the test's own server.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Nothing may reach the network beyond the test server.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return &browser{ctx: ctx}
}

// view is how a tab shows the page.
type view struct {
	width, height int64
	mobile        bool
	dark          bool
}

var (
	desktop = view{width: 1280, height: 900}
	phone   = view{width: 390, height: 844, mobile: true}
)

// tab is one page under test. It records everything the page reports as an
// error (uncaught exceptions, console.error, browser log errors such as CSP
// violations and failed loads) and any JavaScript dialog, and fails the
// test on them when the subtest ends.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	errs    []string
	dialogs []string
	// allow reports whether a browser log error is expected (a 401 in the
	// authentication test).
	allow func(*log.Entry) bool
}

func (b *browser) open(t *testing.T, url string, v view) *tab {
	t.Helper()
	tb := b.newTab(t, v)
	tb.navigate(url)
	return tb
}

// newTab opens a blank tab that shows pages as v says.
func (b *browser) newTab(t *testing.T, v view) *tab {
	t.Helper()
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(tb.listen))
	tb.ctx = ctx
	t.Cleanup(func() {
		tb.check()
		cancel()
	})
	var vopts []chromedp.EmulateViewportOption
	if v.mobile {
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	scheme := "light"
	if v.dark {
		scheme = "dark"
	}
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(v.width, v.height, vopts...),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tb
}

// watchMarkup makes every page the tab opens from now on record, from
// before its own scripts run, each element that would only exist if the
// page had rendered server text as markup (img, iframe, object, embed, a
// script that is not the page's own) in window.__markup, and every call
// of window.alert in window.__alerts. The page's CSP would stop an inline
// handler from running; these catch the markup itself.
func (tb *tab) watchMarkup() {
	tb.t.Helper()
	const script = `(() => {
		window.__markup = [];
		window.__alerts = 0;
		window.alert = () => { window.__alerts++; };
		const bad = (n) => n.nodeType === 1 && (n.matches('img, iframe, object, embed') ||
			(n.tagName === 'SCRIPT' && !(n.src || '').includes('/static/')));
		new MutationObserver((records) => {
			for (const r of records) {
				for (const n of r.addedNodes) {
					if (n.nodeType !== 1) continue;
					for (const e of [n, ...n.querySelectorAll('*')]) if (bad(e)) window.__markup.push(e.outerHTML);
				}
			}
		}).observe(document, { childList: true, subtree: true });
	})()`
	err := chromedp.Do(tb.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
	if err != nil {
		tb.t.Fatalf("watching the page's markup: %v", err)
	}
}

// markupSeen is what watchMarkup recorded: elements made from text, and
// window.alert calls.
func (tb *tab) markupSeen() (elements []string, alerts int) {
	tb.t.Helper()
	type seen struct {
		Watching bool
		Markup   []string
		Alerts   int
	}
	s := eval[seen](tb, `({Watching: Array.isArray(window.__markup), Markup: window.__markup, Alerts: window.__alerts})`)
	if !s.Watching {
		tb.t.Fatal("the page's markup is not watched: call watchMarkup before navigating")
	}
	return s.Markup, s.Alerts
}

func (tb *tab) navigate(url string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("opening %s: %v", url, err)
	}
}

// listen runs in the tab's event loop: it only records, and dismisses
// dialogs from another goroutine, since it may not send commands itself.
func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		tb.errs = append(tb.errs, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			tb.errs = append(tb.errs, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError && (tb.allow == nil || !tb.allow(e.Entry)) {
			tb.errs = append(tb.errs, fmt.Sprintf("browser log (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	case *page.EventJavascriptDialogOpening:
		tb.dialogs = append(tb.dialogs, fmt.Sprintf("%s dialog: %q", e.Type, e.Message))
		ctx := tb.ctx
		go func() {
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	}
}

func (tb *tab) check() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, e := range tb.errs {
		tb.t.Errorf("page error: %s", e)
	}
	for _, d := range tb.dialogs {
		tb.t.Errorf("the page opened a %s", d)
	}
}

func (tb *tab) setAllow(f func(*log.Entry) bool) {
	tb.mu.Lock()
	tb.allow = f
	tb.mu.Unlock()
}

// wait waits until the JavaScript expression cond is truthy in the page,
// checking it every 40 ms in the page itself. The expression is compiled by
// the DevTools protocol, not by the page, so the page's CSP does not forbid
// it (the page itself may not eval).
func (tb *tab) wait(what, cond string) {
	tb.t.Helper()
	expr := fmt.Sprintf(`new Promise((resolve) => {
		const deadline = Date.now() + %d;
		const check = () => {
			let ok = false;
			try { ok = !!(%s); } catch (e) { ok = false; }
			if (ok) resolve(true);
			else if (Date.now() > deadline) resolve(false);
			else setTimeout(check, 40);
		};
		check();
	})`, waitTimeout.Milliseconds(), cond)
	ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
	if err != nil || !ok {
		tb.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, cond, err, tb.describe())
	}
}

// describe summarises the page's state for a failure message.
func (tb *tab) describe() string {
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`JSON.stringify({
		status: document.querySelector('#status-text')?.textContent,
		banner: document.querySelector('#banner')?.textContent,
		auth: !document.querySelector('#auth')?.hidden,
		hash: location.hash,
	})`))
	if err != nil {
		return err.Error()
	}
	return s
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%v\npage: %s", err, tb.describe())
	}
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(sel)))
}

// screenshot saves the whole page as name.png in screenshotDir, when set.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	if screenshotDir == "" {
		return
	}
	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// jsString quotes s as a JavaScript string literal (JSON is a subset).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// getJSON decodes the JSON body of url, sent with header pairs, into v.
func getJSON(t *testing.T, url string, v any, header ...string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// serveDashboard serves a dashboard over m on a free loopback port until
// the test ends, then cancels ctx (the server's, made by the caller, who
// may use it first) and waits for the server; it returns the base URL.
func serveDashboard(t *testing.T, ctx context.Context, cancel context.CancelFunc, m *monitor.Monitor, opts dashboard.Options) string {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	s, err := dashboard.Start(ctx, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := s.Wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + s.Addr()
}
