package testcluster

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiscoverySeparatesSecureClusters publishes two fake one-node clusters in a cache of
// its own, one of them secure: Real must never hand out the secure one (it denies by
// default and its tests own it), Secure must find it and read its security.env.
func TestDiscoverySeparatesSecureClusters(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("KPROD_KAFKA_CACHE", cache)
	t.Setenv("KPROD_REQUIRE_KAFKA", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	publish := func(name string, files map[string]string) string {
		dir := filepath.Join(cache, "clusters", name)
		for f, body := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	// "a-secure" sorts first and has the same version: only the exclusion keeps it out.
	dir := filepath.Join(cache, "clusters", "a-secure")
	env := []string{"# comment", "", "SECURITY_FORMAT='1'", "LISTENERS='PLAINTEXT SSL MTLS SASL_PLAINTEXT SASL_SSL WRONGHOST OAUTH'",
		"SASL_PLAINTEXT_REAUTH_MS='10000'", "PKI_DIR='" + dir + "/pki'", "USERS='alice noacl'",
		"USER_ALICE_PASSWORD='alice-secret'", "USER_ALICE_MECHANISMS='SCRAM-SHA-512'",
		"USER_NOACL_PASSWORD='noacl-secret'", "USER_NOACL_MECHANISMS='PLAIN,SCRAM-SHA-256'",
		"CLIENT_CONFIGS='mtls-p12'", "CLIENT_CONFIG_MTLS_P12_FILE='" + dir + "/client/mtls-p12.properties'",
		"CLIENT_CONFIG_MTLS_P12_LISTENER='MTLS'", "CLIENT_CONFIG_MTLS_P12_PRINCIPAL='User:alice'",
		"CLIENT_CONFIG_MTLS_P12_MECHANISM=''", "SSL_PRINCIPAL_MAPPING_RULES='RULE:^CN=([^,]+),.*$/$1/,DEFAULT'"}
	for _, l := range []string{"PLAINTEXT", "SSL", "MTLS", "SASL_PLAINTEXT", "SASL_SSL", "WRONGHOST", "OAUTH"} {
		env = append(env, l+"_BOOTSTRAP='"+addr+"'", l+"_PROTOCOL='"+strings.Replace(l, "MTLS", "SSL", 1)+"'")
	}
	publish("a-secure", map[string]string{"bootstrap": addr, "nodes": "1", "version": "4.4.0",
		"security.env": strings.Join(env, "\n") + "\n", "pki/ca.pem": "x"})
	publish("plain", map[string]string{"bootstrap": addr, "nodes": "1", "version": "4.4.0"})

	if c := Real(t, 1); c.Name != "plain" {
		t.Fatalf("Real picked %s, want plain", c.Name)
	}
	s := Secure(t)
	if s.Name != "a-secure" || s.Listener("MTLS") != addr || s.ReauthMs != 10000 {
		t.Fatalf("Secure: %s, MTLS %q, reauth %d", s.Name, s.Listener("MTLS"), s.ReauthMs)
	}
	if u := s.Users["noacl"]; u.Password != "noacl-secret" || strings.Join(u.Mechanisms, " ") != "PLAIN SCRAM-SHA-256" {
		t.Fatalf("user noacl: %+v", u)
	}
	if cc := s.Config(t, "mtls-p12"); cc.Protocol != "SSL" || cc.Principal != "User:alice" || cc.Mechanism != "" ||
		cc.File != dir+"/client/mtls-p12.properties" {
		t.Fatalf("config mtls-p12: %+v", cc)
	}
	if got := s.Env["SSL_PRINCIPAL_MAPPING_RULES"]; got != "RULE:^CN=([^,]+),.*$/$1/,DEFAULT" {
		t.Fatalf("quoted value read as %q", got)
	}
	if s.PKI("alice.p12") != filepath.Join(dir, "pki", "alice.p12") {
		t.Fatalf("PKI path %s", s.PKI("alice.p12"))
	}
}
