package main

import (
	"cmp"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mcp-pba-tunnel/pbatunnel/internal/testenv"
)

// composeDir holds compose.yaml and what it mounts, from this package's
// directory.
var composeDir = filepath.Join(repoRoot, "deploy")

// The parts of a compose file the test reads.
type composeFile struct {
	Services map[string]composeService
	Secrets  map[string]struct{ Environment, File string }
	Volumes  map[string]any
}

type composeService struct {
	Build *struct {
		Context, Dockerfile string
	}
	Image       string
	Command     []string
	Environment map[string]string
	Ports       []string
	Volumes     []string
	Secrets     []string
}

// secretsDir is where Docker Compose mounts a service's secrets.
const secretsDir = "/run/secrets/"

// promConfigDir is where compose.yaml mounts deploy/prometheus in the
// Prometheus container.
const promConfigDir = "/etc/prometheus/"

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestCompose checks deploy/compose.yaml against what it runs: the
// Dockerfile it builds (port, volume), the files it mounts, the token
// pbatunnel requires beyond loopback and Prometheus must send, the Host
// Prometheus names, Grafana's provisioning, and, once it exists,
// deploy/prometheus/prometheus.yml.
func TestCompose(t *testing.T) {
	var c composeFile
	readYAML(t, filepath.Join(composeDir, "compose.yaml"), &c)
	for _, name := range []string{"pbatunnel", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("compose.yaml has no %s service", name)
		}
	}
	_, stage := finalStage(readDockerfile(t))
	port := instruction(t, stage, "EXPOSE")

	pb := c.Services["pbatunnel"]
	if pb.Build == nil || filepath.Join(composeDir, pb.Build.Context, pb.Build.Dockerfile) != filepath.Join(repoRoot, "Dockerfile") {
		t.Errorf("pbatunnel builds %+v, want the repository's Dockerfile", pb.Build)
	}
	checkPorts(t, "pbatunnel", pb, port)
	checkPorts(t, "prometheus", c.Services["prometheus"], "9090")
	checkPorts(t, "grafana", c.Services["grafana"], "3000")
	mounts := map[string]map[string]string{} // service → target → source
	for name, s := range c.Services {
		mounts[name] = checkVolumes(t, c, name, s)
	}
	if src, ok := mounts["pbatunnel"]["/data"]; !ok || strings.HasPrefix(src, ".") {
		t.Errorf("pbatunnel mounts %v, want a named volume at /data, the image's VOLUME", mounts["pbatunnel"])
	}

	// Beyond loopback pbatunnel wants a token: from the host's
	// environment, required, never written here.
	env := pb.Environment
	if !regexp.MustCompile(`^\$\{PBATUNNEL_AUTH_TOKEN:\?.+\}$`).MatchString(env["PBATUNNEL_AUTH_TOKEN"]) {
		t.Errorf("pbatunnel's PBATUNNEL_AUTH_TOKEN = %q, want ${PBATUNNEL_AUTH_TOKEN:?message}", env["PBATUNNEL_AUTH_TOKEN"])
	}
	if !slices.Contains(strings.Split(env["PBATUNNEL_ALLOWED_HOST"], ","), "pbatunnel") {
		t.Errorf("PBATUNNEL_ALLOWED_HOST = %q: pbatunnel would refuse Prometheus' scrapes of pbatunnel:%s", env["PBATUNNEL_ALLOWED_HOST"], port)
	}
	prom := c.Services["prometheus"]
	if !strings.HasPrefix(prom.Image, "prom/prometheus:") || mounts["prometheus"]["/etc/prometheus"] != "./prometheus" ||
		!slices.Contains(prom.Command, "--config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus: image %q, mounts %v, command %q: want prom/prometheus reading ./prometheus/prometheus.yml at /etc/prometheus",
			prom.Image, mounts["prometheus"], prom.Command)
	}

	graf := c.Services["grafana"]
	if !strings.HasPrefix(graf.Image, "grafana/grafana:") || mounts["grafana"]["/etc/grafana/provisioning"] != "./grafana/provisioning" {
		t.Errorf("grafana: image %q, mounts %v: want grafana/grafana with ./grafana/provisioning", graf.Image, mounts["grafana"])
	}
	var providers struct {
		Providers []struct {
			Options struct{ Path string }
		}
	}
	readYAML(t, filepath.Join(composeDir, "grafana", "provisioning", "dashboards", "pbatunnel.yml"), &providers)
	if len(providers.Providers) != 1 || mounts["grafana"][providers.Providers[0].Options.Path+"/pbatunnel.json"] != "./grafana/pbatunnel.json" {
		t.Errorf("the dashboard provider loads %+v; grafana mounts %v: want ./grafana/pbatunnel.json there", providers, mounts["grafana"])
	}
	var sources struct {
		Datasources []struct {
			Type, URL string
			JSONData  struct {
				TimeInterval string `yaml:"timeInterval"`
			} `yaml:"jsonData"`
		}
	}
	readYAML(t, filepath.Join(composeDir, "grafana", "provisioning", "datasources", "prometheus.yml"), &sources)
	if len(sources.Datasources) != 1 || sources.Datasources[0].Type != "prometheus" || sources.Datasources[0].URL != "http://prometheus:9090" {
		t.Fatalf("Grafana's data sources %+v, want one Prometheus at http://prometheus:9090, the compose service", sources)
	}
	checkPrometheusConfig(t, c, "pbatunnel:"+port, sources.Datasources[0].JSONData.TimeInterval)
}

