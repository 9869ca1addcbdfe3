// Package notify delivers the monitor's alert notifications: to a log
// ([LogHandler]), to any receiver that understands Alertmanager's webhook
// payload ([Webhook]), and to a real Alertmanager through its API
// ([Alertmanager]).
//
// Every notifier implements [alert.NamedHandler]; register it with
// [alert.Engine.OnAlert]. The engine calls each handler from a
// goroutine of its own through a bounded queue, so a notifier may block: it
// is where timeouts, retries and backoff happen, and each returns promptly
// when its context is cancelled.
//
// The webhook and the Alertmanager notifier describe an alert with the same
// labels and annotations (see [Labels] and [Annotations]), so an alert has
// the same identity, and the same fingerprint, whichever way it travels.
package notify
