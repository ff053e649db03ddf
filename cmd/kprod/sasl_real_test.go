package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// TestRealProduceWithJavaSASLConfigs: `kprod produce --producer.config` takes each
// SASL_PLAINTEXT and SASL_SSL producer.properties the harness wrote for Java's
// ConsoleProducer, unchanged (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER), and
// the lines arrive.
func TestRealProduceWithJavaSASLConfigs(t *testing.T) {
	s := testcluster.Secure(t)
	const prefix = "kprod-cli-sasl-"
	var acls []testcluster.ACL
	for _, cc := range s.Configs {
		acls = append(acls, testcluster.ProducerACL(cc.Principal, prefix, true))
	}
	s.Grant(t, acls...)
	admin, err := kgo.NewClient(kgo.SeedBrokers(s.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	n := 0
	for _, cc := range s.Configs {
		if cc.Mechanism == "" {
			continue // SSL: the TLS tests' business
		}
		n++
		t.Run(cc.Name, func(t *testing.T) {
			topic := fmt.Sprintf("%s%s-%d", prefix, cc.Name, time.Now().UnixNano())
			testcluster.CreateTopic(t, admin, topic, 1, int16(s.Nodes), nil)
			testcluster.WaitTopicKnown(t, admin, topic)
			code, _, errOut := runCmd(t, "one\ntwo\nthree\n", "produce", "--producer.config", cc.File, "--topic", topic)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			recs := consume(t, s.BootstrapServers(), topic, 3)
			var got []string
			for _, r := range recs {
				got = append(got, string(r.Value))
			}
			if strings.Join(got, ",") != "one,two,three" {
				t.Fatalf("read %v", got)
			}
		})
	}
	if n != 8 {
		t.Errorf("%d SASL configs, want 8", n)
	}
}

// TestRealProduceRejectedFast: a wrong password fails the command within seconds with
// the broker's explanation and without the password.
func TestRealProduceRejectedFast(t *testing.T) {
	s := testcluster.Secure(t)
	cc := s.Config(t, "sasl_plaintext-plain")
	user := s.Users["carol"]
	start := time.Now()
	code, _, errOut := runCmd(t, "x\n", "produce", "--producer.config", cc.File, "--topic", "kprod-cli-sasl-rejected",
		"--producer-property", `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="carol" password="wrong-`+user.Password+`";`)
	if code == 0 || !strings.Contains(errOut, "Invalid username or password") || strings.Contains(errOut, "wrong-"+user.Password) {
		t.Fatalf("exit %d after %v: %s", code, time.Since(start), errOut)
	}
	if took := time.Since(start); took > 30*time.Second { // a hang detector: max.block.ms is 60s
		t.Errorf("failed after %v", took)
	}
}
