package testcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
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
// produced right after AclCommand returned could still be denied. Grants are counted per
// (principal, resource, pattern, operation): an ACL two running tests granted stays until
// both released it. Whatever t still holds is revoked in t.Cleanup.
func (s *SecureCluster) Grant(t testing.TB, acls ...ACL) {
	t.Helper()
	aclHolds.Lock()
	if aclHolds.byTest[t] == nil {
		t.Cleanup(func() { s.release(t, nil) })
		aclHolds.held(t)
	}
	var add []ACL
	for _, a := range acls {
		for _, op := range a.Operations {
			k := aclKeyOf(a, op)
			aclHolds.count[k]++
			aclHolds.held(t)[k]++
			if aclHolds.count[k] == 1 {
				add = append(add, a.with(op))
			}
		}
	}
	aclHolds.Unlock()
	// Added or not, every ACL asked for must be visible before the test goes on: another
	// test's grant of the same ACL may still be propagating.
	s.changeACLs(t, "--add", add)
	s.waitACLs(t, acls, true)
}

// Revoke releases t's grants of the ACLs and removes those no running test holds any more
// with AclCommand, waiting until no broker shows them. An ACL t did not grant is removed
// unless another test holds it.
func (s *SecureCluster) Revoke(t testing.TB, acls ...ACL) {
	t.Helper()
	s.release(t, acls)
}

// aclHolds counts the grants of running tests in this process.
var aclHolds = &grants{count: map[aclKey]int{}, byTest: map[testing.TB]map[aclKey]int{}}

type grants struct {
	sync.Mutex
	count  map[aclKey]int                // grants per ACL over every running test
	byTest map[testing.TB]map[aclKey]int // each test's share of count
}

type aclKey struct {
	principal, resource, name, op string
	prefixed, deny                bool
}

func aclKeyOf(a ACL, op string) aclKey {
	return aclKey{a.Principal, a.Resource, a.Name, op, a.Prefixed, a.Deny}
}

func (k aclKey) acl() ACL {
	return ACL{Principal: k.principal, Resource: k.resource, Name: k.name, Prefixed: k.prefixed,
		Operations: []string{k.op}, Deny: k.deny}
}

func (a ACL) with(op string) ACL {
	a.Operations = []string{op}
	return a
}

// held returns t's grants; aclHolds must be locked.
func (h *grants) held(t testing.TB) map[aclKey]int {
	m := h.byTest[t]
	if m == nil {
		m = map[aclKey]int{}
		h.byTest[t] = m
	}
	return m
}

// release drops t's grants of acls (all of them when acls is nil) and removes every ACL
// no test holds any more.
func (s *SecureCluster) release(t testing.TB, acls []ACL) {
	t.Helper()
	aclHolds.Lock()
	mine := aclHolds.held(t)
	var keys []aclKey
	if acls == nil {
		for k := range mine {
			keys = append(keys, k)
		}
		delete(aclHolds.byTest, t)
	} else {
		for _, a := range acls {
			for _, op := range a.Operations {
				keys = append(keys, aclKeyOf(a, op))
			}
		}
	}
	var remove []ACL
	for _, k := range keys {
		n := mine[k]
		if acls != nil {
			n = min(n, 1)
		}
		if n > 0 {
			mine[k] -= n
			if mine[k] == 0 {
				delete(mine, k)
			}
			aclHolds.count[k] -= n
		}
		if aclHolds.count[k] <= 0 {
			delete(aclHolds.count, k)
			remove = append(remove, k.acl())
		}
	}
	aclHolds.Unlock()
	if len(remove) == 0 {
		return
	}
	s.changeACLs(t, "--remove", remove)
	s.waitACLs(t, remove, false)
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
