package monitor_test

import (
	"fmt"
	"time"

	"github.com/mcp-pba-tunnel/pbatunnel/monitor"
)

// A server or proxy records each MCP request as a Call; readers page
// through the recent ones, newest first.
func ExampleMonitor_RecordCall() {
	m := monitor.New(monitor.Options{DisableSystem: true})
	client := monitor.ClientInfo{Name: "claude-code", Version: "2.1"}
	m.RecordCall(monitor.Call{Method: "tools/list", Duration: 2 * time.Millisecond, Client: client, Transport: monitor.TransportStdio})
	m.RecordCall(monitor.Call{Method: monitor.MethodToolsCall, Tool: "search_nodes", Duration: 7 * time.Millisecond,
		Client: client, Transport: monitor.TransportStdio, ErrorType: monitor.ErrorTypeTool, Error: "no entity named Ada"})

	for _, c := range m.RecentCalls(0, 10) {
		fmt.Printf("#%d %s %s %v ok=%v %s\n", c.ID, c.Method, c.Tool, c.Duration, c.OK(), c.Error)
	}
	// Output:
	// #2 tools/call search_nodes 7ms ok=false no entity named Ada
	// #1 tools/list  2ms ok=true
}
