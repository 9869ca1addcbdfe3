package codeanalysis

import "regexp"

// reSQL recognises the text of a SQL statement: a verb with the word that
// makes it a statement, so that "select an option" in a label does not count.
var reSQL = regexp.MustCompile(`(?is)\b(?:select\s.*?\bfrom\b|insert\s+into\b|update\s+\S+\s+set\b|delete\s+from\b|(?:drop|alter|create|truncate)\s+table\b|replace\s+into\b|merge\s+into\b)`)

// sqlLike reports whether the literal parts of a string look like SQL.
func sqlLike(s string) bool {
	return reSQL.MatchString(s)
}

// shells are the programs that interpret a command line passed after one of
// shellFlags.
var shells = map[string]bool{
	"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "ash": true,
	"/bin/sh": true, "/bin/bash": true, "/bin/zsh": true, "/usr/bin/sh": true, "/usr/bin/bash": true,
	"cmd": true, "cmd.exe": true, "powershell": true, "powershell.exe": true, "pwsh": true,
}

var shellFlags = map[string]bool{"-c": true, "/c": true, "/C": true, "-Command": true, "-command": true}

// weakHashMessage explains a weak-hash finding about what.
func weakHashMessage(what string) string {
	return what + " is broken for signatures, passwords and tokens; use SHA-256 or better (fine for non-security checksums)"
}