// checkPorts checks that a service publishes port on the host's loopback
// only.
func checkPorts(t *testing.T, name string, s composeService, port string) {
	t.Helper()
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if len(parts) != 3 || net.ParseIP(parts[0]) == nil || !net.ParseIP(parts[0]).IsLoopback() {
			t.Errorf("%s publishes %q: want 127.0.0.1:HOST:CONTAINER, on loopback", name, p)
		}
		if parts[len(parts)-1] == port {
			return
		}
	}
	t.Errorf("%s publishes %q, want its port %s among them", name, s.Ports, port)
}

// checkVolumes checks that every host path a service mounts exists and
// every named volume is declared, and returns the mounts by target.
func checkVolumes(t *testing.T, c composeFile, name string, s composeService) map[string]string {
	t.Helper()
	byTarget := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw" {
			t.Errorf("%s mounts %q: want SOURCE:TARGET[:ro]", name, v)
			continue
		}
		src, target := parts[0], parts[1]
		byTarget[target] = src
		if !strings.HasPrefix(src, ".") {
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts the volume %q, which compose.yaml does not declare", name, src)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(composeDir, src)); err != nil {
			t.Errorf("%s mounts %s at %s, which is not in the repository: %v", name, src, target, err)
		}
	}
	return byTarget
}

// checkPrometheusConfig checks deploy/prometheus/prometheus.yml against
// the rest of the set-up: a job scraping target with a token Prometheus can
// read in its container, the rules file beside it, and the scrape interval
// that Grafana's data source assumes. It reports nothing when the file does
// not exist: checkVolumes already reports the mount of its directory.
func checkPrometheusConfig(t *testing.T, c composeFile, target, grafanaInterval string) {
	t.Helper()
	path := filepath.Join(composeDir, "prometheus", "prometheus.yml")
	if _, err := os.Stat(path); err != nil {
		return
	}
	var cfg struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		}
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			Authorization  struct {
				CredentialsFile string `yaml:"credentials_file"`
			}
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, path, &cfg)
	found := false
	for _, sc := range cfg.ScrapeConfigs {
		if !slices.ContainsFunc(sc.StaticConfigs, func(s struct{ Targets []string }) bool { return slices.Contains(s.Targets, target) }) {
			continue
		}
		found = true
		checkTokenFile(t, c, sc.JobName, sc.Authorization.CredentialsFile)
		interval := cmp.Or(sc.ScrapeInterval, cfg.Global.ScrapeInterval, "1m")
		if interval != grafanaInterval {
			t.Errorf("prometheus.yml: job %s scrapes every %s, Grafana's data source says %s (timeInterval, which sizes $__rate_interval)",
				sc.JobName, interval, grafanaInterval)
		}
	}
	if !found {
		t.Errorf("prometheus.yml: no job scrapes %s", target)
	}
	// Rule files are relative to prometheus.yml, or under /etc/prometheus
	// where compose.yaml mounts deploy/prometheus; they may be globs.
	for _, f := range cfg.RuleFiles {
		rel, ok := strings.CutPrefix(f, "/etc/prometheus/")
		if !ok && filepath.IsAbs(f) {
			t.Errorf("prometheus.yml: rule file %s is outside /etc/prometheus, where deploy/prometheus is mounted", f)
			continue
		}
		if !ok {
			rel = f
		}
		if m, _ := filepath.Glob(filepath.Join(composeDir, "prometheus", rel)); len(m) == 0 {
			t.Errorf("prometheus.yml: rule file %s is not in deploy/prometheus", f)
		}
	}
	if !slices.ContainsFunc(cfg.RuleFiles, func(f string) bool { return filepath.Base(f) == "pbatunnel.rules.yml" }) {
		t.Errorf("prometheus.yml: rule_files %q, want pbatunnel.rules.yml", cfg.RuleFiles)
	}
}

