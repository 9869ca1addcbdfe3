package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

// The page is embedded so that the binary serves it with no network and no
// files beside it.
//
//go:embed web
var webFS embed.FS

func staticHandler() http.Handler {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic("dashboard: embedded web files: " + err.Error())
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Cache-Control", "no-cache")
		}
		if len(r.URL.Path) > len("/static/") && r.URL.Path[:len("/static/")] == "/static/" {
			r2 := r.Clone(r.Context())
			r2.URL.Path = r.URL.Path[len("/static"):]
			files.ServeHTTP(w, r2)
			return
		}
		files.ServeHTTP(w, r)
	})
}
