package testcluster

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// SecureCluster is a real cluster started with `scripts/kafka up --security`: beside
// PLAINTEXT it has the listeners SSL, MTLS (client certificate required), SASL_PLAINTEXT
// (sessions expire after ReauthMs), SASL_SSL, WRONGHOST (a certificate for another host)
// and OAUTH (OAUTHBEARER with signed tokens checked against a JWK Set),
// the StandardAuthorizer (deny unless an ACL allows), SASL users and a test PKI. Everything
// comes from the security.env the script wrote (scripts/kafka-security.sh documents it).
type SecureCluster struct {
	// Cluster is the PLAINTEXT side (Bootstrap, Java, Script). Its principal, ANONYMOUS,
	// is a super user: test authorization on the other listeners.
	*Cluster
	// Listeners maps a listener name (PLAINTEXT, SSL, MTLS, SASL_PLAINTEXT, SASL_SSL,
	// WRONGHOST, OAUTH) to its brokers' host:port addresses.
	Listeners map[string][]string
	// Protocols maps a listener name to its security.protocol (MTLS and WRONGHOST are SSL,
	// OAUTH is SASL_SSL).
	Protocols map[string]string
	// ReauthMs is the SASL_PLAINTEXT listener's connections.max.reauth.ms (KIP-368): the
	// broker ends a session that old; SASL_SSL sessions do not expire.
	ReauthMs int
	// WrongHost is the only name in the WRONGHOST listener's certificate.
	WrongHost string
	// OAuthAudience, OAuthIssuer and OAuthKeyID are what the OAUTH listener wants in a
	// token: aud, iss, and the header's kid of the PKI's oauth-signer.key (SignedJWT).
	OAuthAudience, OAuthIssuer, OAuthKeyID string
	// PKIDir holds the test PKI (see scripts/kafka-pki for every file); PKI(name) joins.
	PKIDir string
	// StorePassword opens every JKS and PKCS12 store; KeyPassword decrypts the encrypted
	// PEM keys (*.pbes1.key, *.pbes2.key) and the JKS key entries.
	StorePassword, KeyPassword string
	// Users are the SASL users by name. admin is a super user; noacl has no ACL but what the
	// authorization tests grant it on their own uniquely named resources while they run.
	Users map[string]User
	// Configs are the Java producer configs the script wrote, one per protocol and mechanism.
	Configs []ClientConfig
	// Env is security.env itself; EnvFile its path.
	Env     map[string]string
	EnvFile string
}

// User is a SASL user of a secure cluster.
type User struct {
	Name, Password string
	// Mechanisms lists where the user exists: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.
	Mechanisms []string
}

// ClientConfig is a Java producer.properties written by `up --security`.
type ClientConfig struct {
	// Name is the file's base name without .properties, e.g. "mtls-p12", "sasl_ssl-plain".
	Name string
	// File is its path; it sets bootstrap.servers to Listener's addresses.
	File string
	// Listener is the broker listener it connects to; Protocol its security.protocol.
	Listener, Protocol string
	// Principal is who the broker sees, e.g. "User:alice" (ACLs are granted to it).
	Principal string
	// Mechanism is the SASL mechanism, "" for SSL.
	Mechanism string
}

// Secure returns a running secure cluster, failing (KPROD_REQUIRE_KAFKA=1) or skipping the
// test when there is none. When several run, the newest Kafka version wins.
func Secure(t testing.TB) *SecureCluster {
	t.Helper()
	cs, err := Find()
	if err != nil {
		absentSecure(t, err.Error())
		return nil
	}
	var best *Cluster
	for _, c := range cs {
		if c.security != "" && (best == nil || newer(c.Version, best.Version)) {
			best = c
		}
	}
	if best == nil {
		absentSecure(t, "no running cluster has secure listeners")
		return nil
	}
	s, err := loadSecure(best)
	if err != nil {
		t.Fatalf("secure cluster %s: %v", best.Name, err)
	}
	return s
}

func absentSecure(t testing.TB, why string) {
	t.Helper()
	absentKind(t, "real Kafka with secure listeners", why, "`scripts/kafka --cluster secure up --port 18092 --security`")
}

