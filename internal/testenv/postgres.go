package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A Postgres is a PostgreSQL server of its own, started for the tests of
// one test binary in a temporary directory, on a free loopback port, with
// durability off (fsync, synchronous commit): the tests' data need not
// outlive them. Each test gets a database of its own from Database.
type Postgres struct {
	dir    string
	port   int
	server string // the postgres program
	asRoot bool
	cmd    *exec.Cmd
	done   chan struct{}
	out    *Buffer
	dbSeq  atomic.Int64
}

// nobody is the unprivileged user PostgreSQL runs as when the tests run as
// root: the server refuses to run as root.
const nobody = 65534

var (
	sharedPG     *Postgres
	sharedPGErr  error
	sharedPGOnce sync.Once
)

// RequirePostgres returns the test binary's PostgreSQL server, started by
// the first call (StopPostgres stops it, from TestMain). When PostgreSQL is
// not installed the test is skipped, or fails under CI, as Require does.
func RequirePostgres(t testing.TB) *Postgres {
	t.Helper()
	if _, err := postgresBin("initdb"); err != nil {
		Require(t, "initdb") // skips or fails with the usual message
		return nil
	}
	sharedPGOnce.Do(func() { sharedPG, sharedPGErr = StartPostgres() })
	if sharedPGErr != nil {
		t.Fatalf("starting PostgreSQL: %v", sharedPGErr)
	}
	return sharedPG
}

// StopPostgres stops the server RequirePostgres started, if it did.
func StopPostgres() {
	if sharedPG != nil {
		sharedPG.Stop()
	}
}

// postgresBin finds one of PostgreSQL's programs: on PATH, else where
// Debian's packages put them (/usr/lib/postgresql/VERSION/bin), newest
// version first.
func postgresBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH nor in /usr/lib/postgresql/*/bin", name)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartPostgres initialises a cluster in a new temporary directory and
// starts its server.
func StartPostgres() (*Postgres, error) {
	initdb, err := postgresBin("initdb")
	if err != nil {
		return nil, err
	}
	server, err := postgresBin("postgres")
	if err != nil {
		return nil, err
	}
	// Not under t.TempDir: its parents are private to root, and the
	// server may run as nobody.
	dir, err := os.MkdirTemp("", "pbatunnel-pg-")
	if err != nil {
		return nil, err
	}
	asRoot := os.Geteuid() == 0
	if asRoot {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	init := exec.Command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	runAs(init, asRoot)
	if out, err := init.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for try := 1; ; try++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		p := &Postgres{dir: dir, port: port, server: server, asRoot: asRoot, out: &Buffer{}}
		err = p.start()
		if err == nil {
			return p, nil
		}
		if try < 3 {
			continue // the port may have been taken meanwhile
		}
		os.RemoveAll(dir)
		return nil, err
	}
}

// start starts the server on p's port and data and waits until it takes
// connections.
func (p *Postgres) start() error {
	p.done = make(chan struct{})
	p.cmd = exec.Command(p.server, "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.port), "-k", p.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	runAs(p.cmd, p.asRoot)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	done := p.done
	go func() { _ = p.cmd.Wait(); close(done) }()
	if err := p.waitReady(30 * time.Second); err != nil {
		_ = p.cmd.Process.Kill()
		<-done
		return fmt.Errorf("postgres did not start: %v\n%s", err, p.out.String())
	}
	return nil
}

// Restart stops the server, as an administrator's restart does (a fast
// shutdown: every connection is cut), and starts it again on the same
// port with the same data. For the tests of a server of their own
// (StartPostgres): the shared one serves other tests meanwhile.
func (p *Postgres) Restart() error {
	p.shutdown()
	return p.start()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (p *Postgres) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return errors.New("the server exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, p.URL("postgres"))
		if err == nil {
			err = c.Ping(ctx)
			c.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", timeout, last)
}

// URL is the connection URL of database db, as the superuser.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// Database creates a new empty database for the test and returns its URL;
// the database is dropped when the test ends, its connections cut.
func (p *Postgres) Database(t testing.TB) string {
	t.Helper()
	url, drop, err := p.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return url
}

// CreateDatabase creates a new empty database and returns its URL and
// the function that drops it, cutting its connections.
func (p *Postgres) CreateDatabase(ctx context.Context) (url string, drop func() error, err error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), p.dbSeq.Add(1))
	if err := p.admin(ctx, `CREATE DATABASE `+name); err != nil {
		return "", nil, err
	}
	return p.URL(name), func() error { return p.admin(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) }, nil
}

func (p *Postgres) admin(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// Pause stops every process of the server (SIGSTOP), as a server that
// stalls does: connections stay open and nothing answers. Resume lets it
// go on. For the tests of a server of their own (StartPostgres).
func (p *Postgres) Pause() error { return signalServer(p.cmd.Process.Pid, syscall.SIGSTOP) }

// Resume undoes Pause.
func (p *Postgres) Resume() error { return signalServer(p.cmd.Process.Pid, syscall.SIGCONT) }

// Stop stops the server (a fast shutdown) and removes its directory.
func (p *Postgres) Stop() {
	p.shutdown()
	os.RemoveAll(p.dir)
}

// shutdown stops the server: a fast shutdown, a kill if that takes over
// 10 s.
func (p *Postgres) shutdown() {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
