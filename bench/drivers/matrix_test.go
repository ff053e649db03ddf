package drivers

import (
	"fmt"
	"testing"
)

// TestGoroutines runs kprod and franz-go from 4 goroutines, keyed over 4 partitions,
// in throughput and latency mode: the sink must count every record once. Run with
// -race, it also checks the tracker and the clients' forks for data races.
func TestGoroutines(t *testing.T) {
	s := startSink(t)
	for _, client := range []string{"kprod", "franz-go"} {
		for _, rate := range []int{0, 20000} {
			t.Run(fmt.Sprintf("%s/rate=%d", client, rate), func(t *testing.T) {
				o := tiny(client, s.Addr(), fmt.Sprintf("g4-%s-%d", client, rate))
				o.Goroutines, o.Keys, o.Partitions, o.Rate = 4, 100, 4, rate
				if rate > 0 {
					o.Records = 2000
				}
				runCounted(t, s, o)
			})
		}
	}
}

// TestClientSupports: the peers without an option refuse it by name, so the runner
// can skip them in the scenarios that need it.
func TestClientSupports(t *testing.T) {
	for _, set := range []func(*Options){
		func(o *Options) { o.Goroutines = 2 },
		func(o *Options) { o.Keys = 2 },
		func(o *Options) { o.TLSCA = "ca.pem" },
		func(o *Options) { o.Observe = true },
	} {
		o := tiny("sarama", "x", "t")
		set(&o)
		if o.ClientSupports() == nil || o.Validate() == nil {
			t.Fatalf("sarama accepted %+v", o)
		}
		o.Client = "kprod"
		if err := o.ClientSupports(); err != nil {
			t.Fatal(err)
		}
	}
}