func loadSecure(c *Cluster) (*SecureCluster, error) {
	env, err := readEnv(c.security)
	if err != nil {
		return nil, err
	}
	if env["SECURITY_FORMAT"] != "1" {
		return nil, fmt.Errorf("%s: SECURITY_FORMAT %q, want 1 (restart it with this checkout's scripts/kafka)",
			c.security, env["SECURITY_FORMAT"])
	}
	s := &SecureCluster{Cluster: c, Env: env, EnvFile: c.security, Listeners: map[string][]string{}, Protocols: map[string]string{},
		Users: map[string]User{}, PKIDir: env["PKI_DIR"], StorePassword: env["STORE_PASSWORD"],
		KeyPassword: env["KEY_PASSWORD"], WrongHost: env["WRONGHOST_CERT_HOST"],
		OAuthAudience: env["OAUTH_AUDIENCE"], OAuthIssuer: env["OAUTH_ISSUER"], OAuthKeyID: env["OAUTH_SIGNER_KID"]}
	for _, l := range strings.Fields(env["LISTENERS"]) {
		s.Listeners[l] = strings.Split(env[l+"_BOOTSTRAP"], ",")
		s.Protocols[l] = env[l+"_PROTOCOL"]
	}
	if s.ReauthMs, err = strconv.Atoi(env["SASL_PLAINTEXT_REAUTH_MS"]); err != nil {
		return nil, fmt.Errorf("%s: SASL_PLAINTEXT_REAUTH_MS: %v", c.security, err)
	}
	for _, u := range strings.Fields(env["USERS"]) {
		k := envKey(u)
		s.Users[u] = User{Name: u, Password: env["USER_"+k+"_PASSWORD"],
			Mechanisms: strings.Split(env["USER_"+k+"_MECHANISMS"], ",")}
	}
	for _, n := range strings.Fields(env["CLIENT_CONFIGS"]) {
		k := "CLIENT_CONFIG_" + envKey(n) + "_"
		cc := ClientConfig{Name: n, File: env[k+"FILE"], Listener: env[k+"LISTENER"],
			Principal: env[k+"PRINCIPAL"], Mechanism: env[k+"MECHANISM"]}
		cc.Protocol = s.Protocols[cc.Listener]
		s.Configs = append(s.Configs, cc)
	}
	for _, need := range []string{"PLAINTEXT", "SSL", "MTLS", "SASL_PLAINTEXT", "SASL_SSL", "WRONGHOST", "OAUTH"} {
		if len(s.Listeners[need]) == 0 || s.Listeners[need][0] == "" {
			return nil, fmt.Errorf("%s lists no %s listener", c.security, need)
		}
	}
	if _, err := os.Stat(s.PKI("ca.pem")); err != nil {
		return nil, fmt.Errorf("test PKI missing: %v", err)
	}
	return s, nil
}

// readEnv reads the KEY='value' lines scripts/kafka writes (no escapes inside the quotes).
func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: not KEY=value: %q", path, n, line)
		}
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		env[k] = v
	}
	return env, sc.Err()
}

// envKey is the shell variable form of a name, as scripts/kafka-security.sh's envkey.
func envKey(name string) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(name))
}

// Listener returns the named listener's bootstrap, comma-separated ("" if there is none).
func (s *SecureCluster) Listener(name string) string { return strings.Join(s.Listeners[name], ",") }

// PKI returns the path of a file of the test PKI, e.g. PKI("alice.p12").
func (s *SecureCluster) PKI(file string) string { return filepath.Join(s.PKIDir, file) }

// Config returns the Java producer config called name, failing the test if there is none.
func (s *SecureCluster) Config(t testing.TB, name string) ClientConfig {
	t.Helper()
	for _, c := range s.Configs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("secure cluster %s has no client config %q", s.Name, name)
	return ClientConfig{}
}

// TLSConfig returns a crypto/tls configuration for an independent client (franz-go) that
// trusts the test CA and, unless user is "", presents user's certificate (alice or noacl).
func (s *SecureCluster) TLSConfig(t testing.TB, user string) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(s.PKI("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("no certificate in %s", s.PKI("ca.pem"))
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if user != "" {
		cert, err := tls.LoadX509KeyPair(s.PKI(user+".pem"), s.PKI(user+".key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}
