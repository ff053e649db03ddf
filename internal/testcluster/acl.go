package testcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ACL is one access rule, written as Java's AclCommand takes it.
type ACL struct {
	// Principal is who it is for, e.g. "User:alice".
	Principal string
	// Resource is "topic", "group", "transactional-id" or "cluster".
	Resource string
	// Name is the resource's name, or its prefix when Prefixed; ignored for "cluster".
	Name     string
	Prefixed bool
	// Operations are AclCommand operation names: Write, Read, Describe, Create,
	// IdempotentWrite, DescribeConfigs, All, ...
	Operations []string
	// Deny makes it a deny rule (deny wins over allow).
	Deny bool
}

// ProducerACL is what `AclCommand --producer --topic NAME` grants: Write, Describe and Create
// on the topic (or every topic starting with NAME when prefixed). Since Kafka 3.0 Write on a
// topic also allows an idempotent InitProducerId (KIP-679).
func ProducerACL(principal, topic string, prefixed bool) ACL {
	return ACL{Principal: principal, Resource: "topic", Name: topic, Prefixed: prefixed,
		Operations: []string{"Write", "Describe", "Create"}}
}

// TransactionalACL is what a transactional producer needs on its transactional.id beside
// ProducerACL on its topics: Write and Describe.
func TransactionalACL(principal, transactionalID string) ACL {
	return ACL{Principal: principal, Resource: "transactional-id", Name: transactionalID,
		Operations: []string{"Write", "Describe"}}
}

// Grant adds the ACLs with Java's AclCommand over PLAINTEXT, then waits until every broker's
// authorizer shows all of them: ACLs travel through the metadata log, so a test that
// produced right after AclCommand returned could still be denied.
func (s *SecureCluster) Grant(t testing.TB, acls ...ACL) {
	t.Helper()
	s.changeACLs(t, "--add", acls)
}

// Revoke removes the ACLs with AclCommand and waits until no broker shows any of them.
func (s *SecureCluster) Revoke(t testing.TB, acls ...ACL) {
	t.Helper()
	s.changeACLs(t, "--remove", acls)
}

func (s *SecureCluster) changeACLs(t testing.TB, action string, acls []ACL) {
	t.Helper()
	for _, a := range acls {
		args := []string{"--bootstrap-server", s.BootstrapServers(), action, "--force"}
		if a.Deny {
			args = append(args, "--deny-principal", a.Principal)
		} else {
			args = append(args, "--allow-principal", a.Principal)
		}
		for _, op := range a.Operations {
			args = append(args, "--operation", op)
		}
		switch a.Resource {
		case "cluster":
			args = append(args, "--cluster")
		case "topic", "group", "transactional-id":
			args = append(args, "--"+a.Resource, a.Name)
		default:
			t.Fatalf("ACL resource %q: want topic, group, transactional-id or cluster", a.Resource)
		}
		pattern := "literal"
		if a.Prefixed {
			pattern = "prefixed"
		}
		args = append(args, "--resource-pattern-type", pattern)
		if _, _, err := s.Java("", "AclCommand", args...); err != nil {
			t.Fatalf("AclCommand %s: %v", strings.Join(args, " "), err)
		}
	}
	s.waitACLs(t, acls, action == "--add")
}

// waitACLs polls DescribeAcls on every broker until each ACL's operations are all there
// (present) or none is (!present). There is no notification to wait on instead.
func (s *SecureCluster) waitACLs(t testing.TB, acls []ACL, present bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last string
	for {
		if last = s.aclsPending(ctx, cl, acls, present); last == "" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ACLs not applied within 60s: %s", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// aclsPending returns what is not yet as wanted, "" when everything is.
func (s *SecureCluster) aclsPending(ctx context.Context, cl *kgo.Client, acls []ACL, present bool) string {
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		return "metadata: " + err.Error()
	}
	for _, b := range meta.Brokers {
		for _, a := range acls {
			req, err := describeFilter(a)
			if err != nil {
				return err.Error()
			}
			kr, err := cl.Broker(int(b.NodeID)).Request(ctx, req)
			if err != nil {
				return fmt.Sprintf("DescribeAcls on broker %d: %v", b.NodeID, err)
			}
			resp := kr.(*kmsg.DescribeACLsResponse)
			if resp.ErrorCode != 0 {
				return fmt.Sprintf("DescribeAcls on broker %d: error code %d", b.NodeID, resp.ErrorCode)
			}
			var have []kmsg.ACLOperation
			for _, r := range resp.Resources {
				for _, e := range r.ACLs {
					have = append(have, e.Operation)
				}
			}
			for _, name := range a.Operations {
				op, _ := kmsg.ParseACLOperation(name)
				if slices.Contains(have, op) != present {
					return fmt.Sprintf("broker %d: %s %s on %s %q: present=%v, want %v",
						b.NodeID, a.Principal, name, a.Resource, a.Name, !present, present)
				}
			}
		}
	}
	return ""
}

func describeFilter(a ACL) (*kmsg.DescribeACLsRequest, error) {
	req := kmsg.NewPtrDescribeACLsRequest()
	name := a.Name
	switch a.Resource {
	case "topic":
		req.ResourceType = kmsg.ACLResourceTypeTopic
	case "group":
		req.ResourceType = kmsg.ACLResourceTypeGroup
	case "transactional-id":
		req.ResourceType = kmsg.ACLResourceTypeTransactionalId
	case "cluster":
		req.ResourceType, name = kmsg.ACLResourceTypeCluster, "kafka-cluster"
	}
	req.ResourceName = kmsg.StringPtr(name)
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
	if a.Prefixed {
		req.ResourcePatternType = kmsg.ACLResourcePatternTypePrefixed
	}
	req.Principal = kmsg.StringPtr(a.Principal)
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAllow
	if a.Deny {
		req.PermissionType = kmsg.ACLPermissionTypeDeny
	}
	for _, name := range a.Operations {
		if _, err := kmsg.ParseACLOperation(name); err != nil {
			return nil, fmt.Errorf("ACL operation %q: %v", name, err)
		}
	}
	return req, nil
}
