package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/alert"
	"github.com/mcp-pba-tunnel/pbatunnel/monitor/metric"
	"github.com/mcp-pba-tunnel/pbatunnel/notify"
)

func exampleAlert() alert.Alert {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	return alert.Alert{
		Rule: "memory_usage", Metric: "system.memory_percent",
		Level: alert.LevelCritical, Previous: alert.LevelWarning, Transition: alert.TransitionEscalated,
		Value: metric.Measured(93.2), Threshold: 90, Direction: alert.Above,
		Message:  "memory usage 93.20% is above the critical threshold 90%",
		Advice:   "look at the largest caches first",
		StartsAt: at, At: at.Add(time.Minute),
	}
}

func ExampleLogHandler() {
	// Leave the time out so that the output is the same on every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	h := notify.LogHandler{Logger: logger}
	h.HandleAlert(context.Background(), exampleAlert())
	// Output:
	// level=ERROR msg="memory usage 93.20% is above the critical threshold 90%" rule=memory_usage metric=system.memory_percent severity=critical previous_severity=warning transition=escalated value=93.2 threshold=90 direction=above advice="look at the largest caches first" starts_at=2026-03-14T15:09:26.000Z
}

func ExampleWebhook() {
	// A receiver written for Alertmanager's webhook.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Version string `json:"version"`
			Status  string `json:"status"`
			Alerts  []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
				EndsAt time.Time         `json:"endsAt"`
			} `json:"alerts"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Printf("version %s, %s, authorised: %v\n", msg.Version, msg.Status, r.Header.Get("Authorization") == "Bearer t0ken")
		for _, a := range msg.Alerts {
			fmt.Printf("  %s %s/%s ends %s\n", a.Status, a.Labels["alertname"], a.Labels["severity"], a.EndsAt.Format(time.RFC3339))
		}
	}))
	defer srv.Close()

	w := &notify.Webhook{
		URL:     srv.URL + "/alerts",
		Client:  srv.Client(),
		Headers: map[string]string{"Authorization": "Bearer t0ken"},
	}
	if err := w.HandleAlert(context.Background(), exampleAlert()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// version 4, firing, authorised: true
	//   resolved memory_usage/warning ends 2026-03-14T15:10:26Z
	//   firing memory_usage/critical ends 0001-01-01T00:00:00Z
}
