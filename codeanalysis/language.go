package codeanalysis

import (
	"path/filepath"
	"strings"
)

// Language names, as they appear in Result.Languages and FileSummary.Language.
const (
	langGo         = "go"
	langPython     = "python"
	langJavaScript = "javascript"
	langTypeScript = "typescript"
)

// supportedExtensions is for messages: the file names a request can analyse.
const supportedExtensions = ".go, .py, .pyi, .js, .mjs, .cjs, .jsx, .ts, .tsx, .mts, .cts"

// languageOf names the language of a file from its extension, or returns ""
// when the language is not supported.
func languageOf(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".go":
		return langGo
	case ".py", ".pyi":
		return langPython
	case ".js", ".mjs", ".cjs", ".jsx":
		return langJavaScript
	case ".ts", ".tsx", ".mts", ".cts":
		return langTypeScript
	}
	return ""
}

// lexical reports whether a language is analysed by the lexical scanner
// rather than a parser, which makes its results approximate.
func lexical(lang string) bool {
	return lang != langGo
}
