package admin

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/ivr-project/ivr/internal/flowgraph"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/store"
)

func TestProviderMediaHost(t *testing.T) {
	for _, c := range []struct {
		provider, url string
		ok            bool
	}{
		{"twilio", "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", true},
		{"twilio", "http://api.twilio.com/x", false},
		{"twilio", "https://api.twilio.com.evil.example/x", false},
		{"twilio", "https://169.254.169.254/latest", false},
		{"plivo", "https://media.plivo.com/v1/Account/MA1/Recording/x.mp3", true},
		{"plivo", "https://api.twilio.com/x", false},
	} {
		u, _ := url.Parse(c.url)
		if got := providerMediaHost(c.provider, u); got != c.ok {
			t.Errorf("providerMediaHost(%s, %s) = %v", c.provider, c.url, got)
		}
	}
	if a := pathAfter("/2010-04-01/Accounts/AC9/Recordings/RE1", "Accounts"); a != "AC9" {
		t.Errorf("Twilio account = %q", a)
	}
	if a := pathAfter("/v1/Account/MA12/Recording/x.mp3", "Account"); a != "MA12" {
		t.Errorf("Plivo auth id = %q", a)
	}
}

// A flow whose start has one arrow (no hours, no numbers) keeps the calls on
// that arrow.
func TestAnnotateGraphSingleStart(t *testing.T) {
	f, err := ivr.Parse("one.yaml", []byte("menus:\n  main:\n    greeting: Hi.\n    options: {\"1\": hangup}\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := flowgraph.Layout(f)
	annotateGraph(&g, &store.Insights{Calls: 7})
	n := 0
	for _, e := range g.Edges {
		if e.From == "start" {
			n++
			if e.Count != "7" {
				t.Errorf("start arrow count %q, want 7", e.Count)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d arrows from the start, want 1", n)
	}
}

// A collect menu's "entered" row shows how often a value was collected
// (the store counts collects under the same option key the map uses).
func TestAnnotateGraphCollect(t *testing.T) {
	if store.CollectOption != flowgraph.CollectOption {
		t.Fatalf("store counts collects as %q, the flow map reads %q", store.CollectOption, flowgraph.CollectOption)
	}
	f, err := ivr.Parse("example.yaml", ivr.Example())
	if err != nil {
		t.Fatal(err)
	}
	g := flowgraph.Layout(f)
	annotateGraph(&g, &store.Insights{Calls: 9, Menus: map[string]*store.MenuCounts{
		"account": {Entered: 6, Chose: 5, Options: map[string]int64{store.CollectOption: 5}},
	}})
	found := false
	for _, n := range g.Nodes {
		for _, r := range n.Rows {
			if n.ID == "m:account" && r.Option == flowgraph.CollectOption && r.Count == "5" {
				found = true
			}
		}
	}
	if !found {
		t.Error("the account menu's collect row shows no count")
	}
}

// TestRecordingFetchPolicy: only the providers' media hosts on port 443,
// every redirect hop checked again, and no Referer sent along.
func TestRecordingFetchPolicy(t *testing.T) {
	for _, c := range []struct {
		provider, url string
		ok            bool
	}{
		{"twilio", "https://api.twilio.com:443/2010-04-01/Accounts/AC1/Recordings/RE1", true},
		{"twilio", "https://api.twilio.com:8443/x", false},
		{"twilio", "https://anything.twilio.com/x", false},
		{"twilio", "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", true},
		{"twilio", "https://api.sydney.au1.twilio.com/x", true},
		{"twilio", "https://api.dublin.au1.twilio.com/x", false}, // an edge with another region's name
		{"twilio", "https://api.evil.ie1.twilio.com/x", false},
		{"plivo", "https://media.plivo.com:444/x", false},
		{"plivo", "https://evil.plivo.com/x", false},
	} {
		u, _ := url.Parse(c.url)
		if got := providerMediaHost(c.provider, u); got != c.ok {
			t.Errorf("providerMediaHost(%s, %s) = %v", c.provider, c.url, got)
		}
	}
	rec := newRecordings("tok", "tok")
	from, _ := http.NewRequest("GET", "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.mp3", nil)
	for _, c := range []struct {
		to string
		ok bool
	}{
		{"https://127.0.0.1/x", false},
		{"https://api.twilio.com:8443/x", false},
		{"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.wav", true},
	} {
		req, _ := http.NewRequestWithContext(withProvider(context.Background(), "twilio"), "GET", c.to, nil)
		req.Header.Set("Referer", from.URL.String())
		err := rec.client.CheckRedirect(req, []*http.Request{from})
		if (err == nil) != c.ok {
			t.Errorf("redirect to %s: %v, want ok %v", c.to, err, c.ok)
		}
		if req.Header.Get("Referer") != "" {
			t.Errorf("redirect to %s keeps a Referer", c.to)
		}
	}
}
