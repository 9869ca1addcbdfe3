package notify

import "github.com/mcp-pba-tunnel/pbatunnel/internal/httppost"

// Delivery defaults, shared by Webhook and Alertmanager.
const (
	DefaultTimeout = httppost.DefaultTimeout
	DefaultRetries = httppost.DefaultRetries
	DefaultBackoff = httppost.DefaultBackoff
	MaxBackoff     = httppost.MaxBackoff
)

// A StatusError is a receiver's answer other than 2xx.
type StatusError = httppost.StatusError