// checkTokenFile checks that the credentials file of Prometheus' pbatunnel
// job holds the token pbatunnel is given: a secret of the Prometheus
// service made from PBATUNNEL_AUTH_TOKEN, or a file in deploy/prometheus
// (where compose.yaml says to write the token) that git ignores. Without
// it pbatunnel answers 401 and the dashboard stays empty.
func checkTokenFile(t *testing.T, c composeFile, job, file string) {
	t.Helper()
	if file == "" {
		t.Errorf("prometheus.yml: job %s sends no token (authorization.credentials_file): pbatunnel answers 401", job)
		return
	}
	if name, ok := strings.CutPrefix(file, secretsDir); ok {
		if !slices.Contains(c.Services["prometheus"].Secrets, name) || c.Secrets[name].Environment != "PBATUNNEL_AUTH_TOKEN" {
			t.Errorf("prometheus.yml: job %s reads the token from %s, which compose.yaml does not make from PBATUNNEL_AUTH_TOKEN", job, file)
		}
		return
	}
	rel, ok := strings.CutPrefix(file, promConfigDir)
	if !ok && filepath.IsAbs(file) {
		t.Errorf("prometheus.yml: job %s reads the token from %s, outside %s where compose.yaml mounts deploy/prometheus", job, file, promConfigDir)
		return
	}
	if !ok {
		rel = file
	}
	b, err := os.ReadFile(filepath.Join(composeDir, "prometheus", ".gitignore"))
	if err != nil || !slices.Contains(strings.Fields(string(b)), rel) {
		t.Errorf("prometheus.yml: job %s reads the token from deploy/prometheus/%s, which deploy/prometheus/.gitignore does not keep out of the repository (%v)", job, rel, err)
	}
}

// deploy/up.sh makes the token once, keeps it, and starts the compose
// file with it: run with a stand-in docker that records what it got.
func TestComposeUpScript(t *testing.T) {
	sh := testenv.Require(t, "sh")
	deploy := t.TempDir()
	if err := os.MkdirAll(filepath.Join(deploy, "prometheus"), 0o755); err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(composeDir, "up.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deploy, "up.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "docker-call")
	fake := "#!/bin/sh\nprintf '%s\\n' \"$PBATUNNEL_AUTH_TOKEN\" \"$@\" >" + record + "\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func() []string {
		t.Helper()
		cmd := exec.Command(sh, filepath.Join(deploy, "up.sh"), "--detach")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("up.sh: %v\n%s", err, out)
		}
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	first := run()
	tokenFile := filepath.Join(deploy, "prometheus", "pbatunnel.token")
	saved, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{strings.TrimSpace(string(saved)), "compose", "-f", filepath.Join(deploy, "compose.yaml"), "up", "--build", "--detach"}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(first[0]) || strings.Join(first, " ") != strings.Join(want, " ") {
		t.Errorf("docker got %q, want %q with a 64-digit hex token", first, want)
	}
	if second := run(); second[0] != first[0] {
		t.Errorf("the second run's token %q is not the first's %q", second[0], first[0])
	}
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("token file mode %v, %v: want 0644, for Prometheus' user in its container", fi.Mode(), err)
	}

	// A token written by hand, as docs/SCALING.md also says to: with a
	// Windows line end, by a shell whose umask keeps it from others.
	// Prometheus trims the file's white space and reads it as nobody, so
	// pbatunnel must get the token without the \r, and the file must
	// become readable to others.
	const handMade = "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(tokenFile, []byte(handMade+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tokenFile, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := run(); got[0] != handMade {
		t.Errorf("with a token file of %q docker got the token %q, want %q", handMade+"\r\n", got[0], handMade)
	}
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm()&0o004 == 0 {
		t.Errorf("a token file written by hand with mode 0600 is left %v, %v: Prometheus' user in its container cannot read it", fi.Mode(), err)
	}
}
