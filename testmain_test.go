package kprod_test

import (
	"testing"

	"github.com/kprod-io/kprod/internal/testcluster"
)

// TestMain tells, once per go test run, that tests needing real Kafka were skipped.
func TestMain(m *testing.M) { testcluster.Main(m) }
