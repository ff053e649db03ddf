package kprod_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/kprod-io/kprod"
)

// TestPasswordNeverPrints: a Config holding secrets prints none of them, whatever the
// verb, as JSON, through slog or through Properties (Java's Password prints "[hidden]").
func TestPasswordNeverPrints(t *testing.T) {
	const secret = "s3cr3t-value"
	cfg := kprod.Config{BootstrapServers: []string{"a:1"}, SecurityProtocol: kprod.SecuritySSL,
		SSL: kprod.SSLConfig{TruststorePassword: secret, KeystorePassword: secret, KeystoreKey: secret, KeyPassword: secret}}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "ssl", cfg.SSL)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
		"%s": fmt.Sprintf("%s", cfg.SSL.KeyPassword), "%q": fmt.Sprintf("%q", cfg.SSL.KeyPassword),
		"%x": fmt.Sprintf("%x", cfg.SSL.KeyPassword), "String": cfg.SSL.KeyPassword.String(),
		"json": string(js), "slog": logged.String(), "Properties": fmt.Sprint(cfg.Properties()),
	}
	for how, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("%s shows the secret: %s", how, out)
		}
		if !strings.Contains(out, "[hidden]") {
			t.Errorf("%s does not say [hidden]: %s", how, out)
		}
	}
	if string(cfg.SSL.KeyPassword) != secret {
		t.Fatal("the value itself is lost")
	}
}

// TestPasswordUnsetPrintsEmpty: an unset Password prints as empty, not "[hidden]" (Java
// logs an unset password as null), with every verb, alone or in a whole Config; a set
// one beside it stays hidden.
func TestPasswordUnsetPrintsEmpty(t *testing.T) {
	var unset kprod.Password
	for how, out := range map[string]string{
		"String": unset.String(), "GoString": unset.GoString(), "%v": fmt.Sprintf("%v", unset),
		"%s": fmt.Sprintf("%s", unset), "%q": fmt.Sprintf("%q", unset), "%#v": fmt.Sprintf("%#v", unset),
	} {
		if out != "" {
			t.Errorf("%s of an unset Password: %q, want empty", how, out)
		}
	}
	if js, _ := json.Marshal(unset); string(js) != `""` {
		t.Errorf("JSON of an unset Password: %s", js)
	}
	if txt, _ := unset.MarshalText(); len(txt) != 0 {
		t.Errorf("text of an unset Password: %q", txt)
	}
	const secret = "s3cr3t-value"
	ssl := kprod.SSLConfig{KeyPassword: secret}
	cfg := kprod.Config{BootstrapServers: []string{"a:1"}, SecurityProtocol: kprod.SecuritySSL, SSL: ssl}
	for how, out := range map[string]string{"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg), "ssl %+v": fmt.Sprintf("%+v", ssl)} {
		if strings.Contains(out, secret) || strings.Count(out, "[hidden]") != 1 {
			t.Errorf("%s: want the one set password hidden, the unset ones empty: %s", how, out)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", ssl), "KeystorePassword: ") || !strings.Contains(fmt.Sprintf("%+v", ssl), "KeyPassword:[hidden]") {
		t.Errorf("%%+v: %+v", ssl)
	}
}

// TestSSLIgnoredWithoutTLS: as in Java, ssl.* settings are not looked at for a
// protocol without TLS, so a PLAINTEXT config with stale ones still works; with SSL
// the same settings are errors.
func TestSSLIgnoredWithoutTLS(t *testing.T) {
	props := map[string]string{"bootstrap.servers": "a:1", "ssl.truststore.location": "/nonexistent.jks",
		"ssl.keystore.password": "pw", "ssl.protocol": "TLSv1.1", "ssl.cipher.suites": "NOPE"}
	cfg, err := kprod.ConfigFromProperties(props)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("PLAINTEXT: %v", err)
	}
	cfg.SecurityProtocol = kprod.SecuritySSL
	err = cfg.Validate()
	for _, prop := range []string{"ssl.truststore.location", "ssl.keystore.password", "ssl.protocol", "ssl.cipher.suites"} {
		if !slices.Contains(configProps(err), prop) {
			t.Errorf("SSL: error %v does not name %s", err, prop)
		}
	}
}

// TestConfigTLSRequiresATLSProtocol: a *tls.Config given with PLAINTEXT would be
// silently unused; that is an error naming security.protocol.
func TestConfigTLSRequiresATLSProtocol(t *testing.T) {
	cfg := kprod.Config{BootstrapServers: []string{"a:1"}, TLS: &tls.Config{}}
	err := cfg.Validate()
	var ce *kprod.ConfigError
	if !errors.As(err, &ce) || ce.Property != "security.protocol" || !strings.Contains(ce.Reason, "Config.TLS") {
		t.Fatalf("error %v, want security.protocol naming Config.TLS", err)
	}
	cfg.SecurityProtocol = kprod.SecuritySSL
	cfg.SSL.KeystoreLocation = "/nonexistent" // ignored: TLS wins over SSL
	if err := cfg.Validate(); err != nil {
		t.Fatalf("SSL with Config.TLS: %v", err)
	}
}

// TestTLSNotesLogged: protocols and suites Java would ignore are ignored with a
// warning, not silently.
func TestTLSNotesLogged(t *testing.T) {
	var logged bytes.Buffer
	cfg := kprod.Config{BootstrapServers: []string{"127.0.0.1:1"}, SecurityProtocol: kprod.SecuritySSL,
		SSL: kprod.SSLConfig{EnabledProtocols: []string{"TLSv1.2", "TLSv1.1"}}}
	p, err := kprod.NewProducer(cfg, kprod.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Close(ctx)
	if !strings.Contains(logged.String(), "TLSv1.1 ignored") {
		t.Fatalf("log: %s", logged.String())
	}
}
