package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// TestProduceWithJavaSSLConfigs: `kprod produce --producer.config FILE` works with
// the Java client configs of the secure cluster unchanged (SSL with a JKS truststore;
// mTLS with JKS, PKCS12, PEM files and inline PEM), what it wrote read back over
// PLAINTEXT; with a config for the wrong listener it fails at once, saying why.
func TestProduceWithJavaSSLConfigs(t *testing.T) {
	s := testcluster.Secure(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// One prefixed grant for every principal of the configs (ANONYMOUS is a super user).
	prefix := fmt.Sprintf("kprod-cli-%d-", time.Now().UnixNano())
	acl := testcluster.ProducerACL("User:alice", prefix, true)
	s.Grant(t, acl)
	defer s.Revoke(t, acl)
	for _, name := range []string{"ssl", "mtls", "mtls-p12", "mtls-pem", "mtls-inline"} {
		t.Run(name, func(t *testing.T) {
			cc := s.Config(t, name)
			if cc.Principal != "User:ANONYMOUS" && cc.Principal != "User:alice" {
				t.Fatalf("config %s authenticates as %s, which has no grant here", name, cc.Principal)
			}
			topic := prefix + name
			testcluster.CreateTopic(t, cl, topic, 1, int16(s.Nodes), nil)
			testcluster.WaitTopicKnown(t, cl, topic)
			lines := topic + "-a\n" + topic + "-b\n"
			code, _, errOut := runCmd(t, lines, "produce", "--topic", topic, "--producer.config", cc.File)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			recs := consume(t, s.BootstrapServers(), topic, 2)
			if string(recs[0].Value) != topic+"-a" || string(recs[1].Value) != topic+"-b" {
				t.Fatalf("read %q, %q", recs[0].Value, recs[1].Value)
			}
		})
	}
	t.Run("wrong listener", func(t *testing.T) {
		start := time.Now()
		code, _, errOut := runCmd(t, "x\n", "produce", "--topic", "kprod-cli-wrong", "--producer.config", s.Config(t, "ssl").File,
			"--bootstrap-server", s.Listener("WRONGHOST"))
		if code == 0 || !strings.Contains(errOut, "authentication failed") || !strings.Contains(errOut, s.Listener("WRONGHOST")) {
			t.Fatalf("exit %d, stderr %q; want a failure naming the broker", code, errOut)
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("took %v: waited for max.block.ms", took)
		}
	})
}
