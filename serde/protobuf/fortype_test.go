package protobuf

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/kprod-io/kprod/serde/protobuf/internal/testpb"
)

func TestFromPropertiesFor(t *testing.T) {
	_, url := newHTTPRegistry(t)
	props := map[string]string{"schema.registry.url": url}
	if _, err := FromPropertiesFor[string](props, false); err == nil || !strings.Contains(err.Error(), "not string") {
		t.Fatalf("string: %v", err)
	}
	if _, err := FromPropertiesFor[testpb.Customer](props, false); err == nil {
		t.Fatal("non-pointer message type accepted")
	}
	u, err := FromPropertiesFor[*testpb.Customer](props, false)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	c := &testpb.Customer{Id: 3}
	b, err := u.Serialize("t", c)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := proto.Marshal(c)
	if !bytes.Equal(b[5:], append([]byte{0}, body...)) {
		t.Fatalf("% x", b)
	}
	if b, err := u.Serialize("t", nil); b != nil || err != nil {
		t.Fatalf("nil: %v %v", b, err)
	}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(50, func() { buf, _ = u.AppendSerialize(buf[:0], "t", c) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	a, err := FromPropertiesFor[proto.Message](props, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if b, err := a.Serialize("t", nil); b != nil || err != nil {
		t.Fatalf("nil interface: %v %v", b, err)
	}
}

// A bad property fails at construction, naming it.
func TestFromPropertiesBadValue(t *testing.T) {
	_, err := FromProperties[*testpb.Customer](map[string]string{"schema.registry.url": "http://x", "skip.known.types": "maybe"}, false)
	if err == nil || !strings.Contains(err.Error(), "skip.known.types") {
		t.Fatalf("skip.known.types=maybe: %v", err)
	}
	_, err = FromProperties[*testpb.Customer](map[string]string{"schema.registry.url": "http://x", "auto.register.schemas": "perhaps"}, false)
	if err == nil || !strings.Contains(err.Error(), "auto.register.schemas") {
		t.Fatalf("auto.register.schemas=perhaps: %v", err)
	}
	_, err = DynamicFromProperties(map[string]string{"schema.registry.url": "http://x"}, false, "not proto", DynamicOptions{})
	if err == nil || !strings.Contains(err.Error(), "compiling") {
		t.Fatalf("bad text: %v", err)
	}
}
