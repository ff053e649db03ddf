package testcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
// (principal, resource, pattern, operation) across every test process on this machine
// (go test runs packages in parallel): an ACL stays while any running test holds it.
// Whatever t still holds is released in t.Cleanup, and an ACL nobody holds any more is
// removed, unless it was there before any counted grant (made by hand or by an older
// harness): that one is left alone.
func (s *SecureCluster) Grant(t testing.TB, acls ...ACL) {
	t.Helper()
	start := time.Now()
	scope := s.aclScope(t)
	var lockWait time.Duration
	func() {
		defer s.lockACLs(t, scope)()
		lockWait = time.Since(start)
		var add []ACL
		for _, a := range acls {
			for _, op := range a.Operations {
				one := a.with(op)
				dir := holdDir(scope, one)
				if liveHolds(dir) == 0 && !preexisting(dir) {
					if s.present(t, one) {
						markPreexisting(t, dir)
					} else {
						add = append(add, one)
					}
				}
				aclHolds.add(t, s, one, newHold(t, dir))
			}
		}
		s.changeACLs(t, "--add", add)
	}()
	// Every ACL asked for must be visible before the test goes on, including one another
	// process granted that may still be propagating.
	s.waitACLs(t, acls, true)
	if took := time.Since(start); took > slowGrant {
		// A test that bounds its work by a ctx made before Grant loses this much of it.
		t.Logf("testcluster: granting ACLs took %v, %v of it waiting for the ACL lock other test processes share",
			took.Round(time.Millisecond), lockWait.Round(time.Millisecond))
	}
}

// slowGrant is how long a Grant may take before it says so: seconds unloaded (a JVM
// for each AclCommand), 20-45s seen on a loaded machine.
const slowGrant = 5 * time.Second

// Revoke releases t's grants of the ACLs and removes those no running test holds any more
// with AclCommand, waiting until no broker shows them. An ACL t did not grant is removed
// unless someone holds it.
func (s *SecureCluster) Revoke(t testing.TB, acls ...ACL) {
	t.Helper()
	var ones []ACL
	for _, a := range acls {
		for _, op := range a.Operations {
			ones = append(ones, a.with(op))
		}
	}
	s.release(t, ones)
}

// aclHolds remembers the hold files of this process's running tests.
var aclHolds = &grants{byTest: map[testing.TB][]heldACL{}}

type grants struct {
	sync.Mutex
	byTest map[testing.TB][]heldACL
}

type heldACL struct {
	acl  ACL
	path string // the hold file
}

// add records t's hold, registering the release of all of t's holds on its first one.
func (g *grants) add(t testing.TB, s *SecureCluster, a ACL, path string) {
	g.Lock()
	defer g.Unlock()
	if _, ok := g.byTest[t]; !ok {
		t.Cleanup(func() { s.release(t, nil) })
	}
	g.byTest[t] = append(g.byTest[t], heldACL{a, path})
}

// take removes and returns t's holds of acls (one each), or all of them when acls is nil.
func (g *grants) take(t testing.TB, acls []ACL) (taken []heldACL, notHeld []ACL) {
	g.Lock()
	defer g.Unlock()
	mine := g.byTest[t]
	if acls == nil {
		delete(g.byTest, t)
		return mine, nil
	}
	for _, a := range acls {
		i := slices.IndexFunc(mine, func(h heldACL) bool { return sameACL(h.acl, a) })
		if i < 0 {
			notHeld = append(notHeld, a)
			continue
		}
		taken = append(taken, mine[i])
		mine = slices.Delete(mine, i, i+1)
	}
	g.byTest[t] = mine
	return taken, notHeld
}

func sameACL(a, b ACL) bool {
	return a.Principal == b.Principal && a.Resource == b.Resource && a.Name == b.Name &&
		a.Prefixed == b.Prefixed && a.Deny == b.Deny && slices.Equal(a.Operations, b.Operations)
}

func (a ACL) with(op string) ACL {
	a.Operations = []string{op}
	return a
}

// release drops t's holds of acls (single-operation ACLs; all of t's holds when nil) and
// removes every ACL among them no test holds any more.
func (s *SecureCluster) release(t testing.TB, acls []ACL) {
	t.Helper()
	taken, notHeld := aclHolds.take(t, acls)
	if len(taken) == 0 && len(notHeld) == 0 {
		return
	}
	var remove []ACL
	scope := s.aclScope(t)
	func() {
		defer s.lockACLs(t, scope)()
		for _, h := range taken {
			os.Remove(h.path)
			if dir := filepath.Dir(h.path); liveHolds(dir) == 0 && !preexisting(dir) {
				remove = append(remove, h.acl)
				os.Remove(dir) // empty now; a later grant makes it again
			}
		}
		for _, a := range notHeld {
			if dir := holdDir(scope, a); liveHolds(dir) == 0 && !preexisting(dir) {
				remove = append(remove, a)
			}
		}
		s.changeACLs(t, "--remove", remove)
	}()
	if len(remove) > 0 {
		s.waitACLs(t, remove, false)
	}
}

// lockACLs serialises ACL changes of every test process on this machine for this cluster.
func (s *SecureCluster) lockACLs(t testing.TB, scope string) (unlock func()) {
	t.Helper()
	return lockFile(t, filepath.Join(os.TempDir(), "kprod-kafka-"+scope+"-acl.lock"))
}

// aclScope names the cluster the hold files count grants for: its scripts/kafka name and
// its cluster id. The files in the temporary directory outlive the cluster: one started
// anew under the same name has none of the old one's ACLs, and counting the old holds
// or "preexisting" markers for it would skip a grant and wait for an ACL that never
// comes.
func (s *SecureCluster) aclScope(t testing.TB) string {
	t.Helper()
	cl, ctx, done := s.adminClient(t)
	defer done()
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil || meta.ClusterID == nil || *meta.ClusterID == "" {
		t.Fatalf("cluster %s: no cluster id from Metadata (%v)", s.Name, err)
	}
	return s.Name + "-" + *meta.ClusterID
}

// holdDir is the directory of a single-operation ACL's hold files.
func holdDir(scope string, a ACL) string {
	key := fmt.Sprintf("%s|%s|%s|%v|%v|%s", a.Principal, a.Resource, a.Name, a.Prefixed, a.Deny, a.Operations[0])
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(os.TempDir(), "kprod-kafka-"+scope+"-acl-holds", hex.EncodeToString(sum[:12]))
}

var holdSeq atomic.Int64

// newHold creates a hold file named after this process in dir.
func newHold(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.%d", os.Getpid(), holdSeq.Add(1)))
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// liveHolds counts dir's hold files of running processes, deleting those of dead ones.
func liveHolds(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pidText, _, ok := strings.Cut(e.Name(), ".")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil {
			continue // the preexisting marker
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			n++
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
	return n
}

const preexistingMarker = "preexisting"

func preexisting(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, preexistingMarker))
	return err == nil
}

func markPreexisting(t testing.TB, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, preexistingMarker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// present reports whether every broker already shows the single-operation ACL a.
func (s *SecureCluster) present(t testing.TB, a ACL) bool {
	t.Helper()
	cl, ctx, done := s.adminClient(t)
	defer done()
	return s.aclsPending(ctx, cl, []ACL{a}, true) == ""
}

// adminClient is a client on the PLAINTEXT side (a super user) for one 30-second query.
func (s *SecureCluster) adminClient(t testing.TB) (*kgo.Client, context.Context, func()) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	return cl, ctx, func() { cancel(); cl.Close() }
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
