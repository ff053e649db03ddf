package byname_test

import (
	"strings"
	"testing"

	"github.com/kprod-io/kprod/serde/byname"
)

// Java properties whose effect kprod does not implement must fail at
// construction naming them (issue 12: "works unchanged, or fails at construction
// naming what is missing"), not be dropped silently: with proxy.host Java goes
// through the proxy, with use.latest.with.metadata it writes a different id.
func TestUnimplementedJavaPropertiesFail(t *testing.T) {
	for prop, val := range map[string]string{
		"proxy.host":               "proxy.internal",
		"use.latest.with.metadata": "app=v2",
		"context.name.strategy":    "com.example.MyContextStrategy",
	} {
		props := map[string]string{
			"value.serializer":      byname.AvroSerializer,
			"schema.registry.url":   "http://127.0.0.1:1",
			"auto.register.schemas": "false",
			prop:                    val,
		}
		s, err := byname.Value[string](props)
		if err == nil {
			s.Close()
			t.Errorf("%s=%s accepted and ignored", prop, val)
		} else if !strings.Contains(err.Error(), prop) {
			t.Errorf("%s=%s: error does not name it: %v", prop, val, err)
		}
	}
}
