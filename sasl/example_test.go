package sasl_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/kprod-io/kprod"
	"github.com/kprod-io/kprod/sasl"
)

// SCRAM-SHA-512 over SASL_PLAINTEXT, the typed way. A properties file says the same with
// security.protocol=SASL_PLAINTEXT, sasl.mechanism=SCRAM-SHA-512 and
// sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required
// username="alice" password="alice-secret";
func ExampleScramSHA512() {
	cfg := kprod.Config{
		BootstrapServers: []string{"localhost:9094"},
		SecurityProtocol: kprod.SecuritySASLPlaintext,
		SASL:             sasl.ScramSHA512("alice", "alice-secret"),
	}
	fmt.Printf("%v\n", cfg.SASL) // mechanisms never print their secrets
	// Output: SCRAM-SHA-512(user=alice)
}

// PLAIN sends the password as is: use it over TLS (SASL_SSL) or a trusted network.
func ExamplePlain() {
	cfg := kprod.Config{
		BootstrapServers: []string{"localhost:9094"},
		SecurityProtocol: kprod.SecuritySASLPlaintext,
		SASL:             sasl.Plain("carol", "carol-secret"),
	}
	p, err := kprod.NewProducer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(context.Background())
}

// OAUTHBEARER with tokens from an OAuth provider's token endpoint, client credentials
// grant (KIP-768), as Java's OAuthBearerLoginCallbackHandler gets them. Tokens are
// cached and replaced at 80% of their lifetime (sasl.login.refresh.*).
func ExampleClientCredentials() {
	tokens := sasl.ClientCredentials(sasl.ClientCredentialsConfig{
		TokenURL:     "https://login.example.com/oauth2/token",
		ClientID:     "orders-service",
		ClientSecret: "client-secret",
		Scope:        "kafka",
	})
	cfg := kprod.Config{
		BootstrapServers: []string{"localhost:9094"},
		SecurityProtocol: kprod.SecuritySASLPlaintext,
		SASL:             sasl.OAuthBearer(tokens),
	}
	_ = cfg
}

// Unsigned tokens for a broker with the unsecured validator (tests, development), as
// OAuthBearerLoginModule makes them from unsecuredLoginStringClaim_sub="alice".
func ExampleUnsecuredToken() {
	src := sasl.UnsecuredToken(sasl.UnsecuredTokenConfig{
		StringClaims: map[string]string{"sub": "alice"},
		Lifetime:     time.Hour,
	})
	_ = kprod.Config{SecurityProtocol: kprod.SecuritySASLPlaintext, SASL: sasl.OAuthBearer(src)}
}

// A token obtained elsewhere; a TokenSourceFunc may fetch one per connection instead.
func ExampleStaticToken() {
	src := sasl.StaticToken(sasl.Token{Value: "eyJhbGciOi...", Expiry: time.Now().Add(time.Hour)})
	_ = sasl.OAuthBearer(src)
}

// iamMechanism sketches a custom mechanism in the style of AWS MSK IAM: the client's
// single message is a JSON document signed with the caller's credentials, and the broker
// answers with a JSON document once it accepted it. (A real one signs with AWS SigV4;
// this only shows the shape: an HMAC stands in for the signature.)
type iamMechanism struct {
	accessKey, secretKey string
}

func (iamMechanism) Name() string { return "AWS_MSK_IAM" }

func (m iamMechanism) Authenticate(_ context.Context, broker string) (sasl.Session, []byte, error) {
	now := time.Now().UTC().Format("20060102T150405Z")
	mac := hmac.New(sha256.New, []byte(m.secretKey))
	mac.Write([]byte(broker + now))
	msg, err := json.Marshal(map[string]string{
		"version": "2020_10_22", "host": broker, "action": "kafka-cluster:Connect",
		"x-amz-credential": m.accessKey, "x-amz-date": now,
		"x-amz-signature": hex.EncodeToString(mac.Sum(nil)),
	})
	return iamSession{}, msg, err
}

// iamSession accepts the broker's one answer.
type iamSession struct{}

func (iamSession) Challenge(_ context.Context, serverMessage []byte) (bool, []byte, error) {
	var resp struct {
		Version   string `json:"version"`
		RequestID string `json:"request-id"`
	}
	if err := json.Unmarshal(serverMessage, &resp); err != nil {
		return true, nil, fmt.Errorf("unexpected broker answer: %w", err)
	}
	return true, nil, nil
}

// A custom mechanism: anything implementing Name and Authenticate. Connections
// re-authenticate with a new Session before the broker's session lifetime ends.
func Example_customMechanism() {
	cfg := kprod.Config{
		BootstrapServers: []string{"b-1.example.kafka.us-east-1.amazonaws.com:9098"},
		SecurityProtocol: kprod.SecuritySASLPlaintext, // SASL_SSL in real life, once supported
		SASL:             iamMechanism{accessKey: "AKIA...", secretKey: "..."},
	}
	fmt.Println(cfg.SASL.Name())
	// Output: AWS_MSK_IAM
}
