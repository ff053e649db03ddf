// Package testregistry hands a test the real schema registry that scripts/registry
// started (Apicurio Registry with its Confluent-compatible API) and the independent
// reader beside it (Confluent's Python client in the registry cache's venv).
//
// Like testcluster, a test that needs them fails when KPROD_REQUIRE_KAFKA=1 (CI and
// scripts/test set it) and they are absent, and skips otherwise, saying how to start them.
package testregistry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// DefaultURL is where `scripts/registry up` serves the Confluent-compatible API.
const DefaultURL = "http://127.0.0.1:18081/apis/ccompat/v7"

// Cache is the registry cache folder: KPROD_REGISTRY_CACHE, else
// $HOME/.cache/kprod/registry, as scripts/registry uses.
func Cache() string {
	if c := os.Getenv("KPROD_REGISTRY_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "kprod", "registry")
}

// URL returns the base URL (schema.registry.url) of a registry that answers:
// KPROD_REGISTRY_URL, else the one scripts/registry published in its cache, else
// DefaultURL. It fails or skips the test when none answers.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("KPROD_REGISTRY_URL")
	if u == "" {
		if b, err := os.ReadFile(filepath.Join(Cache(), "run", "url")); err == nil {
			u = strings.TrimSpace(string(b))
		}
	}
	if u == "" {
		u = DefaultURL
	}
	if err := ping(u); err != nil {
		absent(t, "schema registry", fmt.Sprintf("%s does not answer: %v", u, err), "`scripts/registry up`")
	}
	return u
}

func ping(u string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/subjects", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /subjects answered %s", resp.Status)
	}
	return nil
}

// Python returns a Python that imports Confluent's schema-registry client:
// KPROD_REGISTRY_PYTHON, else the cache's venv (scripts/registry python makes it).
// It fails or skips the test when there is none.
func Python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("KPROD_REGISTRY_PYTHON")
	if py == "" {
		py = filepath.Join(Cache(), "venv", "bin", "python")
	}
	cmd := exec.Command(py, "-c", "import confluent_kafka.schema_registry, fastavro")
	if out, err := cmd.CombinedOutput(); err != nil {
		absent(t, "Confluent's Python client", fmt.Sprintf("%s: %v %s", py, err, bytes.TrimSpace(out)), "`scripts/registry python`")
	}
	return py
}

// Name returns a subject or topic name unique to this run of this test: the
// registry keeps what earlier runs registered, so tests never share names.
func Name(t testing.TB, prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	test := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%s-%s-%s", prefix, test, hex.EncodeToString(b[:]))
}

// SetCompatibility sets subject's compatibility level (BACKWARD, NONE, ...), for
// tests of 409 answers: Apicurio's default is NONE where Confluent's is BACKWARD.
func SetCompatibility(t testing.TB, url, subject, level string) {
	t.Helper()
	body := strings.NewReader(`{"compatibility":"` + level + `"}`)
	req, err := http.NewRequest(http.MethodPut, url+"/config/"+subject, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("setting %s's compatibility: %v", subject, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setting %s's compatibility to %s: %s", subject, level, resp.Status)
	}
}

func absent(t testing.TB, what, why, start string) {
	t.Helper()
	testcluster.Absent(t, what, why, "start it with "+start+" (or run the full suite with scripts/test)")
}
