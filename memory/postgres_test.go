package memory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
	"github.com/mcp-pba-tunnel/pbatunnel/memory"
)

// Servers starting together on an empty database migrate it once: the
// advisory lock makes the others wait, then find the schema current.
func TestPostgresMigratesOnceWhenOpenedTogether(t *testing.T) {
	url := testenv.RequirePostgres(t).Database(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*memory.Postgres, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = memory.OpenPostgres(context.Background(), memory.Options{URL: url})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	for _, s := range stores {
		if err := s.Ping(bg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPostgresRefusesBadURL(t *testing.T) {
	for _, url := range []string{"", "memory.db", "mysql://x"} {
		if _, err := memory.OpenPostgres(bg, memory.Options{URL: url}); err == nil {
			t.Errorf("OpenPostgres(%q): no error", url)
		}
	}
}

// The errors of OpenPostgres, which serve and the memory commands print,
// never show the password, wherever the URL holds it.
func TestPostgresErrorsHidePassword(t *testing.T) {
	port := testenv.FreePort(t) // nothing listens there
	host := testenv.Addr(port)
	for _, url := range []string{
		"postgres://app:s3cret@" + host + "/db",
		"postgres://app:s3cr%40t@" + host + "/db", // p@ss, escaped
		"postgres://app@" + host + "/db?password=s3cret",
		"postgresql://app@" + host + "/db?sslpassword=s3cret&sslmode=disable",
		"postgres://app:s3cret@" + host + "/db?connect_timeout=banana",
		"mysql://app:s3cret@" + host + "/db",
		"host=" + host + " password=s3cret",
	} {
		_, err := memory.OpenPostgres(bg, memory.Options{URL: url})
		if err == nil || strings.Contains(err.Error(), "s3cr") {
			t.Errorf("OpenPostgres(%q): %v", url, err)
		}
	}
}

// Two stores on one database, as two servers on two hosts: what one
// writes, the other's next read sees, though its cache held the entry.
func TestPostgresCacheSeesOtherStoresWrites(t *testing.T) {
	url := testenv.RequirePostgres(t).Database(t)
	a := memory.MustOpenPostgres(t, memory.Options{URL: url})
	b := memory.MustOpenPostgres(t, memory.Options{URL: url})
	e := mustStore(t, a, memory.NewEntry{Content: "first"})
	for range 2 { // the second Get is served by a's cache
		if got, err := a.Get(bg, e.ID); err != nil || got.Content != "first" {
			t.Fatalf("Get: %+v %v", got, err)
		}
	}
	if _, err := b.Update(bg, e.ID, memory.Patch{Content: ptr("second")}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(bg, e.ID); err != nil || got.Content != "second" {
		t.Errorf("after the other store's update, Get = %+v %v", got, err)
	}
	if err := b.Delete(bg, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(bg, e.ID); err == nil {
		t.Error("after the other store's delete, Get still finds the entry")
	}
	st, err := a.Stats(bg)
	if err != nil || st.DBBytes <= 0 || st.Cache.Hits == 0 {
		t.Errorf("Stats = %+v, %v: want the database's size and the cache's hit", st, err)
	}
}

// ownPostgres starts a PostgreSQL server for the test alone, which it
// may restart or pause, and opens a store on a database of it.
func ownPostgres(t *testing.T, opts memory.Options) (*testenv.Postgres, *memory.Postgres) {
	t.Helper()
	testenv.RequirePostgres(t) // skips, or fails under CI, without PostgreSQL
	pg, err := testenv.StartPostgres()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	opts.URL = pg.Database(t)
	return pg, memory.MustOpenPostgres(t, opts)
}

// A database that stops answering (a server stalled, a host or network
// gone) fails each call after BusyTimeout with an error that says so,
// instead of holding it forever; once it answers again, so does the store.
func TestPostgresStalledDatabase(t *testing.T) {
	const timeout = time.Second
	pg, s := ownPostgres(t, memory.Options{BusyTimeout: timeout})
	e := mustStore(t, s, memory.NewEntry{Content: "before the stall"})
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = pg.Resume()
		}
	}()
	calls := []struct {
		name string
		call func() error
	}{
		{"Store", func() error { _, err := s.Store(bg, memory.NewEntry{Content: "during"}); return err }},
		{"Get", func() error { _, err := s.Get(bg, e.ID); return err }},
		{"Retrieve", func() error { _, err := s.Retrieve(bg, memory.Query{}); return err }},
		{"SearchNodes", func() error { _, err := s.SearchNodes(bg, memory.NodeQuery{Query: "x"}); return err }},
		{"CreateEntities", func() error {
			_, err := s.CreateEntities(bg, []memory.Entity{{Name: "n", EntityType: "t"}})
			return err
		}},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.call()
		d := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "no answer from the database") {
			t.Errorf("%s on a stalled database: %v", c.name, err)
		}
		// Get tries the cache's check, then the read: twice the timeout.
		if d > 3*timeout+2*time.Second {
			t.Errorf("%s took %v to fail; BusyTimeout is %v", c.name, d, timeout)
		}
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	if got, err := s.Get(bg, e.ID); err != nil || got.Content != e.Content {
		t.Errorf("Get after the stall: %+v, %v", got, err)
	}
	mustStore(t, s, memory.NewEntry{Content: "after the stall"})
}

// A database restarted under a running server (an upgrade, a failover)
// cuts every connection of the pool; the calls after it succeed, on new
// connections, instead of each failing once on a connection the restart
// closed.
func TestPostgresRestartedDatabase(t *testing.T) {
	pg, s := ownPostgres(t, memory.Options{})
	e := mustStore(t, s, memory.NewEntry{Content: "before the restart"})
	// Several connections in the pool, all used just now.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.Context(bg, e.ID, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(bg) }},                            // the readiness check
		{"EntryCount", func() error { _, err := s.EntryCount(bg); return err }}, // the gauges
		{"Store", func() error { _, err := s.Store(bg, memory.NewEntry{Content: "after"}); return err }},
		{"Get", func() error { _, err := s.Get(bg, e.ID); return err }},
		{"Retrieve", func() error { _, err := s.Retrieve(bg, memory.Query{}); return err }},
		{"Context", func() error { _, err := s.Context(bg, e.ID, 1); return err }},
		{"SearchNodes", func() error { _, err := s.SearchNodes(bg, memory.NodeQuery{Query: "x"}); return err }},
		{"CreateEntities", func() error {
			_, err := s.CreateEntities(bg, []memory.Entity{{Name: "n", EntityType: "t"}})
			return err
		}},
	}
	for range 2 {
		for _, c := range calls {
			if err := c.call(); err != nil {
				t.Errorf("%s after the restart: %v", c.name, err)
			}
		}
	}
}

// A role that may not create the extensions the schema needs is told
// which, and what an administrator runs; once they exist, the role
// creates the rest.
func TestPostgresRoleWithoutExtensions(t *testing.T) {
	url := testenv.RequirePostgres(t).Database(t)
	admin, err := pgx.Connect(bg, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(bg) }) // after the role's cleanup
	role := fmt.Sprintf("app_%d", time.Now().UnixNano())
	exec := func(q string) {
		t.Helper()
		if _, err := admin.Exec(bg, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE ROLE ` + role + ` LOGIN`)
	t.Cleanup(func() {
		exec(`DROP OWNED BY ` + role)
		exec(`DROP ROLE ` + role)
	})
	exec(`GRANT CREATE ON SCHEMA public TO ` + role)
	appURL := strings.Replace(url, "postgres@", role+"@", 1)
	_, err = memory.OpenPostgres(bg, memory.Options{URL: appURL})
	if err == nil || !strings.Contains(err.Error(), "CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm") {
		t.Fatalf("OpenPostgres as a role that may not create extensions: %v", err)
	}
	exec(`CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm`)
	s, err := memory.OpenPostgres(bg, memory.Options{URL: appURL})
	if err != nil {
		t.Fatalf("OpenPostgres once the extensions exist: %v", err)
	}
	s.Close()
}

// A database whose encoding is not UTF-8 cannot hold every text the store
// takes (a LATIN1 one refuses "日本"), and would fail calls one by one
// with encoding errors: it is refused when the store opens, saying why.
func TestPostgresRefusesNonUTF8Database(t *testing.T) {
	pg := testenv.RequirePostgres(t)
	admin, err := pgx.Connect(bg, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(bg) })
	name := fmt.Sprintf("latin1_%d", time.Now().UnixNano())
	if _, err := admin.Exec(bg, `CREATE DATABASE `+name+` ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(bg, `DROP DATABASE `+name+` WITH (FORCE)`) })
	_, err = memory.OpenPostgres(bg, memory.Options{URL: pg.URL(name)})
	if err == nil || !strings.Contains(err.Error(), "LATIN1") || !strings.Contains(err.Error(), "UTF8") {
		t.Errorf("OpenPostgres on a LATIN1 database: %v", err)
	}
}
